/** The CPU reference executor: the oracle of the GPU executor and the no-GPU fallback (DESIGN.md section 2). */
import type { XbarConfig } from '../../config/types.ts';
import { blockRanges } from '../../crossbar/adc.ts';
import { programLayer, type ProgrammedLayer } from '../../crossbar/program.ts';
import { negativeFlags, quantizeInputs } from '../../crossbar/quantize.ts';
import { sizeOf, type ConvOp } from '../../ir/graph.ts';
import type { HostTensor } from '../../ir/tensor.ts';
import { calibrateAdcRangeRef, vmmRef, type ReadNoise } from '../../reference/vmm.ts';
import { programChipRef } from '../../reference/chip.ts';
import type { MatrixLayer } from '../matrices.ts';
import { colsToNchwTensorRef, convF32Ref, im2colTensorRef, linearF32Ref } from '../ops/matrix.ts';
import { digitalOpRef } from '../ops/registry.ts';
import type { DigitalOp } from '../ops/types.ts';
import type { ExecBatch, ChipSet, CrossbarRun, Executor, Pending } from './types.ts';
import { forEachMatrix } from '../walk.ts';
import { perReadLayer } from '../../random/philox.ts';
import { DigitalUnit } from '../../readout/digital.ts';
import { adapterBranchRef, addBranch, scaledUp, type AdapterLayer } from '../../adapters/set.ts';

/** An installed adapter with its f32 up-projection (α/r)·B. */
interface CpuAdapter {
  a: AdapterLayer;
  up: Float32Array;
}

/** The digital unit's calibrated parameters of one layer (null: f32). */
type DigitalParams = { outScale: number; relu: boolean } | null;

/** One analog matrix of a chip instance: perturbed conductances and analog gains. */
interface CpuMatrixChip {
  layer: ProgrammedLayer;
  gains: Float64Array;
}

interface CpuChipSet extends ChipSet {
  /** Per matrix layer, per group (null: digital layer). */
  matrices: (CpuMatrixChip | null)[][];
}

const now = <V>(v: V): Pending<V> => ({ get: () => v });

/** Runs a network's matrices with the CPU reference of DESIGN.md sections 3 and 4, in f64. */
export class CpuExecutor implements Executor<HostTensor> {
  readonly kind = 'cpu' as const;
  readonly maxBatch = 64;
  // All calibration samples in one pass: sums over them are then taken in one order, as before batching existed.
  readonly calibrationBatch = Number.POSITIVE_INFINITY;
  /** Noise-free programmed matrices, per layer and group (null: digital). */
  private readonly programmed: (ProgrammedLayer | null)[][];
  private readonly hi: number[][];

  constructor(
    private readonly inputShape: readonly number[],
    private readonly layers: readonly MatrixLayer[],
    private readonly seed: number,
  ) {
    this.programmed = layers.map((l) => l.parts.map((p) => (l.cfg ? programLayer(p.W, p.K, p.N, l.cfg) : null)));
    this.hi = layers.map((l) => l.parts.map(() => 0));
    this.digitalParams = layers.map(() => null);
    this.adapters = layers.map(() => null);
  }

  private readonly adapters: (CpuAdapter | null)[];

  setAdapter(layer: number, a: AdapterLayer | null): void {
    this.adapters[layer] = a ? { a, up: scaledUp(a) } : null;
  }

  private readonly digitalParams: DigitalParams[];

  setRanges(layer: number, hi: readonly number[]): void {
    this.hi[layer] = [...hi];
  }

  setDigital(layer: number, outScale: number, relu: boolean): void {
    this.digitalParams[layer] = { outScale, relu };
  }

  programChip(chip: number): ChipSet {
    const matrices = this.layers.map((l, i) =>
      l.parts.map((p) => {
        if (!l.cfg) return null;
        const c = programChipRef(this.programmed[i][p.group]!, l.cfg, { seed: this.seed, chip, layer: p.matrixIndex });
        return { layer: c.chip, gains: c.gains };
      }),
    );
    const set: CpuChipSet = { chip, matrices, release: () => undefined };
    return set;
  }

  batch(sampleOffset = 0): ExecBatch<HostTensor> {
    return new CpuBatch(this.inputShape, this.layers, this.programmed, this.hi, this.seed, this.digitalParams, this.adapters, sampleOffset);
  }

  destroy(): void {}
}

class CpuBatch implements ExecBatch<HostTensor> {
  constructor(
    private readonly inputShape: readonly number[],
    private readonly layers: readonly MatrixLayer[],
    private readonly programmed: readonly (ProgrammedLayer | null)[][],
    private readonly hi: readonly number[][],
    private readonly seed: number,
    private readonly digitalParams: readonly DigitalParams[],
    private readonly adapters: readonly (CpuAdapter | null)[],
    private readonly sampleOffset: number,
  ) {}

  adapter(layer: number, x: HostTensor, y: HostTensor, n: number): HostTensor {
    const ad = this.adapters[layer];
    if (!ad) return y;
    return { shape: y.shape, data: addBranch(y.data, adapterBranchRef(ad.a, ad.up, x.data, n).d) };
  }

