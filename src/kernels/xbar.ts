import xbarWgsl from '../../shaders/xbar.wgsl?raw';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import { adcIsSigned } from '../crossbar/adc.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { readBuffer, uploadStorage, uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import { analogGains, type ChipId } from '../crossbar/chip.ts';
import { planeLayout, programChipGpu, type GpuChip, type PlaneLayout } from './program.ts';
import { encodeQuantize, encodeReadVariance } from './quantize.ts';
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
  /** Decode each block of KT input rows once per workgroup into shared memory (real GPUs); 0 = register-only variant (CPU drivers). */
  kt: number;
  /** Per-read noise of DESIGN.md section 4 compiled in. */
  read: 'none' | 'additive' | 'proportional';
  gain: boolean;
  analogNoise: boolean;
  adcNoise: boolean;
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
  checkParam('kt', p.kt, 0, 64);
  if (p.kt > 0 && p.kt * p.wgy * p.tm * (p.read === 'proportional' ? 8 : 4) > 16384) throw new Error(`xbar: shared tile of ${p.kt}x${p.wgy * p.tm} exceeds 16 KiB of workgroup memory`);
  if (p.npl % p.pc !== 0) throw new Error(`xbar: pc=${p.pc} must divide npl=${p.npl}`);
  if (p.collapsed && p.cycles !== 1) throw new Error('xbar: a collapsed program runs one cycle');
  if (p.wgx * p.wgy > maxInvocations) throw new Error(`xbar: workgroup ${p.wgx}x${p.wgy} exceeds ${maxInvocations} invocations`);
  if (p.trace && (p.read !== 'none' || p.gain || p.analogNoise || p.adcNoise)) throw new Error('xbar: calibration traces the noise-free chip');
  if ((p.gain || p.analogNoise) && !p.collapsed) throw new Error('xbar: analog gain and noise apply to buffered and analog-sa only');
  return instantiate(xbarWgsl, {
    TM: p.tm,
    NPL: p.npl,
    PC: p.pc,
    T: p.cycles,
    TMPC: p.tm * p.pc,
    TMPCQ: p.read === 'proportional' ? p.tm * p.pc : 1,
    SIGNED: String(p.signed),
    COLLAPSED: String(p.collapsed),
    TRACE: String(p.trace),
    READ: p.read === 'none' ? 0 : p.read === 'additive' ? 1 : 2,
    GAIN: String(p.gain),
    ANALOGN: String(p.analogNoise),
    ADCN: String(p.adcNoise),
    PHILOX: philoxWgsl,
    SHARED: String(p.kt > 0),
    // The register variant has no barriers, so edge invocations may leave at once; the shared one must not.
    EARLY_RETURN: p.kt > 0 ? '' : 'if (!inRange) { return; }',
    // Barriers are emitted only where every invocation reaches them (not after an early return).
    BARRIER: p.kt > 0 ? 'workgroupBarrier();' : '',
    // Loops around barriers need a workgroup-uniform pass count.
    PASSES: p.kt > 0 ? 'select(1u, 2u, workgroupUniformLoad(&wgNeg) != 0u)' : 'select(1u, 2u, anyNeg)',
    KT: Math.max(1, p.kt),
    TILE: p.kt > 0 ? p.kt * p.wgy * p.tm : 1,
    TILESQ: p.kt > 0 && p.read === 'proportional' ? p.kt * p.wgy * p.tm : 1,
    WGX: p.wgx,
    WGY: p.wgy,
  });
}

/** Largest divisor of n that is at most cap: planes sharing one input decode. */
function planeChunk(n: number, cap: number): number {
  for (let c = Math.min(cap, n); c > 1; c--) if (n % c === 0) return c;
  return 1;
}

/** A kernel variant's tiling. */
export interface XbarTiles {
  tm: number;
  wgx: number;
  wgy: number;
  pcMax: number;
  /** Shared-memory tile depth (0: register-only variant). */
  kt: number;
}

/**
 * Tile choices per adapter kind (DESIGN.md section 2). CPU drivers (lavapipe, SwiftShader) vectorize
 * across invocations and pay dearly for barriers: register-only, small tiles, wide workgroups. Real
 * GPUs: inputs decoded once per workgroup into shared memory, 32 rows of W per tile.
 */
