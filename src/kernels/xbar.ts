import xbarWgsl from '../../shaders/xbar.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import { adcIsSigned } from '../crossbar/adc.ts';
import { cellIndex, type ProgrammedLayer } from '../crossbar/program.ts';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { readBuffer, uploadStorage, uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import { ceilDiv, checkParam, instantiate } from './template.ts';

/** Compile-time shape of a crossbar kernel: everything baked into its WGSL. */
export interface XbarProgram {
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
}

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function xbarKey(p: XbarProgram): ProgramKey {
  return { family: 'xbar', params: { ...p } };
}

/** WGSL for a crossbar program, after checking its tile and workgroup constraints. */
export function xbarSource(p: XbarProgram, maxInvocations = 256): string {
  checkParam('tm', p.tm, 1, 8);
  checkParam('wgx', p.wgx, 1, 256, true);
  checkParam('wgy', p.wgy, 1, 256, true);
  checkParam('npl', p.npl, 1, 64);
  checkParam('pc', p.pc, 1, 8);
  checkParam('cycles', p.cycles, 1, 16);
  if (p.npl % p.pc !== 0) throw new Error(`xbar: pc=${p.pc} must divide npl=${p.npl}`);
  if (p.collapsed && p.cycles !== 1) throw new Error('xbar: a collapsed program runs one cycle');
  if (p.wgx * p.wgy > maxInvocations) throw new Error(`xbar: workgroup ${p.wgx}x${p.wgy} exceeds ${maxInvocations} invocations`);
  return instantiate(xbarWgsl, {
    TM: p.tm,
    NPL: p.npl,
    PC: p.pc,
    T: p.cycles,
    TMPC: p.tm * p.pc,
    SIGNED: String(p.signed),
    COLLAPSED: String(p.collapsed),
    TRACE: String(p.trace),
    WGX: p.wgx,
    WGY: p.wgy,
  });
}

/** Largest divisor of n that is at most cap: planes sharing one input decode. */
function planeChunk(n: number, cap: number): number {
  for (let c = Math.min(cap, n); c > 1; c--) if (n % c === 0) return c;
  return 1;
}

/** The conductance planes a dataflow's kernel multiplies by, with each plane's digital weight. */
export interface PlaneSet {
  npl: number;
  collapsed: boolean;
  /** [K, npl, N4·4] f32, zero-padded columns. */
  planes: Float32Array;
  /** Per plane: ±2^(s·c)·Vm/ΔG, the factor its converted value is shift-added with. */
  weights: Float64Array;
  /** Subtract Gmin·ΣV (digital subtraction of the Gmin offset). */
  gminSub: number;
}

/**
 * Builds the planes of DESIGN.md section 9: each (slice, polarity) current for digital subtraction;
 * analog differences G⁺−G⁻ per slice for analog subtract and `buffered`; the slice-weighted
 * difference Σ_s 2^(s·c)(G⁺_s − G⁻_s) for `analog-sa` (exact, with any static noise already in G).
 */
export function buildPlanes(layer: ProgrammedLayer, cfg: XbarConfig): PlaneSet {
  const g = layer.geom;
  const { K, N, S, c, Vm, dG, Gmin } = g;
  const N4 = ceilDiv(N, 4);
  const digitalSub = cfg.dataflow === 'digital-sa' && (cfg.weights.mapping === 'offset' || cfg.adc.subtract === 'digital');
  const collapsed = cfg.dataflow !== 'digital-sa';
  const npl = digitalSub ? S * g.pol : cfg.dataflow === 'analog-sa' ? 1 : S;
  const planes = new Float32Array(K * npl * N4 * 4);
  const weights = new Float64Array(npl);
  const G = layer.G;
  const at = (k: number, plane: number, j: number): number => (k * npl + plane) * N4 * 4 + j;
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      if (digitalSub) {
        for (let s = 0; s < S; s++) for (let q = 0; q < g.pol; q++) planes[at(k, s * g.pol + q, j)] = G[cellIndex(g, k, s, q, j)];
      } else if (cfg.dataflow === 'analog-sa') {
        let sum = 0;
        for (let s = 0; s < S; s++) sum += 2 ** (s * c) * (G[cellIndex(g, k, s, 0, j)] - G[cellIndex(g, k, s, 1, j)]);
        planes[at(k, 0, j)] = sum;
      } else {
        for (let s = 0; s < S; s++) planes[at(k, s, j)] = G[cellIndex(g, k, s, 0, j)] - G[cellIndex(g, k, s, 1, j)];
      }
    }
  }
  if (digitalSub) {
    for (let s = 0; s < S; s++) for (let q = 0; q < g.pol; q++) weights[s * g.pol + q] = ((q === 0 ? 1 : -1) * 2 ** (s * c) * Vm) / dG;
  } else if (cfg.dataflow === 'analog-sa') {
    weights[0] = Vm / dG;
  } else {
    for (let s = 0; s < S; s++) weights[s] = (2 ** (s * c) * Vm) / dG;
  }
  return { npl, collapsed, planes, weights, gminSub: digitalSub ? Gmin : 0 };
}