  input(x: Float32Array, B: number): HostTensor {
    const shape = this.inputShape;
    return { shape: [B, ...shape], data: x.subarray(0, B * sizeOf(shape)) };
  }

  digital(op: DigitalOp, inputs: readonly HostTensor[], B: number): HostTensor {
    return digitalOpRef(op, inputs, B, { seed: this.seed, sampleOffset: this.sampleOffset });
  }

  f32(layer: number, x: HostTensor, B: number): HostTensor {
    const op = this.layers[layer].op;
    return op.kind === 'linear' ? linearF32Ref(op, x, B) : convF32Ref(op, x, B);
  }

  im2col(op: ConvOp, x: HostTensor, B: number, group: number): HostTensor {
    return im2colTensorRef(op, x, B, group);
  }

  convOutput(op: ConvOp, B: number): HostTensor {
    return { shape: [B, ...op.outShape], data: new Float32Array(B * sizeOf(op.outShape)) };
  }

  scatter(op: ConvOp, cols: HostTensor, out: HostTensor, B: number, group: number): void {
    // A layer with a digital unit has its bias added in fixed point already.
    const digital = this.layers.some((l, i) => l.op === op && this.digitalParams[i] !== null);
    colsToNchwTensorRef(digital ? { ...op, bias: null } : op, cols, out, B, group);
  }

  /** Y [n, N] in f64 (no bias) of one matrix on run.chip; `acc` receives the accumulators (the digital unit's input). */
  private vmm(layer: number, group: number, rows: HostTensor, n: number, run: CrossbarRun, acc?: Float64Array): Float64Array {
    const l = this.layers[layer];
    const cfg = l.cfg as XbarConfig;
    const ideal = this.programmed[layer][group]!;
    const xq = quantizeInputs(rows.data, run.sxq, ideal.geom.Qx);
    const ranges = blockRanges(ideal.geom, cfg, this.hi[layer][group]);
    let chip = ideal;
    let noise: ReadNoise | undefined;
    if (run.chip !== 'ideal') {
      const c = (run.chip as CpuChipSet).matrices[layer][group]!;
      chip = c.layer;
      noise = { id: { seed: this.seed, chip: run.chip.chip, layer: perReadLayer(l.parts[group].matrixIndex, run.use ?? 0) }, vectorOffset: run.rowOffset, gains: c.gains, perRead: run.perRead };
    }
    return vmmRef(chip, cfg, xq, n, run.outScale, { hi: (p) => ranges[p], noise, accumulators: acc });
  }

  crossbar(layer: number, group: number, rows: HostTensor, n: number, run: CrossbarRun): { y: HostTensor; negVectors: Pending<number> } {
    const l = this.layers[layer];
    const N = l.parts[group].N;
    const K = l.parts[group].K;
    const dp = this.digitalParams[layer];
    const acc = dp ? new Float64Array(n * N) : undefined;
    const y = this.vmm(layer, group, rows, n, run, acc);
    const bias = run.bias && l.op.kind === 'linear' ? l.op.bias : null;
    const out = new Float32Array(n * N);
    if (dp && acc) {
      // The near-memory unit (DESIGN.md section 11): accumulators to the output code in fixed point, bias included.
      const sw = this.programmed[layer][group]!.sw;
      const groupBias = l.op.bias ? Float64Array.from(l.op.bias.subarray(group * N, (group + 1) * N)) : null;
      const unit = new DigitalUnit(l.cfg!.digital!, { colScale: sw.map((s) => s * run.outScale), bias: run.bias || l.op.kind === 'conv' ? groupBias : null, outScale: dp.outScale, relu: dp.relu });
      out.set(unit.apply(acc, n));
    } else {
      for (let i = 0; i < out.length; i++) out[i] = bias ? y[i] + bias[i % N] : y[i];
    }
    const Qx = this.programmed[layer][group]!.geom.Qx;
    let neg = 0;
    for (const f of negativeFlags(quantizeInputs(rows.data, run.sxq, Qx), n, K)) neg += f;
    return { y: { shape: [n, N], data: out }, negVectors: now(neg) };
  }

  maxAbs(t: HostTensor): Pending<number> {
    let m = 0;
    for (const v of t.data) m = Math.max(m, Math.abs(v));
    return now(m);
  }

  layerMaxAdcInput(layer: number, x: HostTensor, B: number, sxq: number): Pending<number>[] {
    const out: Pending<number>[] = [];
    forEachMatrix(this, this.layers[layer], x, B, (group, rows, n) => {
      const pl = this.programmed[layer][group]!;
      out[group] = now(calibrateAdcRangeRef(pl, this.layers[layer].cfg as XbarConfig, quantizeInputs(rows.data, sxq, pl.geom.Qx), n));
    });
    return out;
  }

  sumAbsOutput(layer: number, group: number, rows: HostTensor, n: number, run: CrossbarRun): Pending<number> {
    let s = 0;
    for (const v of this.vmm(layer, group, rows, n, run)) s += Math.abs(v);
    return now(s);
  }

  read(t: HostTensor): Pending<Float32Array> {
    return now(t.data);
  }

  async flush(): Promise<void> {}

  async finish(): Promise<void> {}
}
