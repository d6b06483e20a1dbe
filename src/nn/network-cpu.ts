import type { XbarConfig } from '../config/types.ts';
import { blockRanges } from '../crossbar/adc.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import { programLayer, type ProgrammedLayer } from '../crossbar/program.ts';
import { negativeFlags, quantizeInputs } from '../crossbar/quantize.ts';
import { calibrateAdcRangeReference, referenceVmm, type ReadNoise } from '../reference/vmm.ts';
import { compensationFactor, needsCalibration, needsDriftCompensation, programChipReference } from './crossbar-layer.ts';
import { cpuColsToNchw, cpuConvF32, cpuDigitalOp, cpuIm2col, cpuLinearF32, type DigitalOp } from './digital-ops.ts';
import { isMatrixOp, sizeOf, type Network } from '../ir/graph.ts';
import { matrixLayerCounts, planMatrices, type MatrixLayer } from './matrices.ts';
import type { ChipHandle, ForwardResult, NetworkRunner } from './network-runner.ts';
import type { HostTensor } from '../ir/tensor.ts';

type HostHandler = (layer: number, x: HostTensor, B: number) => HostTensor;

interface CpuChip {
  layer: ProgrammedLayer;
  gains: Float64Array;
  comp: number;
}

interface CpuChipSet extends ChipHandle {
  chips: (CpuChip | null)[][];
}

/** The CPU reference of a whole network: the oracle of GpuNetwork and the no-GPU fallback. */
export class CpuNetwork implements NetworkRunner {
  readonly backend = 'cpu' as const;
  readonly layers: MatrixLayer[];
  readonly scales: { sx: number; hi: number[] }[];
  get layerNames(): string[] {
    return this.layers.map((l) => l.op.name);
  }
  readonly maxBatch = 64;
  private readonly programmed: (ProgrammedLayer | null)[][];
  private cal: { x: Float32Array; n: number } | null = null;

  constructor(
    readonly net: Network,
    readonly cfg: XbarConfig,
    allDigital: boolean,
  ) {
    this.layers = planMatrices(net, cfg, allDigital);
    this.scales = this.layers.map((l) => ({ sx: 1, hi: l.parts.map(() => 0) }));
    this.programmed = this.layers.map((l) => l.parts.map((p) => (l.cfg ? programLayer(p.W, p.K, p.N, l.cfg) : null)));
  }

  private forwardWith(x: Float32Array, B: number, handler: HostHandler): HostTensor {
    const values = new Map<string, HostTensor>();
    values.set(this.net.input.name, { shape: [B, ...this.net.input.shape], data: x.subarray(0, B * sizeOf(this.net.input.shape)) });
    let layer = 0;
    for (const op of this.net.ops) {
      const ins = op.inputs.map((n) => values.get(n)!);
      values.set(op.output, isMatrixOp(op) ? handler(layer++, ins[0], B) : cpuDigitalOp(op as DigitalOp, ins, B));
    }
    return values.get(this.net.output)!;
  }

  private f32: HostHandler = (layer, x, B) => {
    const op = this.layers[layer].op;
    return op.kind === 'linear' ? cpuLinearF32(op, x, B) : cpuConvF32(op, x, B);
  };

  /** The rows a crossbar matrix reads: the activations, or one group's im2col matrix. */
  private rows(layer: number, x: HostTensor, B: number, group: number): HostTensor {
    const op = this.layers[layer].op;
    return op.kind === 'linear' ? { shape: [B, op.K], data: x.data } : cpuIm2col(op, x, B, group);
  }

  /** Runs each group's rows through `vmm` and assembles the layer output (bias included). */
  private crossbar(layer: number, x: HostTensor, B: number, vmm: (group: number, rows: HostTensor) => Float64Array): HostTensor {
    const l = this.layers[layer];
    const op = l.op;
    if (op.kind === 'linear') {
      const y = vmm(0, this.rows(layer, x, B, 0));
      const out = new Float32Array(B * op.N);
      for (let i = 0; i < out.length; i++) out[i] = y[i] + (op.bias ? op.bias[i % op.N] : 0);
      return { shape: [B, op.N], data: out };
    }
    const out: HostTensor = { shape: [B, ...op.outShape], data: new Float32Array(B * sizeOf(op.outShape)) };
    for (const p of l.parts) {
      const rows = this.rows(layer, x, B, p.group);
      cpuColsToNchw(op, { shape: [rows.shape[0], p.N], data: Float32Array.from(vmm(p.group, rows)) }, out, B, p.group);
    }
    return out;
  }