/** Tile choices per adapter kind. Software drivers vectorize across invocations, so small tiles and wide workgroups. */
export function defaultTiles(isSoftware: boolean): { tm: number; wgx: number; wgy: number; pcMax: number } {
  return isSoftware ? { tm: 4, wgx: 8, wgy: 8, pcMax: 4 } : { tm: 4, wgx: 16, wgy: 4, pcMax: 4 };
}

/** Options for one run of a programmed crossbar layer on the GPU. */
export interface XbarRunOptions {
  /** Vectors per dispatch (results never depend on it); default: as many as the adapter's limits allow. */
  vectorsPerDispatch?: number;
  /** Calibration: return max |ADC input| instead of outputs. */
  trace?: boolean;
}

/**
 * A chip layer programmed onto the GPU: conductance planes uploaded once and reused for every batch.
 */
export class GpuCrossbarLayer {
  private readonly planesBuf: GPUBuffer;
  private readonly swBuf: GPUBuffer;
  private constsBuf: GPUBuffer;
  private readonly N4: number;

  private constructor(
    private readonly s: GpuSession,
    readonly layer: ProgrammedLayer,
    readonly cfg: XbarConfig,
    private readonly ps: PlaneSet,
    ranges: Float64Array,
  ) {
    const { device } = s.ctx;
    this.N4 = ceilDiv(layer.geom.N, 4);
    const maxBinding = s.ctx.limits.maxStorageBufferBindingSize;
    if (ps.planes.byteLength > maxBinding) {
      throw new Error(`crossbar layer needs ${ps.planes.byteLength} bytes of conductances; this adapter binds at most ${maxBinding}`);
    }
    this.planesBuf = uploadStorage(device, ps.planes, 'xbar.planes');
    const sw = new Float32Array(this.N4 * 4);
    sw.set(layer.sw);
    this.swBuf = uploadStorage(device, sw, 'xbar.sw');
    this.constsBuf = this.makeConsts(ranges);
  }

  /** Uploads a programmed layer; `ranges` is the ADC range of each row block. */
  static upload(s: GpuSession, layer: ProgrammedLayer, cfg: XbarConfig, ranges: Float64Array): GpuCrossbarLayer {
    return new GpuCrossbarLayer(s, layer, cfg, buildPlanes(layer, cfg), ranges);
  }

  private makeConsts(ranges: Float64Array): GPUBuffer {
    const consts = new Float32Array(this.ps.npl + ranges.length);
    consts.set(this.ps.weights);
    consts.set(ranges, this.ps.npl);
    return uploadStorage(this.s.ctx.device, consts, 'xbar.consts');
  }

  /** Replaces the per-block ADC ranges (after calibration). */
  setRanges(ranges: Float64Array): void {
    this.constsBuf.destroy();
    this.constsBuf = this.makeConsts(ranges);
  }

