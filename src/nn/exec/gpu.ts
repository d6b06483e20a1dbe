/**
 * The WebGPU executor: analog matrices as GPU chips (programmed on the GPU, kept there across
 * batches), everything else f32 WGSL; one command buffer per batch, and every value a batch reads
 * back copied into one staging buffer, so a batch costs one submit and one map.
 */
import { blockRanges } from '../../crossbar/adc.ts';
import { programLayer } from '../../crossbar/program.ts';
import { UniformArena, uploadStorage } from '../../gpu/buffers.ts';
import { ConstantCache, type GpuTensor, type OpEncoder } from '../../gpu/encoder.ts';
import type { GpuSession } from '../../gpu/runtime.ts';
import { sizeOf, type ConvOp, type Network } from '../../ir/graph.ts';
import { elementCount } from '../../ir/tensor.ts';
import type { GpuChip } from '../../kernels/program.ts';
import { GpuCrossbarLayer } from '../../kernels/xbar.ts';
import { sumAbs } from '../calibration.ts';
import type { MatrixLayer } from '../matrices.ts';
import { encodeColsToNchw, encodeConvF32, encodeIm2col, encodeLinearF32, prepareConvF32, prepareLinearF32, type F32Weights } from '../ops/matrix.ts';
import { encodeDigitalOp, gpuKernelMissing } from '../ops/registry.ts';
import type { OpContext } from '../ops/types.ts';
import { UsageError } from '../../errors.ts';
import { GpuAdapter } from '../../adapters/gpu.ts';
import type { AdapterLayer } from '../../adapters/set.ts';
import { DigitalUnit } from '../../readout/digital.ts';
import type { ExecBatch, ChipSet, CrossbarRun, Executor, Pending } from './types.ts';
import { LevelFitRows } from './level-fit.ts';
import { fitsLevels } from '../../readout/tables.ts';
import { quantizeInputs } from '../../crossbar/quantize.ts';
import { GpuAdcMax } from '../../kernels/adc-max.ts';
import { forEachMatrix } from '../walk.ts';

/** The digital unit's calibrated parameters of one layer (null: f32), as the CPU executor keeps them. */
type DigitalParams = { outScale: number; relu: boolean } | null;

interface GpuChipSet extends ChipSet {
  /** Per matrix layer, per group (null: digital layer). */
  matrices: (GpuChip | null)[][];
}

/** Runs a network's matrices on WebGPU. */
export class GpuExecutor implements Executor<GpuTensor> {
  readonly kind = 'webgpu' as const;
  readonly maxBatch: number;
  readonly calibrationBatch: number;
  private readonly f32: F32Weights[];
  private readonly xbars: (GpuCrossbarLayer | null)[][];
  private readonly digitalParams: DigitalParams[];
  /** Calibration rows of matrices whose ADC levels are fitted (adc.nonuniform.levels []), until setRanges fits them. */
  private readonly fitRows = new LevelFitRows();

  constructor(
    private readonly s: GpuSession,
    private readonly net: Network,
    private readonly layers: readonly MatrixLayer[],
    private readonly seed: number,
  ) {
    const missing = [...new Set(net.ops.map(gpuKernelMissing).filter((m) => m !== null))];
    if (missing.length > 0) throw new UsageError(`this network uses ops with no WebGPU kernel yet (${missing.join(', ')}); run it with --backend cpu`);
    this.digitalParams = layers.map(() => null);
    // f32 weights serve digital layers and the calibration forward pass of every layer.
    this.f32 = layers.map((l) => (l.op.kind === 'linear' ? prepareLinearF32(s, l.op) : prepareConvF32(s, l.op)));
    this.xbars = layers.map((l) =>
      l.parts.map((p) => {
        if (!l.cfg) return null;
        const layer = programLayer(p.W, p.K, p.N, l.cfg);
        const bias = l.op.kind === 'linear' ? l.op.bias : null; // conv bias is added by the NCHW scatter
        return GpuCrossbarLayer.upload(s, layer, l.cfg, blockRanges(layer.geom, l.cfg, 0), { layerIndex: p.matrixIndex, bias });
      }),
    );
    this.maxBatch = this.fitBatch();
    this.calibrationBatch = this.maxBatch;
    this.adapters = layers.map(() => null);
  }

