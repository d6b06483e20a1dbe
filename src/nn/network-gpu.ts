import type { XbarConfig } from '../config/types.ts';
import { blockRanges } from '../crossbar/adc.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import { programLayer } from '../crossbar/program.ts';
import { readBuffer, uploadStorage } from '../gpu/buffers.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import type { GpuChip } from '../kernels/program.ts';
import { GpuCrossbarLayer } from '../kernels/xbar.ts';
import { compensationFromSums, needsCalibration, needsDriftCompensation, sumAbs } from './crossbar-layer.ts';
import {
  encodeColsToNchw,
  encodeConvF32,
  encodeDigitalOp,
  encodeIm2col,
  encodeLinearF32,
  prepareConvF32,
  prepareLinearF32,
  type DigitalOp,
  type F32Weights,
} from './digital-ops.ts';
import { isMatrixOp, sizeOf, type ConvOp, type LinearOp, type Network } from '../ir/graph.ts';
import { matrixLayerCounts, planMatrices, type MatrixLayer } from './matrices.ts';
import type { ChipHandle, ForwardResult, NetworkRunner } from './network-runner.ts';
import type { GpuTensor, OpEncoder } from '../gpu/encoder.ts';

/** Records one matrix op: given its input tensor, returns its output tensor. */
type MatrixHandler = (e: OpEncoder, layer: number, x: GpuTensor, B: number) => GpuTensor;

interface GpuChipSet extends ChipHandle {
  /** Per matrix layer, per group. */
  chips: (GpuChip | null)[][];
  /** Per matrix layer, per group: drift compensation factor. */
  comp: number[][];
}

/** Per-sample output shape of a linear ([N]) or conv ([cout, OH, OW]) layer. */
function outputShape(op: LinearOp | ConvOp): number[] {
  return op.kind === 'linear' ? [op.N] : [...op.outShape];
}

/** A network on the WebGPU backend: crossbar layers as GPU chips, everything else digital f32 on the GPU. */
export class GpuNetwork implements NetworkRunner {
  readonly backend = 'webgpu' as const;
  readonly layers: MatrixLayer[];
  readonly scales: { sx: number; hi: number[] }[];
  get layerNames(): string[] {
    return this.layers.map((l) => l.op.name);
  }
  readonly maxBatch: number;
  private readonly f32: (F32Weights | null)[];
  private readonly xbars: (GpuCrossbarLayer | null)[][];
  private calInputs: { x: Float32Array; n: number } | null = null;

  constructor(
    private readonly s: GpuSession,
    readonly net: Network,
    readonly cfg: XbarConfig,
    allDigital: boolean,
  ) {
    this.layers = planMatrices(net, cfg, allDigital);
    this.scales = this.layers.map((l) => ({ sx: 1, hi: l.parts.map(() => 0) }));
    // f32 weights serve --digital layers and the calibration forward pass of every layer.
    this.f32 = this.layers.map((l) => (l.op.kind === 'linear' ? prepareLinearF32(s, l.op) : prepareConvF32(s, l.op)));
    this.xbars = this.layers.map((l) =>
      l.cfg === null
        ? l.parts.map(() => null)
        : l.parts.map((p) => {
            const layer = programLayer(p.W, p.K, p.N, l.cfg!);
            const bias = l.op.kind === 'linear' ? l.op.bias : null; // conv bias is added by the NCHW scatter
            return GpuCrossbarLayer.upload(s, layer, l.cfg!, blockRanges(layer.geom, l.cfg!, 0), { layerIndex: p.matrixIndex, bias });
          }),
    );
    this.maxBatch = this.fitBatch();
  }

