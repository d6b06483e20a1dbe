import { perReadLayer } from '../random/philox.ts';
import type { XbarConfig } from '../config/types.ts';
import { adcIsSigned } from '../crossbar/adc.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import type { XbarTiles } from '../gpu/tuning.ts';
import { readBuffer, uploadStorage } from '../gpu/buffers.ts';
import { analogGains, hasStaticNoise, type ChipId } from '../crossbar/chip.ts';
import { binding, dispatch, rowsPerWindow, windowBinding, type Recorder } from './dispatch.ts';
import { columnSlices, encodePlanesFrom, planeLayout, programChipGpu, uploadSliceCells, type ColumnSlice, type GpuChip, type PlaneLayout } from './program.ts';
import { checkLayerCircuit, encodeCircuit, layerArrays, throwCircuitFailure, type CircuitArray } from './circuit.ts';
import { processSolveStats } from '../circuits/stats.ts';
import { encodeQuantize, encodeRowStats, rowStatsLayout } from './quantize.ts';
import { devicePlan } from './device.ts';
import { hasWires, normalizedWires } from '../circuits/params.ts';
import { partitionSizes } from '../circuits/layout.ts';
import { UsageError } from '../errors.ts';
import { bitplaneCostGap, digitPlanes, exactInF32, encodeBitpack, exactGap, idealGap, idealLayout, inputBits, packedPlanes, packedRowBytes, planeDigits, wordLayout } from './bitplane.ts';

/**
 * Why the GPU cannot run `cfg`'s circuit (null when it can): "solve" runs everywhere (the network is
 * linear, so its effective conductances replace the planes); "approx" is aihwkit's formula per
 * physical column and input cycle, which the kernel applies to each polarity's cells before the
 * dataflow combines them, running collapsed dataflows cycle by cycle; only analog-sa's slice chain
 * lacks proportional read noise (as NNS+A's).
 */
export function gpuCircuitGap(cfg: XbarConfig): string | null {
  if (!hasWires(cfg) || cfg.circuit.model === 'solve') return null;
  const proportional = cfg.noise.device.model !== 'none' || (cfg.noise.read.sigma > 0 && cfg.noise.read.model === 'proportional');
  if (cfg.dataflow === 'analog-sa' && proportional) return 'circuit.model "approx": on the GPU, analog-sa with proportional or device-model read noise runs on the CPU reference only (use --backend cpu)';
  return null;
}
import { XBAR, exactDecoded, type XbarVariant } from './xbar-kernel.ts';
import { ceilDiv } from './template.ts';
import { fitsLevels, packAdcTables, type PackedTables } from '../readout/tables.ts';
import { layerReadout } from '../readout/layer.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import { fitsF32, type DigitalUnit } from '../readout/digital.ts';

export { xbarSource, type XbarVariant } from './xbar-kernel.ts';

/** Largest divisor of n that is at most cap: planes sharing one input decode. */
function planeChunk(n: number, cap: number): number {
  for (let c = Math.min(cap, n); c > 1; c--) if (n % c === 0) return c;
  return 1;
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
  /** Which use of a tied layer this run is (default 0): keys its per-read noise apart (perReadLayer). */
  use?: number;
  /** A u32 buffer whose first word is incremented once per vector that needs the X⁻ pass (event counts). */
  negCounter?: GPUBuffer;
  /**
   * The near-memory fixed-point unit of this run (src/readout/digital.ts), built for this layer's whole
   * N columns: it replaces the f32 epilogue (weight scales, outScale, bias).
   */
  digital?: DigitalUnit;
  /**
   * Which kernel variant forms the column currents (results are identical): 'auto' (default) takes the
   * bit-plane variant wherever kernelPath allows it; 'general' the register or shared-memory variant;
   * 'bitplane' insists (an error when the layer's levels are not exact); 'float' sums f32 currents as
   * with static noise (benchmarks: not bit-identical to the others). In an ideal run (`idealReason`
   * null) 'auto' takes the one-plane collapsed sum of idealLayout, identical to the others.
   */
  kernel?: 'auto' | 'general' | 'bitplane' | 'float';
}

/** How a layer's column currents are formed: packed bit planes, integer sums in the general variant, f32 sums, or (ideal runs) one collapsed plane of whole weights. */
export type XbarPath = 'bitplane' | 'exact' | 'float' | 'ideal';

