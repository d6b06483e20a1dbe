import xbarWgsl from '../../shaders/xbar.wgsl?raw';
import xbarRegistersWgsl from '../../shaders/xbar-registers.wgsl?raw';
import xbarUnstagedWgsl from '../../shaders/xbar-unstaged.wgsl?raw';
import xbarSharedWgsl from '../../shaders/xbar-shared.wgsl?raw';
import xbarBitplaneWgsl from '../../shaders/xbar-bitplane.wgsl?raw';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import int64Wgsl from '../../shaders/int64.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import { SHARED_BYTES_PER_ELEMENT } from '../gpu/tuning.ts';
import { COUNTER_LAYOUT_WGSL } from '../random/philox.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { checkParam } from './template.ts';

/** Compile-time shape of a crossbar kernel: everything baked into its WGSL. */
export type XbarVariant = {
  /** Input vectors per invocation. */
  tm: number;
  wgx: number;
  wgy: number;
  /** Conductance planes, and how many share one decode of the input bits (divides npl). */
  npl: number;
  pc: number;
  /** Input cycles run in the kernel (1 when collapsed). */
  cycles: number;
  signed: boolean;
  /** Inputs drive u/Vm once instead of bit-serial cycles (buffered, analog-sa). */
  collapsed: boolean;
  /** Record max |ADC input| instead of converting (calibration). */
  trace: boolean;
  /** Input rows staged per workgroup in shared memory (the shared variant, real GPUs); 0 = register-only variant (CPU drivers). */
  kt: number;
  /** Per-read noise of DESIGN.md section 4 compiled in. */
  read: 'none' | 'additive' | 'proportional';
  /** The proportional path's planes hold a device model's σ² and draw from stream deviceRead. */
  deviceRead: boolean;
  /** circuit.model "approx": aihwkit's IR-drop approximation per physical column, horizontal partition and input cycle. */
  approx: boolean;
  /** The approximation on difference planes: R holds both polarities of each plane (2·npl cell planes), each dropped on its own line. */
  pairs: boolean;
  gain: boolean;
  analogNoise: boolean;
  adcNoise: boolean;
  /** Per-instance transfer tables (adc.model nonlinear, nonuniform, neural: src/readout) instead of the uniform ADC. */
  adcTable: boolean;
  /** The near-memory fixed-point unit in the epilogue (src/readout/digital.ts): its rounding, or 'none' (f32). */
  digital: 'none' | 'half-even' | 'half-up' | 'floor' | 'truncate';
  /** The unit's ReLU and saturation (else wrap-around). */
  digitalRelu: boolean;
  digitalSaturate: boolean;
  /** The unit in exact 64-bit integer arithmetic (a format wider than f32's 24 bits, shaders/int64.wgsl). */
  digitalExact: boolean;
  /** NNS+A (analog.model "neural", src/readout/neural-sa.ts): collapsed, but the layer's T cycles (a uniform) run bit-serially, accumulated with per-chip coefficients. */
  nsa: boolean;
  /** analog-sa's slice chain after the cycle chains (one conversion per column): NNS+A's, or the approximation's with unit coefficients. */
  nsaSlices: boolean;
  /** Conductances at exact levels: column currents from integer sums of inputs times plane digits (src/kernels/bitplane.ts). */
  exact: boolean;
  /** The bit-plane variant (exact only): those sums 32 rows per AND + countOneBits; wbits digit bit planes per plane (0 otherwise). */
  bitplane: boolean;
  wbits: number;
  /** Exact sums below 2^24: the general variants sum them with f32 multiply-adds (exact there) instead of i32. */
  exactF32: boolean;
  /** An ideal ADC without per-read noise at exact levels (src/kernels/bitplane.ts idealGap): each row block's output is its integer sum of plane dots times their integer weights. */
  ideal: boolean;
};