  async calibrate(x: Float32Array, n: number): Promise<void> {
    this.cal = { x, n };
    const maxAbs = this.layers.map(() => 0);
    this.forwardWith(x, n, (layer, t, B) => {
      for (const v of t.data) maxAbs[layer] = Math.max(maxAbs[layer], Math.abs(v));
      return this.f32(layer, t, B);
    });
    this.layers.forEach((l, i) => {
      if (l.cfg) this.scales[i].sx = maxAbs[i] === 0 ? 1 : maxAbs[i] / (2 ** l.cfg.inputs.bits - 1);
    });
    this.forwardWith(x, n, (layer, t, B) => {
      const l = this.layers[layer];
      if (l.cfg && needsCalibration(l.cfg)) {
        for (const p of l.parts) {
          const rows = this.rows(layer, t, B, p.group);
          const pl = this.programmed[layer][p.group]!;
          const xq = quantizeInputs(rows.data, this.scales[layer].sx, pl.geom.Qx);
          this.scales[layer].hi[p.group] = calibrateAdcRangeReference(pl, l.cfg, xq, rows.shape[0]);
        }
        const hi = Math.max(...this.scales[layer].hi);
        this.scales[layer].hi = this.scales[layer].hi.map(() => hi);
      }
      return this.f32(layer, t, B);
    });
  }

  adoptCalibration(scales: readonly { sx: number; hi: readonly number[] }[], x: Float32Array, n: number): void {
    this.cal = { x, n };
    scales.forEach((sc, i) => (this.scales[i] = { sx: sc.sx, hi: [...sc.hi] }));
  }

  async program(chip: number): Promise<ChipHandle> {
    const chips = this.layers.map((l, i) =>
      l.parts.map((p) => {
        if (!l.cfg) return null;
        const c = programChipReference(this.programmed[i][p.group]!, l.cfg, { seed: this.cfg.seed, chip, layer: p.matrixIndex });
        return { layer: c.chip, gains: c.gains, comp: 1 };
      }),
    );
    if (this.layers.some((l) => l.cfg && needsDriftCompensation(l.cfg)) && this.cal) {
      const { x, n } = this.cal;
      this.forwardWith(x, n, (layer, t, B) => {
        const l = this.layers[layer];
        if (l.cfg && needsDriftCompensation(l.cfg)) {
          for (const p of l.parts) {
            const c = chips[layer][p.group]!;
            const rows = this.rows(layer, t, B, p.group);
            const ideal = this.vmm(layer, p.group, rows, this.programmed[layer][p.group]!, undefined, 1);
            const drifted = this.vmm(layer, p.group, rows, c.layer, { id: { seed: this.cfg.seed, chip, layer: p.matrixIndex }, vectorOffset: 0, gains: c.gains, perRead: false }, 1);
            c.comp = compensationFactor(ideal, drifted);
          }
        }
        return this.f32(layer, t, B);
      });
    }
    const set: CpuChipSet = { chip, chips, release: () => undefined };
    return set;
  }

  private vmm(layer: number, group: number, rows: HostTensor, chip: ProgrammedLayer, noise: ReadNoise | undefined, comp: number): Float64Array {
    const l = this.layers[layer];
    const cfg = l.cfg!;
    const sx = this.scales[layer].sx;
    const xq = quantizeInputs(rows.data, sx, chip.geom.Qx);
    const ranges = blockRanges(chip.geom, cfg, this.scales[layer].hi[group]);
    return referenceVmm(chip, cfg, xq, rows.shape[0], sx * comp, { hi: (p) => ranges[p], noise });
  }

  async forward(handle: ChipHandle | null, x: Float32Array, B: number, offset: number): Promise<ForwardResult> {
    const set = handle as CpuChipSet | null;
    const negVectors = this.layers.map((l) => l.parts.map(() => 0));
    const y = this.forwardWith(x, B, (layer, t, b) => {
      const l = this.layers[layer];
      if (!l.cfg || !set) return this.f32(layer, t, b);
      return this.crossbar(layer, t, b, (group, rows) => {
        const c = set.chips[layer][group]!;
        const K = rows.shape[1];
        const xq = quantizeInputs(rows.data, this.scales[layer].sx, c.layer.geom.Qx);
        for (const f of negativeFlags(xq, rows.shape[0], K)) negVectors[layer][group] += f;
        const noise: ReadNoise = { id: { seed: this.cfg.seed, chip: set.chip, layer: l.parts[group].matrixIndex }, vectorOffset: offset * l.vectorsPerSample, gains: c.gains };
        return this.vmm(layer, group, rows, c.layer, noise, c.comp);
      });
    });
    return { output: y.data, negVectors };
  }

  layerCounts(layer: number, samples: number, negVectors: readonly number[]): EventCounts {
    return matrixLayerCounts(this.layers[layer], this.programmed[layer].map((p) => p?.geom ?? null), samples, negVectors);
  }

  destroy(): void {}
}
