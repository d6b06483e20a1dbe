/**
 * A network prepared for one config on one backend: calibrate once (DESIGN.md section 6), then
 * program any number of chips and run batches through them. One implementation over either
 * executor; the walk and the calibration policy are shared.
 */
import type { XbarConfig } from '../config/types.ts';
import { gpuCircuitGap } from '../kernels/xbar.ts';
import { UsageError } from '../errors.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import type { Backend } from '../gpu/backend.ts';
import type { Network } from '../ir/graph.ts';
import {
  adoptCalibration,
  calibrateNetwork,
  measureCompensation,
  quantScale,
  type CalibrationCache,
  type CalibrationInputs,
  type InputCodes,
  type LayerScales,
} from './calibration.ts';
import { fitsAdcLevels } from '../readout/support.ts';
import { CpuExecutor } from './exec/cpu.ts';
import { GpuExecutor } from './exec/gpu.ts';
import type { ChipSet, ExecBatch, Executor, Pending } from './exec/types.ts';
import { matrixLayerCounts, planMatrices, type MatrixLayer } from './matrices.ts';
import { crossbarOutput, walkNetwork } from './walk.ts';
import { checkAdapterSet, type AdapterSet } from '../adapters/set.ts';

/** What one batch through a simulated chip returns. */
export interface ForwardResult {
  /** Network output [B, ...], f32. */
  output: Float32Array;
  /** With `keep`: every value of the walk by IR name (per-sample layouts, B samples), the network input included. */
  values?: Map<string, Float32Array>;
  /** Per matrix layer (planMatrices order) and group: input vectors that needed the X⁻ pass. */
  negVectors: number[][];
}

/** A programmed chip instance of a network: opaque to callers, freed with `release`. */
export interface ChipHandle {
  chip: number;
  /** Drift compensation factor per matrix layer and group (1 where off). */
  readonly compensation: readonly (readonly number[])[];
  release(): void;
}

/** Options of a runner beyond the config. */
export interface RunnerOptions {
  /** Keep every matrix layer in f32 (--digital). */
  digital?: boolean;
  /** The graph input holds codes of matrix layer 0, quantized on the host with this sx (vmm). */
  inputCodes?: InputCodes;
  /** Vectors per GPU dispatch (results never depend on it). */
  vectorsPerDispatch?: number;
}

/** One crossbar layer as `eval --json` lists it (issue 12 item 4): per group, a K×N matrix on row blocks of arrays. */
export interface AnalogLayerInfo {
  /** Position among the model's Linear/Conv layers (the `layers` override index). */
  index: number;
  name: string;
  kind: 'linear' | 'conv';
  /** Matrices (conv groups; 1 for a linear layer), each K × N. */
  groups: number;
  K: number;
  N: number;
  /** Row blocks of one group's matrix (ceil(K / array.rows)). */
  rowBlocks: number;
  /** Arrays of the whole layer, all groups (section 5's `arrays`). */
  arrays: number;
  /** Input vectors per sample (1, tokens, or output pixels; times the uses of a tied layer). */
  vectorsPerSample: number;
  /** How many times the network runs it per sample (more than 1 for a tied layer: an RNN's recurrent weights). */
  uses: number;
}