/** A chip's readout on the GPU: its ADC transfer tables and its NNS+A chain coefficients (either may be absent). */
interface ChipTables {
  /** The chip (null: nominal); for fitted levels its tables are packed again when the ranges change. */
  id: ChipId | null;
  packed: PackedTables | null;
  /** The ADC tables, then from nsaBase the NNS+A coefficients (the kernel's one `adcT` binding). */
  buf: GPUBuffer;
  nsaBase: number;
}

/** NNS+A chain coefficients of chip `id` (null: nominal, all 1), as the kernel's `adcT` holds them from nsaBase: cycles [nBlocks, S, N, T], then slices [nBlocks, N, S]. */
function nsaCoefficients(cfg: XbarConfig, g: LayerGeometry, id: ChipId | null): Float32Array {
  const r = layerReadout(cfg, g, id);
  const nb = g.blocks.length;
  const out = new Float32Array(Math.max(4, nb * g.S * g.N * (g.T + 1)));
  const base = nb * g.S * g.N * g.T;
  for (let p = 0; p < nb; p++) {
    for (let s = 0; s < g.S; s++) for (let j = 0; j < g.N; j++) out.set(r.cycleCoefficients(p, j, s), ((p * g.S + s) * g.N + j) * g.T);
    if (cfg.dataflow === 'analog-sa') for (let j = 0; j < g.N; j++) out.set(r.sliceCoefficients(p, j), base + (p * g.N + j) * g.S);
  }
  return out;
}

/** Whether the unit's formats exceed what f32 holds: the kernel then runs it in exact integer arithmetic. */
function digitalExact(u: DigitalUnit): boolean {
  return !fitsF32(u.scale) || !fitsF32(u.offset);
}

/** An integer |v| < 2^32 with its sign as two f32-exact halves: |v| >> 16 plus 2^16 when negative, |v| mod 2^16. */
function splitInteger(v: number): [number, number] {
  const a = Math.abs(v);
  if (!Number.isInteger(a) || a >= 2 ** 32) throw new Error(`crossbar layer: digital coefficient ${v} is not a 32-bit integer`);
  return [Math.floor(a / 65536) + (v < 0 ? 65536 : 0), a % 65536];
}

/**
 * The digital unit's parameters as the kernel reads them from consts[digBase]: per-column scales m_j
 * then offsets o_j (f32), or for the exact unit per column the integers m_j·2^fs and o_j·2^fo as
 * splitInteger halves [mHi, mLo, oHi, oLo].
 */
function digitalParams(u: DigitalUnit, N: number): Float32Array {
  if (u.m.length !== N) throw new Error(`crossbar layer: digital unit built for ${u.m.length} columns, layer has ${N}`);
  if (digitalExact(u)) {
    const out = new Float32Array(4 * N);
    for (let j = 0; j < N; j++) out.set([...splitInteger(u.m[j] / u.scale.step), ...splitInteger(u.o[j] / u.offset.step)], 4 * j);
    return out;
  }
  const out = new Float32Array(2 * N);
  out.set(u.m);
  out.set(u.o, N);
  return out;
}

/**
 * The integer input sums an exact variant reads per vector, pass and row block (shaders/row-stats.wgsl):
 * one per input cycle the kernel runs, of that cycle's bits (collapsed dataflows drive all of them at
 * once: one sum of u), then Σ u.
 */
function exactSums(v: XbarVariant, g: LayerGeometry): { cycles: number; bitStep: number; bitCount: number } {
  const serial = v.nsa || (v.approx && v.collapsed);
  if (v.collapsed && !serial) return { cycles: 1, bitStep: 0, bitCount: inputBits(g) };
  return { cycles: g.T, bitStep: g.b, bitCount: g.b };
}

/** Where recorded work goes and who frees its temporaries. */
export type XbarRecorder = Recorder;

/** One column slice of the layer: its noise-free cells and its epilogue (weight scales, bias). */
interface LayerSlice {
  slice: ColumnSlice;
  cells: GPUBuffer;
  epilogue: GPUBuffer;
}

/**
 * One crossbar layer of one config on the GPU: its noise-free cells (uploaded once), the noise-free
 * chip used for calibration, the ADC ranges and the output epilogue (weight scales, bias). Chips are
 * programmed from it on the GPU (`programChip`) and kept there across batches. A layer whose
 * conductances exceed one storage binding is held in column slices, each run by its own dispatch.
 */