  private readonly adapters: (GpuAdapter | null)[];

  setAdapter(layer: number, a: AdapterLayer | null): void {
    this.adapters[layer]?.destroy();
    this.adapters[layer] = a ? GpuAdapter.upload(this.s, this.layers[layer].op.name, a) : null;
  }

  /** Largest batch whose biggest tensor (an activation, or a conv's im2col rows or outputs) fits one storage binding. */
  private fitBatch(): number {
    let perSample = sizeOf(this.net.input.shape);
    for (const shape of this.net.shapes.values()) perSample = Math.max(perSample, sizeOf(shape));
    for (const l of this.layers) {
      perSample = Math.max(perSample, l.vectorsPerUse * l.parts[0].K, l.vectorsPerUse * l.parts[0].N);
    }
    const lim = this.s.ctx.limits;
    return Math.max(1, Math.min(1024, Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) / (4 * perSample))));
  }

  setRanges(layer: number, hi: readonly number[]): void {
    const l = this.layers[layer];
    if (!l.cfg) return;
    this.xbars[layer].forEach((xl, g) => {
      // Levels fitted on the calibration rows go in before the ranges, which repack the chips' tables.
      if (fitsLevels(l.cfg!)) this.fitRows.fit(layer, g, xl!.layer, l.cfg!);
      xl!.setRanges(blockRanges(xl!.layer.geom, l.cfg!, hi[g]));
    });
  }

  setDigital(layer: number, outScale: number, relu: boolean): void {
    this.digitalParams[layer] = { outScale, relu };
  }

  programChip(chip: number): ChipSet {
    const matrices = this.xbars.map((groups) => groups.map((xl) => (xl ? xl.programChip(this.seed, chip) : null)));
    const set: GpuChipSet = { chip, matrices, release: () => matrices.flat().forEach((c) => c?.destroy()) };
    return set;
  }

  batch(sampleOffset = 0): ExecBatch<GpuTensor> {
    return new GpuBatch(this.s, this.net, this.layers, this.f32, this.xbars, this.adapters, this.digitalParams, this.fitRows, (layer, group) => this.adcMax(layer, group), this.constants, { seed: this.seed, sampleOffset });
  }

  /** The digital ops' constant tables (embeddings, masks, biases), uploaded on first use and kept for every batch. */
  private readonly constants = new ConstantCache((data, label) => uploadStorage(this.s.ctx.device, data, label));

  /** Calibration's range kernel of one matrix (src/kernels/adc-max.ts), made on first use; null where the layer's levels are not exact. */
  private adcMax(layer: number, group: number): GpuAdcMax | null {
    const key = `${layer}/${group}`;
    if (!this.adcMaxes.has(key)) this.adcMaxes.set(key, GpuAdcMax.create(this.s, this.xbars[layer][group]!));
    return this.adcMaxes.get(key)!;
  }

  private readonly adcMaxes = new Map<string, GpuAdcMax | null>();

  destroy(): void {
    this.constants.destroy();
    for (const k of this.adcMaxes.values()) k?.destroy();
    for (const w of this.f32) w.destroy();
    for (const g of this.xbars) for (const xl of g) xl?.destroy();
    for (const a of this.adapters) a?.destroy();
  }
}

/** A readback registered during recording, resolved by finish(). */
interface Readback {
  buf: GPUBuffer;
  bytes: number;
  offset: number;
  value: ArrayBuffer | null;
}

