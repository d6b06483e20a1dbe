import adcMaxWgsl from '../../shaders/adc-max.wgsl?raw';
import type { ConvGeometry } from '../ir/geometry.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage } from '../gpu/buffers.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid, type Recorder } from './dispatch.ts';
import { inputBits, packedPlanes, packedRowBytes, planeDigits, wordLayout } from './bitplane.ts';
import { ceilDiv, checkParam } from './template.ts';
import type { GpuCrossbarLayer } from './xbar.ts';

/*
 * Calibration's ADC range at exact levels (issue 16 item 6). The crossbar kernel's TRACE mode runs the
 * whole VMM loop nest (quantize, bit-pack, every pass, block, cycle and plane, one output per vector
 * and column, read back and reduced on the host) to find one number per matrix; this family forms the
 * same integer sums in one dispatch from the layer's f32 input (a conv's NCHW input read through
 * im2col's index map) and reduces them on the GPU, so the result is the trace's maximum bit for bit.
 */

/** Everything baked into the WGSL (the cache key): the entry point, digit bits and plane count, input bits per cycle and cycles, conv or rows. */
export type AdcMaxVariant = {
  entry: 'pack' | 'reduce';
  npl: number;
  wbits: number;
  inBits: number;
  /** Input bits driven per conversion: dacBits, or all of them when the dataflow collapses the cycles. */
  cycleBits: number;
  /** Input cycles with their own conversions: T, or 1 when collapsed. */
  cycles: number;
  conv: boolean;
};

/** Workgroup size (one family, no tiling variants: calibration runs once per config). */
const WG = 64;

export const ADC_MAX = defineKernel({
  name: 'adc-max',
  uniforms: {
    count: 'u32', stride: 'u32', row0: 'u32', x_shift: 'u32',
    K: 'u32', N: 'u32', N4: 'u32', blockRows: 'u32',
    nBlocks: 'u32', blockWords: 'u32', wordsTotal: 'u32', eOff: 'u32',
    invSx: 'f32', Qx: 'f32', exDG: 'f32', exOff: 'f32', invVm: 'f32', bound: 'f32',
    plane: 'u32', OW: 'u32', H: 'u32', W: 'u32', cin: 'u32', chan0: 'u32',
    kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'i32', pl: 'i32',
  },
  bindings: {
    /** The layer's f32 input: rows [.., K], or the conv's NCHW input [B, cin, H, W]. */
    X: read('f32'),
    /** Both passes' input bit planes of a chunk of vectors [rows, 2, inBits, wordsTotal]. */
    bits: readWrite('u32'),
    /** [rows] non-zero where a vector of the chunk has a negative input (start at 0). */
    negs: readWrite('atomic<u32>'),
    /** The bit-plane variant's packed digit planes [wordsTotal, NPL, WBITS, N4] (vec4 of u32 bits). */
    R: read('vec4<f32>'),
    /** [1] the f32 maximum's bits (start at 0). */
    hi: readWrite('atomic<u32>'),
  },
  compile(v: AdcMaxVariant) {
    checkParam('npl', v.npl, 1, 64);
    checkParam('wbits', v.wbits, 1, 31);
    checkParam('inBits', v.inBits, 1, 32);
    checkParam('cycles', v.cycles, 1, 32);
    if (v.cycles * v.cycleBits !== v.inBits) throw new Error(`adc-max: ${v.cycles} cycles of ${v.cycleBits} bits must drive all ${v.inBits} input bits`);
    return {
      body: adcMaxWgsl,
      entry: v.entry,
      uses: v.entry === 'pack' ? ['X', 'bits', 'negs'] : ['bits', 'negs', 'R', 'hi'],
      consts: { NPL: v.npl, WBITS: v.wbits, INBITS: v.inBits, CB: v.cycleBits, TC: v.cycles, COLLAPSED: v.cycles === 1, CONV: v.conv, WG },
    };
  },
});

/**
 * Why a crossbar layer's calibrated range cannot come from this family (null when it can): its levels
 * must be exact (the integer sums) and each conversion a single cycle's current (NNS+A's chains and the
 * IR-drop approximation accumulate f32 currents over cycles: the trace keeps those).
 */
export function adcMaxGap(xl: GpuCrossbarLayer): string | null {
  if (xl.exactReason !== null) return xl.exactReason;
  if (xl.cfg.analog.model === 'neural' && xl.cfg.dataflow !== 'digital-sa') return 'analog.model "neural"';
  return null;
}

/**
 * A factor c with |I| < c·U for every current I = (D·exDG + U·exOff)·invVm the kernel computes in f32
 * from integers |D| ≤ eMax·U: the f64 bound on the f32-rounded constants, widened by 2^-16 (far past
 * the few f32 roundings between the integers and I, and the product c·U) and rounded up to f32.
 */
export function currentBound(eMax: number, exDG: number, exOff: number, invVm: number): number {
  const f = Math.fround;
  const c = (eMax * Math.abs(f(exDG)) + Math.abs(f(exOff))) * f(invVm) * (1 + 2 ** -16);
  const r = f(c);
  return r >= c ? r : f(c * (1 + 2 ** -23));
}

/** Where one run's vectors come from: rows [n, K] of a buffer, or im2col rows of group `group` of a conv's NCHW input (B samples). */
export type AdcMaxInput = { kind: 'rows'; buf: GPUBuffer } | { kind: 'conv'; buf: GPUBuffer; geom: ConvGeometry; B: number; group: number };