export class GpuCrossbarLayer {
  readonly layout: PlaneLayout;
  /** The noise-free chip (calibration, drift compensation's reference); unset only while the constructor programs it. */
  readonly ideal!: GpuChip;
  private readonly slices: LayerSlice[];
  private readonly scratch: GPUBuffer;
  private consts: GPUBuffer;
  /** The per-block ADC ranges consts holds. */
  private ranges: Float64Array;
  /** What consts holds: a run with the digital unit binds a copy with the unit's parameters appended. */
  private constsData = new Float32Array(0);
  /** Per chip: its ADC instances' transfer tables (adc.model other than uniform) and NNS+A coefficients. */
  private readonly tables = new Map<GpuChip, ChipTables>();
  /** Reads carry a device model's per-cell noise (noise.device, DESIGN.md section 12). */
  private readonly deviceReads: boolean;
  /** Column currents follow circuit.model "approx" (DESIGN.md section 13). */
  private readonly approx: boolean;
  /** Why the conductances are not exact levels (src/kernels/bitplane.ts), and why the bit planes would not pay; null when they are / do. */
  readonly exactReason: string | null;
  readonly bitplaneReason: string | null;
  /** Why a run is not the exact integer product of the ideal plane (src/kernels/bitplane.ts idealGap); null when it is. */
  readonly idealReason: string | null;
  /** Per slice, built on first use: the general variants' digit planes and the bit-plane variant's packed planes. */
  private digitBufs: GPUBuffer[] | null = null;
  private packedBufs: GPUBuffer[] | null = null;
  private idealBufs: GPUBuffer[] | null = null;
  /** circuit.model "solve": every chip's sub-arrays, solved for unit drives when it is programmed. */
  private readonly circuit: CircuitArray[] | null;
  /** Solver statistics of programmed chips not yet read back: each resolves to its failure line or null. */
  private checks: Promise<string | null>[] = [];