class GpuBatch implements ExecBatch<GpuTensor> {
  private readonly temps: GPUBuffer[] = [];
  private readonly uniforms: UniformArena;
  /** Storage this batch allocated, the held values sharing each buffer, and released buffers by size (walkNetwork's recycle). */
  private readonly allocated = new Set<GPUBuffer>();
  private readonly holds = new Map<GPUBuffer, number>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly reads: Readback[] = [];
  private readBytes = 0;
  private readonly e: OpEncoder;

  constructor(
    private readonly s: GpuSession,
    private readonly net: Network,
    private readonly layers: readonly MatrixLayer[],
    private readonly f32w: readonly F32Weights[],
    private readonly xbars: readonly (GpuCrossbarLayer | null)[][],
    private readonly adapters: readonly (GpuAdapter | null)[],
    private readonly digitalParams: readonly DigitalParams[],
    private readonly fitRows: LevelFitRows,
    private readonly adcMax: (layer: number, group: number) => GpuAdcMax | null,
    constants: ConstantCache,
    private readonly ctx: OpContext,
  ) {
    const { device } = s.ctx;
    this.uniforms = new UniformArena(device);
    this.e = {
      session: s,
      encoder: device.createCommandEncoder(),
      alloc: (bytes, label) => {
        const size = Math.max(16, Math.ceil(bytes / 4) * 4);
        // Only an exact size is reused: some kernels bind a whole buffer and read its length.
        const reused = this.free.get(size)?.pop();
        if (reused) return reused;
        const b = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
        this.temps.push(b);
        this.allocated.add(b);
        return b;
      },
      temp: (b) => (this.temps.push(b), b),
      uniform: (bytes, label) => this.uniforms.put(bytes, label),
      constant: (owner, label, make) => constants.get(owner, label, make),
    };
  }

  /** Registers `bytes` of `buf` to be read back after the batch runs. */
  private readLater<V>(buf: GPUBuffer, bytes: number, decode: (data: ArrayBuffer) => V): Pending<V> {
    const r: Readback = { buf, bytes, offset: this.readBytes, value: null };
    this.readBytes += Math.ceil(Math.max(4, bytes) / 4) * 4;
    this.reads.push(r);
    let memo: { v: V } | null = null;
    return {
      get: () => {
        if (r.value === null) throw new Error('network: a GPU result was read before its batch finished');
        memo ??= { v: decode(r.value) };
        return memo.v;
      },
    };
  }

  input(x: Float32Array, B: number): GpuTensor {
    return { shape: [B, ...this.net.input.shape], buf: this.e.temp(uploadStorage(this.s.ctx.device, x.subarray(0, B * sizeOf(this.net.input.shape)), 'net.input')) };
  }

  digital(op: Parameters<typeof encodeDigitalOp>[1], inputs: readonly GpuTensor[], B: number): GpuTensor {
    return encodeDigitalOp(this.e, op, inputs, B, this.ctx);
  }

  f32(layer: number, x: GpuTensor, B: number): GpuTensor {
    const op = this.layers[layer].op;
    return op.kind === 'linear' ? encodeLinearF32(this.e, this.f32w[layer], x, B * this.layers[layer].vectorsPerUse) : encodeConvF32(this.e, this.f32w[layer], x, B);
  }

  im2col(op: ConvOp, x: GpuTensor, B: number, group: number): GpuTensor {
    return encodeIm2col(this.e, op, x, B, group);
  }

  convOutput(op: ConvOp, B: number): GpuTensor {
    return { shape: [B, ...op.outShape], buf: this.e.alloc(B * sizeOf(op.outShape) * 4, `${op.name}.out`) };
  }

  scatter(op: ConvOp, cols: GpuTensor, out: GpuTensor, B: number, group: number): void {
    // A layer with a digital unit has its bias added in fixed point already (as the CPU executor).
    const digital = this.layers.some((l, i) => l.op === op && this.digitalParams[i] !== null);
    encodeColsToNchw(this.e, digital ? { ...op, bias: null } : op, cols, out, B, group);
  }