/** One matrix's calibrated-range kernel: its packed planes, uploaded once. */
export class GpuAdcMax {
  private readonly planes: GPUBuffer;
  /** Whether the planes are this object's (else the crossbar layer's, which frees them). */
  private readonly own: boolean;

  private constructor(
    private readonly s: GpuSession,
    private readonly xl: GpuCrossbarLayer,
  ) {
    const g = xl.layer.geom;
    const shared = xl.wholePackedPlanes();
    this.own = shared === null;
    this.planes = shared ?? uploadStorage(s.ctx.device, packedPlanes(xl.layer, xl.layout, { col4: 0, n4: ceilDiv(g.N, 4), ncols: g.N }, xl.cfg.array.rows), 'adcMax.planes');
  }

  /** The kernel for `xl`, or null where adcMaxGap says no or its planes exceed one binding. */
  static create(s: GpuSession, xl: GpuCrossbarLayer): GpuAdcMax | null {
    if (adcMaxGap(xl) !== null) return null;
    const g = xl.layer.geom;
    const bytes = 16 * wordLayout(g, xl.cfg.array.rows).wordsTotal * xl.layout.npl * planeDigits(g, xl.layout.mode).wbits * ceilDiv(g.N, 4);
    if (bytes > Math.min(s.ctx.limits.maxStorageBufferBindingSize, s.ctx.limits.maxBufferSize)) return null;
    return new GpuAdcMax(s, xl);
  }

  private variant(entry: AdcMaxVariant['entry'], conv: boolean): AdcMaxVariant {
    const g = this.xl.layer.geom;
    const collapsed = this.xl.layout.collapsed;
    const inBits = inputBits(g);
    return { entry, npl: this.xl.layout.npl, wbits: planeDigits(g, this.xl.layout.mode).wbits, inBits, cycleBits: collapsed ? inBits : g.b, cycles: collapsed ? 1 : g.T, conv: entry === 'pack' && conv };
  }

  /**
   * Records the largest |ADC input| of the noise-free chip over `n` input vectors quantized with
   * `sxq` into `hi` (a zeroed u32 whose bits become the f32 maximum; atomicMax, so several runs may
   * share it). Vectors go in chunks whose bit planes fit one binding and one grid.
   */
  encode(rec: Recorder, input: AdcMaxInput, n: number, sxq: number, hi: GPUBuffer): void {
    if (n === 0) return;
    const s = this.s;
    const { device } = s.ctx;
    const g = this.xl.layer.geom;
    const cfg = this.xl.cfg;
    const N4 = ceilDiv(g.N, 4);
    const words = wordLayout(g, cfg.array.rows);
    const d = planeDigits(g, this.xl.layout.mode);
    const conv = input.kind === 'conv' ? input.geom : null;
    const xBytes = input.kind === 'conv' ? input.B * input.geom.inShape[0] * input.geom.inShape[1] * input.geom.inShape[2] * 4 : n * g.K * 4;
    const X = binding(s, input.buf, xBytes);
    const [, H, W] = conv?.inShape ?? [0, 0, 0];
    const [, OH, OW] = conv?.outShape ?? [0, 0, 0];
    const rowBytes = packedRowBytes(g, cfg.array.rows);
    const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
    const chunk = Math.max(1, Math.min(n, Math.floor(s.ctx.limits.maxStorageBufferBindingSize / rowBytes), maxDim * WG));
    const bits = rec.temp(device.createBuffer({ size: Math.max(16, chunk * rowBytes), usage: GPUBufferUsage.STORAGE, label: 'adcMax.bits' }));
    const negs = rec.temp(device.createBuffer({ size: Math.max(16, chunk * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'adcMax.negs' }));
    const common = {
      stride: 0, x_shift: 0,
      K: g.K, N: g.N, N4, blockRows: cfg.array.rows,
      nBlocks: g.blocks.length, blockWords: words.blockWords, wordsTotal: words.wordsTotal, eOff: d.eOff,
      invSx: 1 / sxq, Qx: g.Qx, exDG: d.exDG, exOff: d.exOff, invVm: 1 / g.Vm, bound: currentBound(d.eMax, d.exDG, d.exOff, 1 / g.Vm),
      plane: OH * OW, OW, H, W, cin: conv?.cin ?? 0, chan0: input.kind === 'conv' ? (input.group * input.geom.cin) / input.geom.group : 0,
      kh: conv?.kh ?? 1, kw: conv?.kw ?? 1, sh: conv?.strides[0] ?? 1, sw: conv?.strides[1] ?? 1,
      dh: conv?.dilations[0] ?? 1, dw: conv?.dilations[1] ?? 1, pt: conv?.pads[0] ?? 0, pl: conv?.pads[1] ?? 0,
    };
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const rows = Math.min(chunk, n - r0);
      const bitsBinding = binding(s, bits, rows * rowBytes);
      const negsBinding = binding(s, negs, rows * 4);
      rec.encoder.clearBuffer(negs);
      const packGrid = linearGrid(s, rows * words.wordsTotal, WG);
      dispatch(s, rec, ADC_MAX, this.variant('pack', conv !== null), {
        params: { ...common, count: rows * words.wordsTotal, stride: packGrid.stride, row0: r0 },
        bind: { X, bits: bitsBinding, negs: negsBinding },
        grid: packGrid,
      });
      dispatch(s, rec, ADC_MAX, this.variant('reduce', conv !== null), {
        params: { ...common, count: rows, row0: r0 },
        bind: { bits: bitsBinding, negs: negsBinding, R: this.planes, hi },
        grid: { x: ceilDiv(rows, WG), y: N4 },
      });
    }
  }

  destroy(): void {
    if (this.own) this.planes.destroy();
  }
}