/**
 * Whether a variant reads its inputs decoded (each pass's magnitudes as f32, shaders/quantize.wgsl
 * DECODE) instead of xq: the general exact variant with f32 sums on a collapsed dataflow that drives
 * every input bit at once, where the magnitude is the whole cycle's input.
 */
export function exactDecoded(v: XbarVariant): boolean {
  const serial = v.nsa || (v.approx && v.collapsed);
  return v.exact && v.exactF32 && !v.bitplane && v.collapsed && !serial;
}

/** Each variant's whole body: the shared loop nest, then the variant's input staging and entry point. */
const REGISTERS_BODY = `${xbarWgsl}\n\n${xbarUnstagedWgsl}\n\n${xbarRegistersWgsl}`;
const SHARED_BODY = `${xbarWgsl}\n\n${xbarSharedWgsl}`;
const BITPLANE_BODY = `${xbarWgsl}\n\n${xbarUnstagedWgsl}\n\n${xbarBitplaneWgsl}`;

/** The crossbar VMM of DESIGN.md sections 3 and 4 for one column slice of a layer (shaders/xbar.wgsl). */
export const XBAR = defineKernel({
  name: 'xbar',
  uniforms: {
    K: 'u32',
    /** Columns of the whole layer: Y's row length and the last valid column. */
    N: 'u32',
    /** vec4 columns of this slice (planes, ep and gains hold only the slice). */
    N4: 'u32',
    col4Offset: 'u32',
    /** 2·ceil(N/4): column pairs of the whole layer, the per-read counter's plane stride. */
    pairs: 'u32',
    /** Input vectors in this dispatch, the first of them in the quantized inputs and flags, and in the whole input set (keys the per-read noise). */
    rows: 'u32',
    rowStart: 'u32',
    rowOffset: 'u32',
    /** Element of Y's binding where this dispatch's first row starts. */
    outBase: 'u32',
    blockRows: 'u32',
    nBlocks: 'u32',
    adcBits: 'u32',
    dacBits: 'u32',
    seed: 'u32',
    chip: 'u32',
    layer: 'u32',
    /** Input cycles T (the kernel runs one when collapsed). */
    Tfull: 'u32',
    /** sx times any drift compensation. */
    outScale: 'f32',
    /** 1 / (2^dacBits − 1). */
    invVm: 'f32',
    /** Gmin for digital subtraction of the Gmin·ΣV offset, else 0. */
    gminSub: 'f32',
    /** Qw for the offset mapping's digital correction, else 0. */
    offsetQw: 'f32',
    /** noise.read.sigma². */
    readVar: 'f32',
    /** adc.noise in LSB, and analog.noise relative to hi. */
    adcNoise: 'f32',
    analogNoise: 'f32',
    /** 1 to add the bias, 0 to leave it out (drift compensation measures without it). */
    biasScale: 'f32',
    /** ADC transfer tables: breakpoints per instance (padded), instances per row block, channels per instance, all instances, and where the values start. */
    adcM: 'u32',
    adcGroups: 'u32',
    adcGroupSize: 'u32',
    adcInst: 'u32',
    adcVBase: 'u32',
    /** The tables' cell index (src/readout/tables.ts CellIndex): start, cells per instance, 2^−shift, origin, compares after the read. */
    adcCellBase: 'u32',
    adcCells: 'u32',
    adcCellScale: 'f32',
    adcCellOrigin: 'i32',
    adcCorr: 'u32',
    /** 1 when every value is adcCountBase + segment (counting converters: no value read). */
    adcCounting: 'u32',
    adcCountBase: 'f32',
    /** Digital unit: 2^−e, the output code range, the output LSB. */
    digShift: 'f32',
    digLo: 'f32',
    digHi: 'f32',
    digOut: 'f32',
    /** Exact unit: −fs − e + Fb (the product's shift before the accumulator's exponent) and Fb = offset frac bits + 1. */
    digSh: 'i32',
    digFb: 'u32',
    /** NNS+A: cellBits (the slice shift), where the slice coefficients start, Σ_s 2·4^(s·c) (analog-sa's variance factor), Vm/ΔG. */
    cellBits: 'u32',
    nsaSliceBase: 'u32',
    nsaVar: 'f32',
    nsaVmDg: 'f32',
    /** Where the NNS+A coefficients start in adcT, and the digital unit's [N] scales m_j then [N] offsets o_j in consts. */
    nsaBase: 'u32',
    digBase: 'u32',
    /** Rows of each horizontal partition (array.partitions.rows), and circuit.rCol·Gmax (approx only). */
    partRows: 'u32',
    rColNorm: 'f32',
    /** EXACT: input bit planes T·b, ΔG and the plane offset (Gmin for cells, else 0) of a current; the bit planes' digit offset and 32-row words per row block and in all. */
    inBits: 'u32',
    exDG: 'f32',
    exOff: 'f32',
    eOff: 'u32',
    blockWords: 'u32',
    wordsTotal: 'u32',
    /** Where the exact input sums start in rowStats, and the cycles summed apart (then Σ u). */
    sumBase: 'u32',
    sumCycles: 'u32',
  },
  bindings: {
    /** [.., K] signed quantized inputs, and per vector 1 if it needs the X⁻ pass. */
    xq: read('i32'),
    negFlags: read('u32'),
    /** [K, NPL, N4] conductance planes. */
    R: read('vec4<f32>'),
    /** [NPL plane weights, NPL variance factors, nBlocks ranges]. */
    consts: read('f32'),
    /** [N4] weight scales, [N4] bias. */
    ep: read('vec4<f32>'),
    /** [K, NPL, N4] read-noise variance planes (proportional). */
    Q: read('vec4<f32>'),
    /** [nBlocks, N4] 1 + analog gain error. */
    gains: read('vec4<f32>'),
    /** [rows, N] outputs. */
    Y: readWrite('f32'),
    /** Row statistics (shaders/row-stats.wgsl): [.., 2, nBlocks, TK] Σ V² as f32 bits (additive read noise), then from sumBase [.., 2, nBlocks, sumCycles + 1] integer input sums (exact levels). */
    rowStats: read('u32'),
    /**
     * The chip's readout tables, one binding (SwiftShader allows 10 storage buffers per stage): the ADC's
     * [adcInst, adcM] breakpoints (LSB, increasing, padded with f32 max), then [adcInst, adcM + 1]
     * segment values (LSB); from nsaBase, the NNS+A chain coefficients: cycles [nBlocks, S, N, T],
     * then slices [nBlocks, N, S].
     */
    adcT: read('f32'),
  },
  includes: [philoxWgsl, COUNTER_LAYOUT_WGSL, int64Wgsl],
  compile(v: XbarVariant, limits: GpuLimits) {
    checkParam('tm', v.tm, 1, 8);
    checkParam('wgx', v.wgx, 1, 256, true);
    checkParam('wgy', v.wgy, 1, 256, true);
    checkParam('npl', v.npl, 1, 64);
    checkParam('pc', v.pc, 1, 8);
    checkParam('cycles', v.cycles, 1, 16);
    checkParam('kt', v.kt, 0, 64);
    const tileBytes = v.kt * v.wgy * v.tm * (v.read === 'proportional' ? SHARED_BYTES_PER_ELEMENT : 4);
    const wgMemory = limits.maxComputeWorkgroupStorageSize;
    if (tileBytes > wgMemory) throw new Error(`xbar: shared tile of ${v.kt}x${v.wgy * v.tm} exceeds ${wgMemory / 1024} KiB of workgroup memory`);
    if (v.npl % v.pc !== 0) throw new Error(`xbar: pc=${v.pc} must divide npl=${v.npl}`);
    if (v.collapsed && v.cycles !== 1) throw new Error('xbar: a collapsed variant runs one cycle');
    if (v.nsa && !v.collapsed) throw new Error('xbar: NNS+A accumulates in analog (buffered, analog-sa)');
    const serial = v.nsa || (v.approx && v.collapsed);
    if (v.nsaSlices && !serial) throw new Error('xbar: the analog-sa slice chain needs bit-serial cycles (nsa or approx)');
    if (v.nsaSlices && !v.nsa && v.read === 'proportional') throw new Error("xbar: the approximation's analog-sa slice chain has no proportional read noise (NNS+A's has)");
    if (v.pairs && !v.approx) throw new Error('xbar: polarity pairs are the IR-drop approximation on difference planes');
    if (v.wgx * v.wgy > limits.maxComputeInvocationsPerWorkgroup) throw new Error(`xbar: workgroup ${v.wgx}x${v.wgy} exceeds ${limits.maxComputeInvocationsPerWorkgroup} invocations`);
    if (v.deviceRead && v.read !== 'proportional') throw new Error('xbar: device read noise uses the variance planes (read proportional)');
    if (v.trace && (v.read !== 'none' || v.gain || v.analogNoise || v.adcNoise)) throw new Error('xbar: calibration traces the noise-free chip');
    if ((v.gain || v.analogNoise) && !v.collapsed) throw new Error('xbar: analog gain and noise apply to buffered and analog-sa only');
    if (v.digitalExact && v.digital === 'none') throw new Error('xbar: the exact digital unit needs a rounding mode');
    if (v.trace && (v.adcTable || v.digital !== 'none')) throw new Error('xbar: calibration traces ADC inputs, with no transfer table or digital unit');
    if (v.bitplane && !v.exact) throw new Error('xbar: the bit-plane variant needs exact levels');
    if (v.exact && (v.approx || v.read === 'proportional' || v.deviceRead)) throw new Error('xbar: exact levels exclude the IR-drop approximation and proportional or device read noise');
    if (v.ideal && (!v.exact || v.trace || serial || v.gain || v.analogNoise || v.adcNoise || v.read !== 'none' || v.adcTable)) {
      throw new Error('xbar: the ideal sum needs exact levels, no trace, no bit-serial analog chain, no per-read noise and the uniform ADC');
    }
    checkParam('wbits', v.wbits, v.bitplane ? 1 : 0, v.bitplane ? 31 : 0);
    const shared = v.kt > 0 && !v.bitplane;
    const DIGITAL_MODES = { none: 0, 'half-even': 1, 'half-up': 2, floor: 3, truncate: 4 } as const;
    return {
      body: v.bitplane ? BITPLANE_BODY : shared ? SHARED_BODY : REGISTERS_BODY,
      consts: {
        TM: v.tm,
        NPL: v.npl,
        PC: v.pc,
        T: v.cycles,
        SIGNED: v.signed,
        COLLAPSED: v.collapsed,
        TRACE: v.trace,
        READ: v.read === 'none' ? 0 : v.read === 'additive' ? 1 : 2,
        DEVREAD: v.deviceRead,
        APPROX: v.approx,
        GAIN: v.gain,
        ANALOGN: v.analogNoise,
        ADCN: v.adcNoise,
        ADCT: v.adcTable,
        DIG: DIGITAL_MODES[v.digital],
        DIG_RELU: v.digitalRelu,
        DIG_SAT: v.digitalSaturate,
        DIG_EXACT: v.digitalExact,
        NSA: v.nsa,
        SERIAL: serial,
        PAIRS: v.pairs,
        ANALOG_SA: v.nsaSlices,
        SHARED: shared,
        EXACT: v.exact,
        EXACTF: v.exact && v.exactF32 && !v.bitplane,
        EXACTD: exactDecoded(v),
        IDEAL: v.ideal,
        WBITS: Math.max(1, v.wbits),
        KT: Math.max(1, v.kt),
        WGX: v.wgx,
        WGY: v.wgy,
      },
    };
  },
});

/** WGSL of a crossbar variant, after checking its tile and workgroup constraints against `limits`. */
export function xbarSource(v: XbarVariant, limits?: GpuLimits): string {
  return XBAR.source(v, limits);
}