export function defaultTiles(isSoftware: boolean): XbarTiles {
  return isSoftware ? { tm: 4, wgx: 8, wgy: 8, pcMax: 4, kt: 0 } : { tm: 4, wgx: 16, wgy: 4, pcMax: 4, kt: 32 };
}

let tileOverride: XbarTiles | null = null;

/** Forces a kernel variant regardless of the adapter, or clears it (tests run the real-GPU variant on software drivers; benches compare). */
export function setTileOverride(t: XbarTiles | null): void {
  tileOverride = t;
}

/** What one encoded run reads and writes. */
export interface XbarEncodeOptions {
  /** Row-major [rowStart + rows, K] f32 inputs; outputs go to the same rows of `out` ([.., N]). */
  input: GPUBuffer;
  out: GPUBuffer;
  rows: number;
  /** First row used in `input`/`out`. */
  rowStart?: number;
  /** Position of that row in the whole input set: keys the per-read noise, so batching never changes results. */
  rowOffset: number;
  /** Inputs are quantized as round(|x| / sxq) (shaders/quantize.wgsl); pass 1 for pre-quantized integers. */
  sxq: number;
  /** Output scale: sx times any drift compensation. */
  outScale: number;
  /** Calibration: write max |ADC input| per output instead of outputs. */
  trace?: boolean;
  /** Draw the config's per-read noise: read, analog and ADC noise (default true; off for drift compensation). */
  perRead?: boolean;
  /** Add the layer's bias (default true). */
  bias?: boolean;
  /** Vectors per dispatch (results never depend on it); default: the adapter's limits. */
  vectorsPerDispatch?: number;
  /** A u32 buffer whose first word is incremented once per vector that needs the X⁻ pass (event counts). */
  negCounter?: GPUBuffer;
}

/** Where recorded work goes and who frees its temporaries. */
export interface XbarRecorder {
  encoder: GPUCommandEncoder;
  temp(buf: GPUBuffer): GPUBuffer;
}

/**
 * One crossbar layer of one config on the GPU: its noise-free cells (uploaded once), the noise-free
 * chip used for calibration, the ADC ranges and the output epilogue (weight scales, bias). Chips are
 * programmed from it on the GPU (`programChip`) and kept there across batches.
 */
export class GpuCrossbarLayer {
  readonly layout: PlaneLayout;
  /** The noise-free chip (calibration, drift compensation's reference). */
  readonly ideal: GpuChip;
  private readonly baseCells: GPUBuffer;
  private readonly epilogue: GPUBuffer;
  private readonly scratch: GPUBuffer;
  private consts: GPUBuffer;
  private readonly N4: number;