  /** Largest batch whose biggest tensor (activation or im2col matrix) fits one storage binding. */
  private fitBatch(): number {
    let perSample = sizeOf(this.net.input.shape);
    for (const shape of this.net.shapes.values()) perSample = Math.max(perSample, sizeOf(shape));
    for (const l of this.layers) {
      if (l.op.kind === 'conv') perSample = Math.max(perSample, l.vectorsPerSample * l.parts[0].K, l.vectorsPerSample * l.parts[0].N);
    }
    const lim = this.s.ctx.limits;
    return Math.max(1, Math.min(1024, Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) / (4 * perSample))));
  }

  private encoder(): { e: OpEncoder; temps: GPUBuffer[] } {
    const { device } = this.s.ctx;
    const temps: GPUBuffer[] = [];
    const e: OpEncoder = {
      session: this.s,
      encoder: device.createCommandEncoder(),
      alloc: (bytes, label) => {
        const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
        temps.push(b);
        return b;
      },
      temp: (b) => (temps.push(b), b),
    };
    return { e, temps };
  }

  /** Records the whole network for one batch; matrix ops go to `handler`. Returns the output tensor. */
  private encodeForward(e: OpEncoder, x: Float32Array, B: number, handler: MatrixHandler): GpuTensor {
    const values = new Map<string, GpuTensor>();
    values.set(this.net.input.name, { shape: [B, ...this.net.input.shape], buf: e.temp(uploadStorage(this.s.ctx.device, x.subarray(0, B * sizeOf(this.net.input.shape)), 'net.input')) });
    let layer = 0;
    for (const op of this.net.ops) {
      const ins = op.inputs.map((n) => {
        const t = values.get(n);
        if (!t) throw new Error(`network: value "${n}" used by ${op.name} before it is produced`);
        return t;
      });
      const out = isMatrixOp(op) ? handler(e, layer++, ins[0], B) : encodeDigitalOp(e, op as DigitalOp, ins, B);
      values.set(op.output, out);
    }
    const y = values.get(this.net.output);
    if (!y) throw new Error(`network: output "${this.net.output}" is never produced`);
    return y;
  }

  private f32Handler: MatrixHandler = (e, layer, x, B) => {
    const l = this.layers[layer];
    const w = this.f32[layer]!;
    return l.op.kind === 'linear' ? encodeLinearF32(e, w, x, B) : encodeConvF32(e, w, x, B);
  };

  /**
   * Records a crossbar matrix layer: for each group, the rows it reads (the activations, or their
   * im2col matrix) go through `run`, and conv outputs are scattered back to NCHW with the bias.
   */
  private encodeCrossbar(
    e: OpEncoder,
    layer: number,
    x: GpuTensor,
    B: number,
    run: (group: number, input: GPUBuffer, out: GPUBuffer, rows: number) => void,
  ): GpuTensor {
    const l = this.layers[layer];
    const op = l.op;
    const out: GpuTensor = { shape: [B, ...outputShape(op)], buf: e.alloc(B * sizeOf(outputShape(op)) * 4, `${op.name}.out`) };
    if (op.kind === 'linear') {
      run(0, x.buf, out.buf, B);
      return out;
    }
    for (const p of l.parts) {
      const cols = encodeIm2col(e, op, x, B, p.group);
      const rows = B * l.vectorsPerSample;
      const y: GpuTensor = { shape: [rows, p.N], buf: e.alloc(rows * p.N * 4, `${op.name}.g${p.group}`) };
      run(p.group, cols.buf, y.buf, rows);
      encodeColsToNchw(e, op, y, out, B, p.group);
    }
    return out;
  }

  async calibrate(x: Float32Array, n: number): Promise<void> {
    this.calInputs = { x, n };
    const perSample = sizeOf(this.net.input.shape);
    const maxAbs = this.layers.map(() => 0);
    // Pass 1: f32 forward; each crossbar layer's sx from the largest |input| it sees.
    await this.overCalibration(async (xb, B) => {
      const { e, temps } = this.encoder();
      const inputs: GpuTensor[] = [];
      this.encodeForward(e, xb, B, (enc, layer, t, b) => {
        inputs[layer] = t;
        return this.f32Handler(enc, layer, t, b);
      });
      this.s.ctx.device.queue.submit([e.encoder.finish()]);
      try {
        for (let i = 0; i < this.layers.length; i++) {
          if (this.layers[i].cfg === null) continue;
          const v = new Float32Array(await readBuffer(this.s.ctx.device, inputs[i].buf, sizeOf(inputs[i].shape) * 4));
          for (const a of v) maxAbs[i] = Math.max(maxAbs[i], Math.abs(a));
        }
      } finally {
        for (const t of temps) t.destroy();
      }
    }, perSample);
    this.layers.forEach((l, i) => {
      if (l.cfg) this.scales[i].sx = maxAbs[i] === 0 ? 1 : maxAbs[i] / (2 ** l.cfg.inputs.bits - 1);
    });
    // Pass 2: the noise-free chip fed those same f32 inputs gives each calibrated ADC range.
    if (!this.layers.some((l) => l.cfg && needsCalibration(l.cfg))) return;
    await this.overCalibration(async (xb, B) => {
      const { e, temps } = this.encoder();
      const traces: { layer: number; group: number; buf: GPUBuffer; count: number }[] = [];
      this.encodeForward(e, xb, B, (enc, layer, t, b) => {
        const l = this.layers[layer];
        if (l.cfg && needsCalibration(l.cfg)) {
          this.encodeCrossbar(enc, layer, t, b, (group, input, _out, rows) => {
            const xl = this.xbars[layer][group]!;
            const buf = enc.alloc(rows * l.parts[group].N * 4, 'trace');
            xl.encode(enc, xl.ideal, { input, out: buf, rows, rowOffset: 0, sxq: this.scales[layer].sx, outScale: 1, trace: true });
            traces.push({ layer, group, buf, count: rows * l.parts[group].N });
          });
        }
        return this.f32Handler(enc, layer, t, b);
      });
      this.s.ctx.device.queue.submit([e.encoder.finish()]);
      try {
        for (const tr of traces) {
          const v = new Float32Array(await readBuffer(this.s.ctx.device, tr.buf, tr.count * 4));
          for (const a of v) this.scales[tr.layer].hi[tr.group] = Math.max(this.scales[tr.layer].hi[tr.group], a);
        }
      } finally {
        for (const t of temps) t.destroy();
      }
    }, perSample);
    // One calibrated range per layer (DESIGN.md section 3), across its groups' matrices.
    this.layers.forEach((l, i) => {
      if (!l.cfg || !needsCalibration(l.cfg)) return;
      const hi = Math.max(...this.scales[i].hi);
      this.scales[i].hi = this.scales[i].hi.map(() => hi);
      for (const xl of this.xbars[i]) xl!.setRanges(blockRanges(xl!.layer.geom, l.cfg, hi));
    });
  }

  adoptCalibration(scales: readonly { sx: number; hi: readonly number[] }[], x: Float32Array, n: number): void {
    this.calInputs = { x, n };
    scales.forEach((sc, i) => {
      this.scales[i] = { sx: sc.sx, hi: [...sc.hi] };
      const l = this.layers[i];
      if (l.cfg && needsCalibration(l.cfg)) this.xbars[i].forEach((xl, g) => xl!.setRanges(blockRanges(xl!.layer.geom, l.cfg!, sc.hi[g])));
    });
  }

  /** Runs `f` over the calibration inputs in batches that fit. */
  private async overCalibration(f: (x: Float32Array, B: number) => Promise<void>, perSample: number): Promise<void> {
    const cal = this.calInputs!;
    for (let s0 = 0; s0 < cal.n; s0 += this.maxBatch) {
      const B = Math.min(this.maxBatch, cal.n - s0);
      await f(cal.x.subarray(s0 * perSample, (s0 + B) * perSample), B);
    }
  }

  async program(chip: number): Promise<ChipHandle> {
    const chips = this.xbars.map((groups) => groups.map((xl) => (xl ? xl.programChip(this.cfg.seed, chip) : null)));
    const comp = this.layers.map((l) => l.parts.map(() => 1));
    const set: GpuChipSet = { chip, chips, comp, release: () => chips.flat().forEach((c) => c?.destroy()) };
    if (this.layers.some((l) => l.cfg && needsDriftCompensation(l.cfg))) await this.measureCompensation(set);
    return set;
  }

  /** Global drift compensation: mean|Y_ideal| / mean|Y_drifted| per matrix, on the calibration inputs' f32 activations. */
  private async measureCompensation(set: GpuChipSet): Promise<void> {
    const sums = this.layers.map((l) => l.parts.map(() => [0, 0]));
    await this.overCalibration(async (xb, B) => {
      const { e, temps } = this.encoder();
      const reads: { layer: number; group: number; ideal: GPUBuffer; drifted: GPUBuffer; count: number }[] = [];
      this.encodeForward(e, xb, B, (enc, layer, t, b) => {
        const l = this.layers[layer];
        if (l.cfg && needsDriftCompensation(l.cfg)) {
          this.encodeCrossbar(enc, layer, t, b, (group, input, _out, rows) => {
            const xl = this.xbars[layer][group]!;
            const count = rows * l.parts[group].N;
            const ideal = enc.alloc(count * 4, 'comp.ideal');
            const drifted = enc.alloc(count * 4, 'comp.drifted');
            const common = { input, rows, rowOffset: 0, sxq: this.scales[layer].sx, outScale: this.scales[layer].sx, perRead: false, bias: false };
            xl.encode(enc, xl.ideal, { ...common, out: ideal });
            xl.encode(enc, set.chips[layer][group]!, { ...common, out: drifted });
            reads.push({ layer, group, ideal, drifted, count });
          });
        }
        return this.f32Handler(enc, layer, t, b);
      });
      this.s.ctx.device.queue.submit([e.encoder.finish()]);
      try {
        for (const r of reads) {
          const a = new Float32Array(await readBuffer(this.s.ctx.device, r.ideal, r.count * 4));
          const d = new Float32Array(await readBuffer(this.s.ctx.device, r.drifted, r.count * 4));
          // The ratio of the sums over all batches equals the ratio of the means.
          sums[r.layer][r.group][0] += sumAbs(a);
          sums[r.layer][r.group][1] += sumAbs(d);
        }
      } finally {
        for (const t of temps) t.destroy();
      }
    }, sizeOf(this.net.input.shape));
    sums.forEach((groups, i) => groups.forEach(([a, d], g) => (set.comp[i][g] = compensationFromSums(a, d))));
  }

  async forward(handle: ChipHandle | null, x: Float32Array, B: number, offset: number): Promise<ForwardResult> {
    const set = handle as GpuChipSet | null;
    const { device } = this.s.ctx;
    const { e, temps } = this.encoder();
    const counters = this.layers.map((l) => l.parts.map(() => (l.cfg ? e.alloc(16, 'negCount') : null)));
    for (const c of counters.flat()) if (c) e.encoder.clearBuffer(c);
    const y = this.encodeForward(e, x, B, (enc, layer, t, b) => {
      const l = this.layers[layer];
      if (!l.cfg || !set) return this.f32Handler(enc, layer, t, b);
      return this.encodeCrossbar(enc, layer, t, b, (group, input, out, rows) => {
        const xl = this.xbars[layer][group]!;
        const sx = this.scales[layer].sx;
        xl.encode(enc, set.chips[layer][group]!, {
          input,
          out,
          rows,
          rowOffset: offset * l.vectorsPerSample,
          sxq: sx,
          outScale: sx * set.comp[layer][group],
          negCounter: counters[layer][group]!,
        });
      });
    });
    const outCount = sizeOf(y.shape);
    const flat = counters.flat();
    const stats = e.alloc(Math.max(16, flat.length * 4), 'negStats');
    flat.forEach((c, i) => c && e.encoder.copyBufferToBuffer(c, 0, stats, i * 4, 4));
    device.queue.submit([e.encoder.finish()]);
    try {
      const output = new Float32Array(await readBuffer(device, y.buf, outCount * 4));
      const neg = new Uint32Array(await readBuffer(device, stats, Math.max(4, flat.length * 4)));
      this.s.ctx.checkErrors();
      let i = 0;
      return { output, negVectors: counters.map((groups) => groups.map(() => neg[i++])) };
    } finally {
      for (const t of temps) t.destroy();
    }
  }

  layerCounts(layer: number, samples: number, negVectors: readonly number[]): EventCounts {
    return matrixLayerCounts(this.layers[layer], this.xbars[layer].map((xl) => xl?.layer.geom ?? null), samples, negVectors);
  }

  destroy(): void {
    for (const w of this.f32) w?.destroy();
    for (const g of this.xbars) for (const xl of g) xl?.destroy();
  }
}