/** The runner interface every caller (eval, sweep, vmm, app, benches) uses. */
export interface NetworkRunner {
  readonly backend: 'webgpu' | 'cpu';
  /** Name of each matrix layer (ONNX node name), in planMatrices order. */
  readonly layerNames: readonly string[];
  /** Whether the network draws random numbers of its own (RandomOp): then its calibration depends on the seed. */
  readonly draws: boolean;
  /** The layers that run on crossbars (digital ones left out), in planMatrices order. */
  readonly analogLayers: readonly AnalogLayerInfo[];
  /** Per matrix layer: input scale sx and calibrated ADC range per group (after calibrate). */
  readonly scales: readonly LayerScales[];
  /** Samples per batch that fit the adapter. */
  readonly maxBatch: number;
  /** Calibrates input scales and ADC ranges on `n` samples (per-sample layout of the model input). */
  calibrate(x: Float32Array, n: number): Promise<void>;
  /**
   * Adopts another runner's calibration of the same network on the same calibration inputs. Exact
   * whenever the two configs share a calibrationKey: sx and the noise-free chip's ranges do not
   * depend on device noise or the seed.
   */
  adoptCalibration(scales: readonly LayerScales[], x: Float32Array, n: number): void;
  /** Programs chip `chip` (static noise, gains; drift compensation measured on the calibration inputs). */
  program(chip: number): Promise<ChipHandle>;
  /** Runs B samples; `offset` is the first sample's position in the whole evaluated set (keys per-read noise); `keep` returns every value (training). */
  forward(chip: ChipHandle | null, x: Float32Array, B: number, offset: number, keep?: boolean): Promise<ForwardResult>;
  /**
   * Installs an adapter set (src/adapters), replacing the previous one; null removes it. Chips stay
   * programmed and calibration stays as it is: adapters are digital and sit after each layer's output.
   */
  setAdapters(set: AdapterSet | null): void;
  /** Event counts of one matrix layer for `samples` samples, with each group's two-pass vector count. */
  layerCounts(layer: number, samples: number, negVectors: readonly number[]): EventCounts;
  destroy(): void;
}

interface Handle extends ChipHandle {
  set: ChipSet;
}

class Runner<T> implements NetworkRunner {
  readonly layers: MatrixLayer[];
  scales: LayerScales[];
  private cal: CalibrationInputs | null = null;
  private readonly ex: Executor<T>;

  constructor(
    private readonly net: Network,
    private readonly cfg: XbarConfig,
    private readonly opts: RunnerOptions,
    makeExecutor: (layers: MatrixLayer[]) => Executor<T>,
  ) {
    this.layers = planMatrices(net, cfg, opts.digital ?? false);
    this.scales = this.layers.map((l) => ({ sx: 1, hi: l.parts.map(() => 0) }));
    this.ex = makeExecutor(this.layers);
  }

  get backend(): 'webgpu' | 'cpu' {
    return this.ex.kind;
  }

  get maxBatch(): number {
    return this.ex.maxBatch;
  }

  get draws(): boolean {
    return this.net.ops.some((o) => o.kind === 'random');
  }

  get layerNames(): string[] {
    return this.layers.map((l) => l.op.name);
  }

  get analogLayers(): AnalogLayerInfo[] {
    return this.layers.flatMap((l): AnalogLayerInfo[] => {
      if (!l.cfg) return [];
      const cfg = l.cfg;
      const { K, N } = l.parts[0];
      const g = layerGeometry(K, N, cfg);
      const arrays = l.parts.reduce((a, p) => a + layerGeometry(p.K, p.N, cfg).blocks.reduce((b, r) => b + r.arrays, 0), 0);
      return [{ index: l.op.layerIndex, name: l.op.name, kind: l.op.kind, groups: l.parts.length, K, N, rowBlocks: g.blocks.length, arrays, vectorsPerSample: l.vectorsPerSample, uses: l.ops.length }];
    });
  }

  async calibrate(x: Float32Array, n: number): Promise<void> {
    this.cal = { x, n };
    this.scales = await calibrateNetwork(this.net, this.layers, this.ex, this.cal, this.opts.inputCodes);
  }

  adoptCalibration(scales: readonly LayerScales[], x: Float32Array, n: number): void {
    this.cal = { x, n };
    this.scales = adoptCalibration(this.layers, this.ex, scales);
  }

  async program(chip: number): Promise<ChipHandle> {
    const set = this.ex.programChip(chip);
    try {
      const compensation = this.cal ? await measureCompensation(this.net, this.layers, this.ex, this.cal, this.scales, set, this.opts.inputCodes) : this.layers.map((l) => l.parts.map(() => 1));
      const h: Handle = { chip, set, compensation, release: () => set.release() };
      return h;
    } catch (e) {
      set.release();
      throw e;
    }
  }

  setAdapters(set: AdapterSet | null): void {
    if (set) checkAdapterSet(set, this.net, 'adapters');
    this.layers.forEach((l, i) => this.ex.setAdapter(i, set?.get(l.op.name) ?? null));
  }