  private constructor(
    private readonly s: GpuSession,
    readonly layer: ProgrammedLayer,
    readonly cfg: XbarConfig,
    /** The layer's index in its network: the `layer` field of every noise counter. */
    readonly layerIndex: number,
    bias: ArrayLike<number> | null,
    ranges: Float64Array,
  ) {
    const { device } = s.ctx;
    const g = layer.geom;
    this.N4 = ceilDiv(g.N, 4);
    this.layout = planeLayout(g, cfg);
    this.baseCells = uploadStorage(device, Float32Array.from(layer.G), 'xbar.baseCells');
    const ep = new Float32Array(this.N4 * 8);
    ep.set(layer.sw);
    if (bias) ep.set(bias, this.N4 * 4);
    this.epilogue = uploadStorage(device, ep, 'xbar.epilogue');
    this.consts = this.makeConsts(ranges);
    // Stands in for optional bindings: the two-pass counter nobody reads, and ΣV² when read noise is not additive.
    this.scratch = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'xbar.scratch' });
    this.ideal = programChipGpu(s, this.baseCells, g, cfg, this.layout, null, new Float64Array(g.blocks.length * g.N).fill(1));
  }

  /** Uploads a noise-free programmed layer; `ranges` is the ADC range of each row block; `bias` is added digitally. */
  static upload(s: GpuSession, layer: ProgrammedLayer, cfg: XbarConfig, ranges: Float64Array, opts: { layerIndex?: number; bias?: ArrayLike<number> | null } = {}): GpuCrossbarLayer {
    return new GpuCrossbarLayer(s, layer, cfg, opts.layerIndex ?? 0, opts.bias ?? null, ranges);
  }

  private makeConsts(ranges: Float64Array): GPUBuffer {
    const { npl } = this.layout;
    const consts = new Float32Array(2 * npl + ranges.length);
    consts.set(this.layout.weights);
    consts.set(this.layout.varFactors, npl);
    consts.set(ranges, 2 * npl);
    return uploadStorage(this.s.ctx.device, consts, 'xbar.consts');
  }

  /** Replaces the per-block ADC ranges (after calibration). */
  setRanges(ranges: Float64Array): void {
    this.consts.destroy();
    this.consts = this.makeConsts(ranges);
  }

  /** Programs chip `chip` of seed `seed` on the GPU: the static noise of DESIGN.md section 4 and analog gains. */
  programChip(seed: number, chip: number): GpuChip {
    const id: ChipId = { seed, chip, layer: this.layerIndex };
    const g = this.layer.geom;
    return programChipGpu(this.s, this.baseCells, g, this.cfg, this.layout, id, analogGains(this.cfg, g.blocks.length, g.N, id));
  }

  private program(trace: boolean, perRead: boolean): XbarProgram {
    const tiles = this.tiles();
    const cfg = this.cfg;
    const on = perRead && !trace;
    const collapsed = this.layout.collapsed;
    return {
      tm: tiles.tm,
      wgx: tiles.wgx,
      wgy: tiles.wgy,
      npl: this.layout.npl,
      pc: planeChunk(this.layout.npl, tiles.pcMax),
      cycles: collapsed ? 1 : this.layer.geom.T,
      signed: adcIsSigned(cfg),
      collapsed,
      trace,
      kt: tiles.kt,
      read: on && cfg.noise.read.sigma > 0 ? cfg.noise.read.model : 'none',
      gain: !trace && collapsed && cfg.analog.gainSigma > 0,
      analogNoise: on && collapsed && cfg.analog.noise > 0,
      adcNoise: on && cfg.adc.bits > 0 && cfg.adc.noise > 0,
    };
  }

  private tiles(): XbarTiles {
    return tileOverride ?? defaultTiles(this.s.ctx.adapter.isSoftware);
  }

  /** Vectors per dispatch that fit the adapter's grid limits. */
  maxVectorsPerDispatch(): number {
    const t = this.tiles();
    return Math.max(1, Math.min(this.s.ctx.limits.maxComputeWorkgroupsPerDimension * t.wgy * t.tm, 1 << 20));
  }

  /** Rows of inputs that fit one storage binding (input [rows, K] and output [rows, N]). */
  maxRowsPerBinding(): number {
    const { K, N } = this.layer.geom;
    return Math.max(1, Math.floor(this.s.ctx.limits.maxStorageBufferBindingSize / (4 * Math.max(K, N))));
  }

  /** Records a run of `chip` over rows of `input` into `rec` (DESIGN.md sections 3 and 4). */
  encode(rec: XbarRecorder, chip: GpuChip, o: XbarEncodeOptions): void {
    const { device } = this.s.ctx;
    const g = this.layer.geom;
    const cfg = this.cfg;
    const trace = o.trace ?? false;
    const prog = this.program(trace, o.perRead ?? true);
    const pipeline = this.s.pipelines.get(xbarKey(prog), () => xbarSource(prog, this.s.ctx.limits.maxComputeInvocationsPerWorkgroup));
    const chunk = Math.max(1, Math.min(o.vectorsPerDispatch ?? Infinity, this.maxVectorsPerDispatch()));
    const outStart = o.rowStart ?? 0;
    // Quantize once per run; every output column's invocations then read small integers.
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const xq = rec.temp(device.createBuffer({ size: Math.max(16, o.rows * g.K * 4), usage, label: 'xbar.xq' }));
    const flags = rec.temp(device.createBuffer({ size: Math.max(16, o.rows * 4), usage, label: 'xbar.negFlags' }));
    rec.encoder.clearBuffer(flags);
    const negCount = trace ? this.scratch : (o.negCounter ?? this.scratch);
    rec.temp(encodeQuantize(this.s, rec.encoder, { input: o.input, rowStart: outStart, rows: o.rows, K: g.K, sx: o.sxq, Qx: g.Qx, xq, negFlags: flags, negCount }));
    let sqStats = this.scratch;
    if (prog.read === 'additive') {
      const TK = prog.collapsed ? 1 : g.T;
      sqStats = rec.temp(device.createBuffer({ size: Math.max(16, o.rows * 2 * g.blocks.length * TK * 4), usage: GPUBufferUsage.STORAGE, label: 'xbar.sqStats' }));
      rec.temp(encodeReadVariance(this.s, rec.encoder, { xq, rows: o.rows, K: g.K, blockRows: cfg.array.rows, nBlocks: g.blocks.length, dacBits: g.b, T: g.T, TK, Vm: g.Vm, stats: sqStats }));
    }
    for (let start = 0; start < o.rows; start += chunk) {
      const rows = Math.min(chunk, o.rows - start);
      const params = new UniformWriter(23)
        .u32(g.K).u32(g.N).u32(this.N4).u32(rows)
        .u32(start).u32(o.rowOffset + start).u32(outStart + start).u32(cfg.array.rows).u32(g.blocks.length)
        .u32(trace ? 0 : cfg.adc.bits).u32(g.b).u32(chip.seed >>> 0).u32(chip.chip >>> 0)
        .u32(this.layerIndex).u32(g.T)
        .f32(o.outScale).f32(1 / g.Vm).f32(this.layout.gminSub).f32(cfg.weights.mapping === 'offset' ? g.Qw : 0)
        .f32(cfg.noise.read.sigma ** 2).f32(cfg.adc.noise).f32(cfg.analog.noise).f32(o.bias === false ? 0 : 1);
      const u = rec.temp(uploadUniform(device, params.buffer, 'xbar.params'));
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [u, xq, flags, chip.planes, this.consts, this.epilogue, chip.varPlanes, chip.gains, o.out, sqStats].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const pass = rec.encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(ceilDiv(this.N4, prog.wgx), ceilDiv(ceilDiv(rows, prog.tm), prog.wgy));
      pass.end();
    }
  }

  /**
   * Host convenience: runs B vectors `x` (row-major [B, K] f32) through `chip` and returns Y [B, N]
   * (with bias), or with `trace` the largest |ADC input| seen. Uploads in slices that fit the adapter.
   */
  async run(chip: GpuChip, x: Float32Array, B: number, o: Omit<XbarEncodeOptions, 'input' | 'out' | 'rows' | 'rowStart' | 'rowOffset'> & { rowOffset?: number }): Promise<Float32Array> {
    const { device } = this.s.ctx;
    const { K, N } = this.layer.geom;
    const Y = new Float32Array(B * N);
    const slice = this.maxRowsPerBinding();
    for (let s0 = 0; s0 < B; s0 += slice) {
      const rows = Math.min(slice, B - s0);
      const temps: GPUBuffer[] = [];
      try {
        const input = uploadStorage(device, x.subarray(s0 * K, (s0 + rows) * K), 'xbar.x');
        const out = device.createBuffer({ size: Math.max(16, rows * N * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'xbar.Y' });
        temps.push(input, out);
        const encoder = device.createCommandEncoder();
        this.encode({ encoder, temp: (b) => (temps.push(b), b) }, chip, { ...o, input, out, rows, rowOffset: (o.rowOffset ?? 0) + s0 });
        device.queue.submit([encoder.finish()]);
        Y.set(new Float32Array(await readBuffer(device, out, rows * N * 4)), s0 * N);
        this.s.ctx.checkErrors();
      } finally {
        for (const b of temps) b.destroy();
      }
    }
    return Y;
  }

  /** Reads a chip's cell conductances back (tests: GPU and CPU programme the same chip). */
  async readCells(chip: GpuChip): Promise<Float32Array> {
    const g = this.layer.geom;
    return new Float32Array(await readBuffer(this.s.ctx.device, chip.cells, g.K * g.S * g.pol * g.N * 4));
  }

  destroy(): void {
    this.ideal.destroy();
    this.baseCells.destroy();
    this.epilogue.destroy();
    this.consts.destroy();
    this.scratch.destroy();
  }
}