  private program(trace: boolean): XbarProgram {
    const tiles = defaultTiles(this.s.ctx.adapter.isSoftware);
    return {
      tm: tiles.tm,
      wgx: tiles.wgx,
      wgy: tiles.wgy,
      npl: this.ps.npl,
      pc: planeChunk(this.ps.npl, tiles.pcMax),
      cycles: this.ps.collapsed ? 1 : this.layer.geom.T,
      signed: adcIsSigned(this.cfg),
      collapsed: this.ps.collapsed,
      trace,
    };
  }

  /** Vectors per dispatch that fit the adapter's binding size and grid limits. */
  maxVectorsPerDispatch(): number {
    const { K } = this.layer.geom;
    const lim = this.s.ctx.limits;
    const tm = defaultTiles(this.s.ctx.adapter.isSoftware);
    const byBinding = Math.floor(lim.maxStorageBufferBindingSize / Math.max(K * 4, this.N4 * 16));
    const byGrid = lim.maxComputeWorkgroupsPerDimension * tm.wgy * tm.tm;
    return Math.max(1, Math.min(byBinding, byGrid, 65536));
  }

  /**
   * Runs B vectors of signed quantized inputs (row-major [B, K]); returns Y [B, N] (before bias), or
   * with `trace`, the largest |ADC input| seen.
   */
  async run(xq: Int32Array, negFlags: Uint32Array, B: number, sx: number, opts: XbarRunOptions = {}): Promise<Float32Array | number> {
    const { device } = this.s.ctx;
    const g = this.layer.geom;
    const trace = opts.trace ?? false;
    const prog = this.program(trace);
    const pipeline = this.s.pipelines.get(xbarKey(prog), () => xbarSource(prog, this.s.ctx.limits.maxComputeInvocationsPerWorkgroup));
    const chunk = Math.max(1, Math.min(opts.vectorsPerDispatch ?? Infinity, this.maxVectorsPerDispatch()));
    const enc = device.createCommandEncoder();
    const temps: GPUBuffer[] = [];
    const outs: { buf: GPUBuffer; start: number; rows: number }[] = [];
    for (let start = 0; start < B; start += chunk) {
      const rows = Math.min(chunk, B - start);
      const params = new UniformWriter(12)
        .u32(g.K).u32(this.N4).u32(rows).u32(start)
        .u32(this.cfg.array.rows).u32(g.blocks.length).u32(trace ? 0 : this.cfg.adc.bits).u32(g.b)
        .f32(1 / g.Vm).f32(this.ps.gminSub).f32(this.cfg.weights.mapping === 'offset' ? g.Qw : 0).f32(sx);
      const u = uploadUniform(device, params.buffer, 'xbar.params');
      const xb = uploadStorage(device, xq.subarray(start * g.K, (start + rows) * g.K), 'xbar.xq');
      const fb = uploadStorage(device, negFlags.subarray(start, start + rows), 'xbar.neg');
      const yb = device.createBuffer({ size: rows * this.N4 * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'xbar.Y' });
      temps.push(u, xb, fb, yb);
      outs.push({ buf: yb, start, rows });
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [u, xb, fb, this.planesBuf, this.constsBuf, this.swBuf, yb].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(ceilDiv(this.N4, prog.wgx), ceilDiv(ceilDiv(rows, prog.tm), prog.wgy));
      pass.end();
    }
    device.queue.submit([enc.finish()]);
    try {
      const N = g.N;
      const Y = new Float32Array(B * N);
      let maxAbs = 0;
      for (const o of outs) {
        const padded = new Float32Array(await readBuffer(device, o.buf, o.rows * this.N4 * 16));
        for (let r = 0; r < o.rows; r++) {
          const row = padded.subarray(r * this.N4 * 4, r * this.N4 * 4 + N);
          if (trace) for (const v of row) maxAbs = Math.max(maxAbs, v);
          else Y.set(row, (o.start + r) * N);
        }
      }
      this.s.ctx.checkErrors();
      return trace ? maxAbs : Y;
    } finally {
      for (const b of temps) b.destroy();
    }
  }

  destroy(): void {
    this.planesBuf.destroy();
    this.swBuf.destroy();
    this.constsBuf.destroy();
  }
}