  /** The layer's near-memory unit for this run (the CPU executor's, built from the same numbers), or undefined. */
  private digitalUnit(layer: number, group: number, run: CrossbarRun): DigitalUnit | undefined {
    const dp = this.digitalParams[layer];
    if (!dp) return undefined;
    const l = this.layers[layer];
    const N = l.parts[group].N;
    const sw = this.xbars[layer][group]!.layer.sw;
    const groupBias = l.op.bias ? Float64Array.from(l.op.bias.subarray(group * N, (group + 1) * N)) : null;
    return new DigitalUnit(l.cfg!.digital!, { colScale: sw.map((s) => s * run.outScale), bias: run.bias || l.op.kind === 'conv' ? groupBias : null, outScale: dp.outScale, relu: dp.relu });
  }

  private chipOf(layer: number, group: number, run: CrossbarRun): GpuChip {
    const xl = this.xbars[layer][group]!;
    return run.chip === 'ideal' ? xl.ideal : (run.chip as GpuChipSet).matrices[layer][group]!;
  }

  /** Records one matrix's outputs [n, N] on run.chip into a new tensor. */
  private encodeRun(layer: number, group: number, rows: GpuTensor, n: number, run: CrossbarRun, negCounter?: GPUBuffer, withDigital = false): GpuTensor {
    const N = this.layers[layer].parts[group].N;
    const y: GpuTensor = { shape: [n, N], buf: this.e.alloc(n * N * 4, `${this.layers[layer].op.name}.g${group}`) };
    this.xbars[layer][group]!.encode(this.e, this.chipOf(layer, group, run), {
      input: rows.buf,
      out: y.buf,
      rows: n,
      rowOffset: run.rowOffset,
      sxq: run.sxq,
      outScale: run.outScale,
      perRead: run.perRead,
      bias: run.bias,
      negCounter,
      vectorsPerDispatch: run.vectorsPerDispatch,
      use: run.use,
      digital: withDigital ? this.digitalUnit(layer, group, run) : undefined,
    });
    return y;
  }

  crossbar(layer: number, group: number, rows: GpuTensor, n: number, run: CrossbarRun): { y: GpuTensor; negVectors: Pending<number> } {
    const counter = this.e.alloc(16, 'negCount');
    this.e.encoder.clearBuffer(counter);
    const y = this.encodeRun(layer, group, rows, n, run, counter, true);
    return { y, negVectors: this.readLater(counter, 4, (d) => new Uint32Array(d)[0]) };
  }

  maxAbs(t: GpuTensor): Pending<number> {
    return this.readLater(t.buf, elementCount(t.shape) * 4, (d) => {
      let m = 0;
      for (const v of new Float32Array(d)) m = Math.max(m, Math.abs(v));
      return m;
    });
  }

  layerMaxAdcInput(layer: number, x: GpuTensor, B: number, sxq: number): Pending<number>[] {
    const l = this.layers[layer];
    const out: Pending<number>[] = [];
    // Exact levels: one dispatch per matrix straight from the layer's input (no im2col rows, no per-output trace).
    const fast = l.parts.map((p) => (fitsLevels(l.cfg!) ? null : this.adcMax(layer, p.group)));
    if (fast.every((k) => k !== null)) {
      const n = B * l.vectorsPerUse;
      for (const p of l.parts) {
        const hi = this.e.alloc(16, 'adcMax.hi');
        this.e.encoder.clearBuffer(hi);
        const input = l.op.kind === 'linear' ? { kind: 'rows' as const, buf: x.buf } : { kind: 'conv' as const, buf: x.buf, geom: l.op, B, group: p.group };
        fast[p.group]!.encode(this.e, input, n, sxq, hi);
        out[p.group] = this.readLater(hi, 4, (d) => new Float32Array(d)[0]);
      }
      return out;
    }
    forEachMatrix(this, l, x, B, (group, rows, n) => (out[group] = this.maxAdcInput(layer, group, rows, n, sxq)));
    return out;
  }