  private constructor(
    private readonly s: GpuSession,
    readonly layer: ProgrammedLayer,
    readonly cfg: XbarConfig,
    /** The layer's index in its network: the `layer` field of every noise counter. */
    readonly layerIndex: number,
    bias: ArrayLike<number> | null,
    ranges: Float64Array,
  ) {
    const g = layer.geom;
    this.layout = planeLayout(g, cfg);
    this.deviceReads = devicePlan(cfg, g)?.variant.reads ?? false;
    const gap = gpuCircuitGap(cfg);
    if (gap) throw new UsageError(gap);
    this.approx = hasWires(cfg) && cfg.circuit.model === 'approx';
    this.circuit = hasWires(cfg) && cfg.circuit.model === 'solve' ? layerArrays(g, cfg) : null;
    this.exactReason = exactGap(cfg, g, this.layout);
    this.bitplaneReason = this.exactReason ?? bitplaneCostGap(g, this.layout, cfg);
    this.idealReason = idealGap(cfg, g, this.layout);
    this.slices = columnSlices(s, g, this.layout).map((slice) => {
      const j0 = 4 * slice.col4;
      const ep = new Float32Array(slice.n4 * 8);
      for (let j = 0; j < slice.ncols; j++) {
        ep[j] = layer.sw[j0 + j];
        if (bias) ep[slice.n4 * 4 + j] = bias[j0 + j];
      }
      return { slice, cells: uploadSliceCells(s, layer.G, g, slice), epilogue: uploadStorage(s.ctx.device, ep, 'xbar.epilogue') };
    });
    this.ranges = ranges;
    this.consts = this.makeConsts(ranges);
    // Stands in for optional bindings: the two-pass counter nobody reads, and ΣV² when read noise is not additive.
    this.scratch = s.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'xbar.scratch' });
    if (this.circuit && this.slices.length > 1) throw new UsageError(`circuit.model "solve": layer ${layerIndex} (K=${g.K}, N=${g.N}) exceeds one storage binding of this adapter; the GPU solver needs its cells in one (use --backend cpu)`);
    this.ideal = this.withTables(this.withCircuit(programChipGpu(s, this.slices, g, cfg, this.layout, null, new Float64Array(g.blocks.length * g.N).fill(1))), null);
  }

  /**
   * circuit.model "solve" (DESIGN.md section 13): solves every sub-array of the chip for each row's
   * unit drive on the GPU (src/kernels/circuit.ts) and rebuilds the planes from those effective
   * conductances, so every read is ΣV·M: the CPU oracle's superposition. The variance planes keep the
   * cells' own (read noise is per ADC input, outside the network). The solver's statistics are read
   * back asynchronously; `settle` reports them.
   */
  private withCircuit(chip: GpuChip): GpuChip {
    if (!this.circuit) return chip;
    const s = this.s;
    const { device } = s.ctx;
    const g = this.layer.geom;
    const slice = this.slices[0].slice;
    const cs = chip.slices[0];
    // Without static noise every chip has the noise-free cells: the noise-free chip's solved planes serve it (the oracle solves such a chip once too).
    if (this.ideal && !hasStaticNoise(this.cfg)) {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(this.ideal.slices[0].planes, 0, cs.planes, 0, cs.planes.size);
      device.queue.submit([enc.finish()]);
      return chip;
    }
    const temps: GPUBuffer[] = [];
    const rec = { encoder: device.createCommandEncoder(), temp: (b: GPUBuffer) => (temps.push(b), b) };
    const M = device.createBuffer({ size: Math.max(16, cs.cells.size), usage: GPUBufferUsage.STORAGE, label: 'chip.circuitCells' });
    const wires = normalizedWires(this.cfg);
    const enc = encodeCircuit(s, rec, { cells: cs.cells, S: g.S, pol: g.pol, ncols: slice.ncols, arrays: this.circuit, wires, unit: true, out: M });
    encodePlanesFrom(s, rec, g, this.layout, slice, M, cs.planes);
    device.queue.submit([rec.encoder.finish()]);
    // checkLayerCircuit submits its copy of the statistics before it first waits, so every solver
    // buffer is used only by submitted work now: destroying them lets WebGPU free them as that work
    // completes, instead of holding the factors and sweep slots of every chip for the layer's life.
    this.checks.push(checkLayerCircuit(s, enc, this.circuit, this.cfg, wires, processSolveStats, `layer ${this.layerIndex}`));
    M.destroy();
    for (const b of temps) if (b !== enc.stats) b.destroy();
    return chip;
  }

  /** Waits for the solver statistics of the chips programmed so far; throws the RuntimeFailure of a solve that missed circuit.tolerance. */
  async settle(): Promise<void> {
    if (this.checks.length === 0) return;
    const pending = this.checks;
    this.checks = [];
    for (const line of await Promise.all(pending)) throwCircuitFailure(line);
  }

  /** Whether NNS+A replaces the ideal analog accumulation (src/readout/neural-sa.ts). */
  private get nsa(): boolean {
    return this.cfg.analog.model === 'neural' && this.cfg.dataflow !== 'digital-sa';
  }

  /** Whether the ADC runs through per-instance transfer tables (src/readout) rather than section 3's uniform quantizer. */
  private get tabled(): boolean {
    return this.cfg.adc.model !== 'uniform' && this.cfg.adc.bits > 0;
  }

  /**
   * Uploads the chip's ADC tables, drawn on the host from the chip's readout streams (src/readout, the
   * CPU reference's own draws), and frees them with the chip.
   */
  private withTables(chip: GpuChip, id: ChipId | null): GpuChip {
    if (!this.tabled && !this.nsa) return chip;
    let t: ChipTables;
    try {
      t = this.packTables(id);
    } catch (e) {
      chip.destroy();
      throw e;
    }
    const wrapped: GpuChip = {
      ...chip,
      destroy: () => {
        chip.destroy();
        this.tables.get(wrapped)?.buf.destroy();
        this.tables.delete(wrapped);
      },
    };
    this.tables.set(wrapped, t);
    return wrapped;
  }

  /**
   * The readout tables of chip `id` as one buffer. Levels fitted at calibration (adc.nonuniform.levels
   * []) are absolute: until the layer is calibrated there is no table (a run then refuses), afterwards
   * each block's table is taken at its range (src/readout/tables.ts).
   */
  private packTables(id: ChipId | null): ChipTables {
    const fitted = fitsLevels(this.cfg);
    const levels = this.layer.adcLevels ?? null;
    const packed = !this.tabled || (fitted && levels === null) ? null : packAdcTables(this.cfg, this.layer.geom, id, fitted ? { levels: levels!, ranges: this.ranges } : null);
    const limit = this.s.ctx.limits.maxStorageBufferBindingSize;
    if (packed && packed.data.byteLength > limit) {
      throw new Error(`crossbar layer: ADC transfer tables of ${packed.instances} instances (${packed.data.byteLength} bytes) exceed this adapter's maxStorageBufferBindingSize (${limit}); raise adc.groupSize`);
    }
    const nsa = this.nsa ? nsaCoefficients(this.cfg, this.layer.geom, id) : null;
    const nsaBase = packed?.data.length ?? 0;
    const data = new Float32Array(Math.max(4, nsaBase + (nsa?.length ?? 0)));
    if (packed) data.set(packed.data);
    if (nsa) data.set(nsa, nsaBase);
    if (nsa && data.byteLength > limit) {
      throw new Error(`crossbar layer: readout tables and NNS+A coefficients (${data.byteLength} bytes) exceed this adapter's maxStorageBufferBindingSize (${limit}); raise adc.groupSize`);
    }
    return { id, packed, buf: uploadStorage(this.s.ctx.device, data, 'xbar.readoutTables'), nsaBase };
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
    this.constsData = consts;
    return uploadStorage(this.s.ctx.device, consts, 'xbar.consts');
  }

  /** Replaces the per-block ADC ranges (after calibration); fitted levels' tables follow them. */
  setRanges(ranges: Float64Array): void {
    this.consts.destroy();
    this.ranges = ranges;
    this.consts = this.makeConsts(ranges);
    if (!this.tabled || !fitsLevels(this.cfg)) return;
    for (const [chip, t] of this.tables) {
      // Work recorded earlier was submitted: WebGPU frees the old buffer once the queue is done with it.
      t.buf.destroy();
      this.tables.set(chip, this.packTables(t.id));
    }
  }

  /** Programs chip `chip` of seed `seed` on the GPU: the static noise of DESIGN.md section 4 and analog gains. */
  programChip(seed: number, chip: number): GpuChip {
    const id: ChipId = { seed, chip, layer: this.layerIndex };
    const g = this.layer.geom;
    return this.withTables(this.withCircuit(programChipGpu(this.s, this.slices, g, this.cfg, this.layout, id, analogGains(this.cfg, g.blocks.length, g.N, id))), id);
  }

  /**
   * The path a run with option `kernel` takes (exact levels always sum in integers; see
   * XbarEncodeOptions.kernel). 'auto' prefers the ideal plane (never for a trace, which needs each
   * conversion's own input), then the bit planes where they pay and the tuning allows them.
   */
  kernelPath(kernel: XbarEncodeOptions['kernel'] = 'auto', trace = false): XbarPath {
    if (kernel === 'bitplane' && this.exactReason !== null) throw new Error(`crossbar layer: no bit-plane kernel: ${this.exactReason}`);
    if (this.exactReason !== null || kernel === 'float') return 'float';
    if (kernel === 'auto' && !trace && this.idealReason === null) return 'ideal';
    if (kernel === 'bitplane' || (kernel === 'auto' && this.bitplaneReason === null && this.tiles().bitplane !== false)) return 'bitplane';
    return 'exact';
  }

  /** The kernel variant (and so the pipeline key) a run with these options uses: tests and benchmarks report it. */
  kernelVariant(o: Pick<XbarEncodeOptions, 'trace' | 'perRead' | 'digital' | 'kernel'> = {}): XbarVariant {
    return this.variant(o.trace ?? false, o.perRead ?? true, o.digital, this.kernelPath(o.kernel, o.trace ?? false));
  }

  /** The plane layout a path multiplies by: the layer's own, or the ideal run's one plane. */
  private layoutOf(path: XbarPath): PlaneLayout {
    return path === 'ideal' ? idealLayout(this.layer.geom) : this.layout;
  }

  private planesFor(path: XbarPath, i: number): GPUBuffer | null {
    if (path === 'float') return null;
    const { device } = this.s.ctx;
    if (path === 'ideal') {
      const layout = this.layoutOf(path);
      this.idealBufs ??= this.slices.map(({ slice }) => uploadStorage(device, digitPlanes(this.layer, layout, slice), 'xbar.idealPlanes'));
      return this.idealBufs[i];
    }
    if (path === 'exact') {
      this.digitBufs ??= this.slices.map(({ slice }) => uploadStorage(device, digitPlanes(this.layer, this.layout, slice), 'xbar.digitPlanes'));
      return this.digitBufs[i];
    }
    this.packedBufs ??= this.slices.map(({ slice }) => uploadStorage(device, packedPlanes(this.layer, this.layout, slice, this.cfg.array.rows), 'xbar.bitPlanes'));
    return this.packedBufs[i];
  }

  /** The bit-plane variant's packed planes of the whole layer when it is one column slice at exact levels (calibration's range kernel shares them), else null. */
  wholePackedPlanes(): GPUBuffer | null {
    return this.slices.length === 1 && this.exactReason === null ? this.planesFor('bitplane', 0) : null;
  }

  private variant(trace: boolean, perRead: boolean, digital: DigitalUnit | undefined, path: XbarPath): XbarVariant {
    const tiles = this.tiles();
    const cfg = this.cfg;
    const on = perRead && !trace;
    const layout = this.layoutOf(path);
    const collapsed = layout.collapsed;
    return {
      tm: tiles.tm,
      wgx: tiles.wgx,
      wgy: tiles.wgy,
      npl: layout.npl,
      pc: planeChunk(layout.npl, tiles.pcMax),
      cycles: collapsed ? 1 : this.layer.geom.T,
      signed: adcIsSigned(cfg),
      collapsed,
      trace,
      kt: path === 'bitplane' ? 0 : tiles.kt,
      // A device model's read noise is proportional-shaped: per-cell σ² planes (src/kernels/program.ts).
      read: on && this.deviceReads ? 'proportional' : on && cfg.noise.read.sigma > 0 ? cfg.noise.read.model : 'none',
      deviceRead: on && this.deviceReads,
      approx: this.approx,
      pairs: layout.pairs,
      // Analog gain and noise belong to the configured dataflow (buffered, analog-sa), not to the plane layout run: digital-sa's ideal runs are collapsed too.
      gain: !trace && this.layout.collapsed && cfg.analog.gainSigma > 0,
      analogNoise: on && this.layout.collapsed && cfg.analog.noise > 0,
      adcNoise: on && cfg.adc.bits > 0 && cfg.adc.noise > 0,
      adcTable: !trace && this.tabled,
      digital: digital && !trace ? digital.cfg.rounding : 'none',
      digitalRelu: digital !== undefined && !trace && (digital.layer.relu || digital.cfg.relu),
      digitalSaturate: digital !== undefined && !trace && digital.cfg.saturate,
      digitalExact: digital !== undefined && !trace && digitalExact(digital),
      nsa: this.nsa,
      nsaSlices: (this.nsa || this.approx) && cfg.dataflow === 'analog-sa',
      exact: path !== 'float',
      bitplane: path === 'bitplane',
      wbits: path === 'bitplane' ? planeDigits(this.layer.geom, layout.mode).wbits : 0,
      exactF32: (path === 'exact' || path === 'ideal') && exactInF32(cfg, this.layer.geom, layout),
      ideal: !trace && path !== 'float' && this.idealReason === null,
    };
  }

  private tiles(): XbarTiles {
    return this.s.tuning.xbar;
  }

  /** Vectors per dispatch that fit the adapter's grid limits. */
  maxVectorsPerDispatch(): number {
    const t = this.tiles();
    return Math.max(1, Math.min(this.s.ctx.limits.maxComputeWorkgroupsPerDimension * t.wgy * t.tm, 1 << 20));
  }

  /** Bytes per input vector of the largest per-vector binding: its inputs ([K], decoded [2, K]), outputs [N] or row statistics (at most [2, nBlocks, 2T + 1]). */
  private rowBytes(): number {
    const { K, N, T, blocks } = this.layer.geom;
    // Exact levels may read packed bits or decoded magnitudes instead of xq.
    const exact = this.exactReason === null ? Math.max(packedRowBytes(this.layer.geom, this.cfg.array.rows), 8 * K) : 0;
    return Math.max(4 * Math.max(K, N, 2 * blocks.length * (2 * T + 1)), exact);
  }

  /** Rows of inputs that fit one storage binding (input [rows, K], output [rows, N] and their read-noise sums). */
  maxRowsPerBinding(): number {
    return Math.max(1, Math.floor(this.s.ctx.limits.maxStorageBufferBindingSize / this.rowBytes()));
  }

  /**
   * Records a run of `chip` over rows of `input` into `rec` (DESIGN.md sections 3 and 4). Rows whose
   * inputs or outputs exceed one storage binding are run in windows of them.
   */
  encode(rec: XbarRecorder, chip: GpuChip, o: XbarEncodeOptions): void {
    if (o.rows === 0) return;
    const { K, N } = this.layer.geom;
    const rowBytes = this.rowBytes();
    const start = o.rowStart ?? 0;
    const fits = (start + o.rows) * rowBytes <= this.s.ctx.limits.maxStorageBufferBindingSize;
    const per = fits ? o.rows : rowsPerWindow(this.s, rowBytes);
    if (per < 1) throw new Error(`crossbar layer: one row of K=${K}, N=${N} exceeds this adapter's maxStorageBufferBindingSize (${this.s.ctx.limits.maxStorageBufferBindingSize})`);
    for (let r = 0; r < o.rows; r += per) this.encodeWindow(rec, chip, o, start + r, r, Math.min(per, o.rows - r));
  }

  /** One window of `encode`: rows [first, first + rows) of input and output, the `done`-th onwards of the run. */
  private encodeWindow(rec: XbarRecorder, chip: GpuChip, o: XbarEncodeOptions, first: number, done: number, rows: number): void {
    const s = this.s;
    const { device } = s.ctx;
    const g = this.layer.geom;
    const cfg = this.cfg;
    const trace = o.trace ?? false;
    const path = this.kernelPath(o.kernel, trace);
    const layout = this.layoutOf(path);
    const v = this.variant(trace, o.perRead ?? true, o.digital, path);
    const tables = v.adcTable || v.nsa ? this.tables.get(chip) : undefined;
    if ((v.adcTable || v.nsa) && !tables) throw new Error('crossbar layer: this chip was not programmed by this layer (no ADC tables)');
    if (v.adcTable && !tables!.packed) throw new Error('crossbar layer: adc.nonuniform levels [] are fitted at calibration, but this layer was not calibrated');
    // The digital unit's parameters ride after the consts: one binding fewer (SwiftShader allows 10 per stage).
    const digBase = this.constsData.length;
    let consts = this.consts;
    if (v.digital !== 'none') {
      const dp = digitalParams(o.digital!, g.N);
      const joined = new Float32Array(digBase + dp.length);
      joined.set(this.constsData);
      joined.set(dp, digBase);
      consts = rec.temp(uploadStorage(device, joined, 'xbar.constsDigital'));
    }
    const chunk = Math.max(1, Math.min(o.vectorsPerDispatch ?? Infinity, this.maxVectorsPerDispatch()));
    // Quantize once per run; every output column's invocations then read small integers.
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const xq = rec.temp(device.createBuffer({ size: Math.max(16, rows * g.K * 4), usage, label: 'xbar.xq' }));
    const flags = rec.temp(device.createBuffer({ size: Math.max(16, rows * 4), usage, label: 'xbar.negFlags' }));
    rec.encoder.clearBuffer(flags);
    const negCount = trace ? this.scratch : (o.negCounter ?? this.scratch);
    const mags = exactDecoded(v) ? rec.temp(device.createBuffer({ size: Math.max(16, rows * 2 * g.K * 4), usage: GPUBufferUsage.STORAGE, label: 'xbar.inputMagnitudes' })) : undefined;
    encodeQuantize(s, rec, { input: o.input, rowStart: first, rows, K: g.K, sx: o.sxq, Qx: g.Qx, xq, negFlags: flags, negCount, mags });
    const TK = v.collapsed ? 1 : g.T;
    // Per-vector statistics: Σ V² of additive read noise, the integer input sums of exact levels.
    const sqCycles = v.read === 'additive' ? TK : 0;
    const sums = v.exact ? exactSums(v, g) : null;
    const stats = rowStatsLayout(rows, g.blocks.length, sqCycles, sums?.cycles ?? null);
    let rowStats = this.scratch;
    if (stats.words > 0) {
      rowStats = rec.temp(device.createBuffer({ size: Math.max(16, stats.words * 4), usage: GPUBufferUsage.STORAGE, label: 'xbar.rowStats' }));
      encodeRowStats(s, rec, { xq, rows, K: g.K, blockRows: cfg.array.rows, nBlocks: g.blocks.length, dacBits: g.b, T: g.T, TK: sqCycles, Vm: g.Vm, sums, stats: rowStats });
    }
    let xin = mags ? binding(s, mags, rows * 2 * g.K * 4) : binding(s, xq, rows * g.K * 4);
    if (path === 'bitplane') {
      const bits = rec.temp(device.createBuffer({ size: Math.max(16, rows * packedRowBytes(g, cfg.array.rows)), usage: GPUBufferUsage.STORAGE, label: 'xbar.inputBits' }));
      encodeBitpack(s, rec, { xq, bits, rows, g, blockRows: cfg.array.rows });
      xin = binding(s, bits, rows * packedRowBytes(g, cfg.array.rows));
    }
    const words = wordLayout(g, cfg.array.rows);
    const digits = planeDigits(g, layout.mode);
    const Y = windowBinding(s, o.out, first * g.N, rows * g.N, 4);
    const shared = { xq: xin, negFlags: binding(s, flags, rows * 4), consts, Y: Y.binding, rowStats, adcT: tables?.buf ?? this.scratch };
    const pk = tables?.packed ?? undefined;
    let nsaVar = 0;
    for (let sl = 0; sl < g.S; sl++) nsaVar += 2 * 4 ** (sl * g.c);
    const du = v.digital !== 'none' ? o.digital! : null;
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      this.slices.forEach(({ slice, epilogue }, i) => {
        const c = chip.slices[i];
        dispatch(s, rec, XBAR, v, {
          params: {
            K: g.K, N: g.N, N4: slice.n4, col4Offset: slice.col4, pairs: 2 * ceilDiv(g.N, 4),
            rows: n, rowStart: r0, rowOffset: o.rowOffset + done + r0, outBase: Y.shift + r0 * g.N,
            blockRows: cfg.array.rows, nBlocks: g.blocks.length, adcBits: trace ? 0 : cfg.adc.bits, dacBits: g.b,
            seed: chip.seed >>> 0, chip: chip.chip >>> 0, layer: perReadLayer(this.layerIndex, o.use ?? 0), Tfull: g.T,
            outScale: o.outScale, invVm: 1 / g.Vm, gminSub: layout.gminSub, offsetQw: cfg.weights.mapping === 'offset' ? g.Qw : 0,
            partRows: partitionSizes(cfg).rows, rColNorm: normalizedWires(cfg).rCol,
            readVar: this.deviceReads ? 1 : cfg.noise.read.sigma ** 2, adcNoise: cfg.adc.noise, analogNoise: cfg.analog.noise, biasScale: o.bias === false ? 0 : 1,
            adcM: pk?.M ?? 1, adcGroups: pk?.groups ?? 1, adcGroupSize: cfg.adc.groupSize, adcInst: pk?.instances ?? 1, adcVBase: pk?.valueBase ?? 0,
            adcCellBase: pk?.index.base ?? 0, adcCells: pk?.index.cells ?? 1, adcCellScale: pk?.index.scale ?? 1, adcCellOrigin: pk?.index.origin ?? 0, adcCorr: pk?.index.corrections ?? 0,
            adcCounting: pk?.counting ? 1 : 0, adcCountBase: pk?.countBase ?? 0,
            cellBits: g.c, nsaSliceBase: g.blocks.length * g.S * g.N * g.T, nsaVar, nsaVmDg: g.Vm / g.dG, nsaBase: tables?.nsaBase ?? 0, digBase,
            digShift: du ? 2 ** -du.exponent : 1, digLo: du?.range.lo ?? 0, digHi: du?.range.hi ?? 0, digOut: du?.layer.outScale ?? 1,
            digSh: du ? -du.scale.fracBits - du.exponent + du.offset.fracBits + 1 : 0, digFb: du ? du.offset.fracBits + 1 : 1,
            inBits: inputBits(g), exDG: digits.exDG, exOff: digits.exOff, eOff: digits.eOff, blockWords: words.blockWords, wordsTotal: words.wordsTotal,
            sumBase: stats.sumBase, sumCycles: sums?.cycles ?? 0,
          },
          bind: { ...shared, R: this.planesFor(path, i) ?? c.planes, ep: c.epilogue ?? epilogue, Q: c.varPlanes, gains: c.gains },
          grid: { x: ceilDiv(slice.n4, v.wgx), y: ceilDiv(ceilDiv(n, v.tm), v.wgy) },
        });
      });
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

  /** Reads a chip's cell conductances back in ProgrammedLayer.G's [K, S, pol, N] order (tests: GPU and CPU programme the same chip). */
  async readCells(chip: GpuChip): Promise<Float32Array> {
    return this.readPerCell(chip.slices.map((c) => c.cells));
  }

  /** Reads a device-model chip's per-read σ of every cell (normalized) in the same order, or null without device read noise. */
  async readSigmas(chip: GpuChip): Promise<Float32Array | null> {
    const bufs = chip.slices.map((c) => c.readSigma);
    return bufs.every((b) => b !== null) ? this.readPerCell(bufs as GPUBuffer[]) : null;
  }

  private async readPerCell(bufs: readonly GPUBuffer[]): Promise<Float32Array> {
    const g = this.layer.geom;
    const rows = g.K * g.S * g.pol;
    const out = new Float32Array(rows * g.N);
    for (let i = 0; i < this.slices.length; i++) {
      const { col4, ncols } = this.slices[i].slice;
      const part = new Float32Array(await readBuffer(this.s.ctx.device, bufs[i], rows * ncols * 4));
      for (let r = 0; r < rows; r++) out.set(part.subarray(r * ncols, (r + 1) * ncols), r * g.N + 4 * col4);
    }
    return out;
  }

  destroy(): void {
    this.ideal.destroy();
    for (const sl of this.slices) {
      sl.cells.destroy();
      sl.epilogue.destroy();
    }
    this.consts.destroy();
    this.scratch.destroy();
    for (const b of [...(this.digitBufs ?? []), ...(this.packedBufs ?? []), ...(this.idealBufs ?? [])]) b.destroy();
  }
}