  async forward(handle: ChipHandle | null, x: Float32Array, B: number, offset: number, keep = false): Promise<ForwardResult> {
    const h = handle as Handle | null;
    const b = this.ex.batch(offset);
    // Per layer and group, every use's count of vectors that needed the X⁻ pass.
    const neg: Pending<number>[][][] = this.layers.map((l) => l.parts.map(() => []));
    const kept = new Map<string, Pending<Float32Array>>();
    const y = walkNetwork(this.net, b, x, B, (layer, t, use) => {
      const l = this.layers[layer];
      // The adapter branch reads the layer's input rows (one per vector) beside the analog output.
      return b.adapter(layer, t, this.matrixOutput(b, h, layer, t, B, offset, use, neg), B * l.vectorsPerUse);
    }, keep ? (name, t) => kept.set(name, b.read(t)) : undefined, !keep);
    const out = b.read(y);
    await b.finish();
    return {
      output: out.get(),
      negVectors: neg.map((groups) => groups.map((uses) => uses.reduce((a, p) => a + p.get(), 0))),
      ...(keep ? { values: new Map([...kept].map(([k, v]) => [k, v.get()])) } : {}),
    };
  }

  /** One matrix layer's output without its adapter: f32 when digital or without a chip, else the crossbar. */
  private matrixOutput(b: ExecBatch<T>, h: Handle | null, layer: number, t: T, B: number, offset: number, use: number, neg: Pending<number>[][][]): T {
    {
      const l = this.layers[layer];
      if (!l.cfg || !h) return b.f32(layer, t, B);
      const sx = this.scales[layer].sx;
      return crossbarOutput(b, l, t, B, (group, rows, n) => {
        const r = b.crossbar(layer, group, rows, n, {
          chip: h.set,
          sxq: quantScale(this.scales, layer, this.opts.inputCodes),
          outScale: sx * h.compensation[layer][group],
          rowOffset: offset * l.vectorsPerUse,
          perRead: true,
          bias: l.op.kind === 'linear',
          vectorsPerDispatch: this.opts.vectorsPerDispatch,
          use,
        });
        neg[layer][group].push(r.negVectors);
        return r.y;
      });
    }
  }

  layerCounts(layer: number, samples: number, negVectors: readonly number[]): EventCounts {
    const l = this.layers[layer];
    return matrixLayerCounts(l, l.parts.map((p) => (l.cfg ? layerGeometry(p.K, p.N, l.cfg) : null)), samples, negVectors);
  }

  destroy(): void {
    this.ex.destroy();
  }
}

/** A network prepared for one config on one backend. */
export function openNetwork(backend: Backend, net: Network, cfg: XbarConfig, digital: boolean, opts: Omit<RunnerOptions, 'digital'> = {}): NetworkRunner {
  const o = { ...opts, digital };
  // Circuits the GPU kernels cannot evaluate are refused rather than ignored (layers with their own config are checked by their kernel).
  const gap = backend.kind === 'webgpu' && !digital ? gpuCircuitGap(cfg) : null;
  if (gap) throw new UsageError(gap);
  return backend.kind === 'webgpu'
    ? new Runner(net, cfg, o, (layers) => new GpuExecutor(backend.session, net, layers, cfg.seed))
    : new Runner(net, cfg, o, (layers) => new CpuExecutor(net.input.shape, layers, cfg.seed));
}

/**
 * Calibrates `runner` (opened for `cfg`) on `cal`, or adopts the calibration `cache` holds for an
 * equivalent config on the same calibration set `dataId` (DESIGN.md section 6: calibration never sees
 * device noise or the seed); stores what it computed.
 */
export async function calibrateCached(runner: NetworkRunner, cfg: XbarConfig, cache: CalibrationCache, dataId: string, cal: CalibrationInputs): Promise<void> {
  // A nonuniform ADC fitted at calibration keeps its levels on the executor's layers: it calibrates itself.
  // A network's own random draws follow the seed into the layers it calibrates.
  const id = runner.draws ? `${dataId}\u0000seed ${cfg.seed}` : dataId;
  const known = fitsAdcLevels(cfg) ? undefined : cache.get(cfg, id);
  if (known) runner.adoptCalibration(known, cal.x, cal.n);
  else await runner.calibrate(cal.x, cal.n);
  if (!known) cache.set(cfg, id, runner.scales);
}