  /** The trace of the crossbar kernel: largest |ADC input| of the noise-free chip over im2col rows (levels fitted on the host, inexact levels, NNS+A). */
  private maxAdcInput(layer: number, group: number, rows: GpuTensor, n: number, sxq: number): Pending<number> {
    const xl = this.xbars[layer][group]!;
    const count = n * this.layers[layer].parts[group].N;
    const buf = this.e.alloc(count * 4, 'trace');
    xl.encode(this.e, xl.ideal, { input: rows.buf, out: buf, rows: n, rowOffset: 0, sxq, outScale: 1, trace: true });
    const K = this.layers[layer].parts[group].K;
    // Fitted levels need every ADC input's histogram: the rows go to the host, quantized as the CPU executor does.
    const kept = fitsLevels(xl.cfg) ? this.readLater(rows.buf, n * K * 4, (d) => this.fitRows.add(layer, group, quantizeInputs(new Float32Array(d), sxq, xl.layer.geom.Qx), n)) : null;
    const hi = this.readLater(buf, count * 4, (d) => {
      let m = 0;
      for (const v of new Float32Array(d)) m = Math.max(m, v);
      return m;
    });
    return {
      get: () => {
        kept?.get();
        return hi.get();
      },
    };
  }

  sumAbsOutput(layer: number, group: number, rows: GpuTensor, n: number, run: CrossbarRun): Pending<number> {
    const y = this.encodeRun(layer, group, rows, n, run);
    return this.readLater(y.buf, elementCount(y.shape) * 4, (d) => sumAbs(new Float32Array(d)));
  }

  adapter(layer: number, x: GpuTensor, y: GpuTensor, n: number): GpuTensor {
    const ad = this.adapters[layer];
    return ad ? ad.encode(this.e, x, y, n) : y;
  }

  hold(t: GpuTensor): void {
    this.holds.set(t.buf, (this.holds.get(t.buf) ?? 0) + 1);
  }

  release(t: GpuTensor): void {
    const n = (this.holds.get(t.buf) ?? 1) - 1;
    if (n > 0) {
      this.holds.set(t.buf, n);
      return;
    }
    this.holds.delete(t.buf);
    // Storage that is not the batch's own (the input upload, constants) or is still to be read back is never reused.
    if (!this.allocated.has(t.buf) || this.reads.some((r) => r.buf === t.buf)) return;
    const same = this.free.get(t.buf.size) ?? [];
    same.push(t.buf);
    this.free.set(t.buf.size, same);
  }

  read(t: GpuTensor): Pending<Float32Array> {
    return this.readLater(t.buf, elementCount(t.shape) * 4, (d) => new Float32Array(d));
  }

  async flush(): Promise<void> {
    const { device } = this.s.ctx;
    let staging: GPUBuffer | null = null;
    const reads = this.reads.splice(0);
    const bytes = this.readBytes;
    this.readBytes = 0;
    try {
      if (bytes > 0) {
        staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'batch.readback' });
        for (const r of reads) this.e.encoder.copyBufferToBuffer(r.buf, 0, staging, r.offset, Math.ceil(Math.max(4, r.bytes) / 4) * 4);
      }
      device.queue.submit([this.e.encoder.finish()]);
      this.e.encoder = device.createCommandEncoder();
      if (staging) {
        await staging.mapAsync(GPUMapMode.READ);
        const all = staging.getMappedRange();
        for (const r of reads) r.value = all.slice(r.offset, r.offset + r.bytes);
        staging.unmap();
      }
      this.s.ctx.checkErrors();
      // A chip's circuit solves (circuit.model "solve") report here, before any of its outputs are used.
      for (const groups of this.xbars) for (const xl of groups) await xl?.settle();
    } finally {
      staging?.destroy();
    }
  }

  async finish(): Promise<void> {
    try {
      await this.flush();
    } finally {
      for (const t of this.temps) t.destroy();
      this.uniforms.destroy();
    }
  }
}
