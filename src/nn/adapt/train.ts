/**
 * Training digital adapters with the analog weights frozen (issue 17; Li et al. 2024): each step runs
 * the simulator's own forward pass on a programmed chip (noise and quantization in the loop, any
 * backend), then the backward (the CPU oracle src/nn/adapt/backward.ts, or its WebGPU twin
 * backward-gpu.ts on a WebGPU backend; straight-through through the chip's effective weights) and Adam. Hardware-aware mode programs a different chip each mini-batch
 * (chips HW_CHIP_BASE + step: never an evaluation chip 0..N−1); on-chip mode fits one chip.
 */
import type { XbarConfig } from '../../config/types.ts';
import { programLayer, type ProgrammedLayer } from '../../crossbar/program.ts';
import { isMatrixOp, type LinearOp, type Network } from '../../ir/graph.ts';
import { NOISE_STREAM, NoiseDraws, uniform24 } from '../../random/philox.ts';
import { programChipRef } from '../../reference/chip.ts';
import { UsageError } from '../../errors.ts';
import { newAdapter, scaledUp, type AdapterLayer, type AdapterSet } from '../../adapters/set.ts';
import { planMatrices, type MatrixLayer } from '../matrices.ts';
import type { ChipHandle, NetworkRunner } from '../runner.ts';
import { adapterGradients, softmaxCrossEntropy, unsupportedOp, BACKWARD_OPS } from './backward.ts';
import { decodeWeights } from './effective.ts';
import type { GpuSession } from '../../gpu/runtime.ts';
import { gpuGradients } from './backward-gpu.ts';

/** First chip instance hardware-aware training programs (step t uses HW_CHIP_BASE + t). */
export const HW_CHIP_BASE = 0x80000000;

/** Labelled samples, row-major [n, sampleSize]. */
export interface TrainData {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  sampleSize: number;
}

/** What an adapter training run does. */
export interface AdaptOptions {
  rank: number;
  alpha: number;
  /** Linear layers to adapt by name (null: every analog linear layer). */
  layers: readonly string[] | null;
  /** On-chip mode: fit chip `chip`; null: hardware-aware (a new chip per mini-batch). */
  chip: number | null;
  lr: number;
  batch: number;
  /** Seed of the initial A (stream adapterInit) and of the batch order (stream adapterShuffle). */
  seed: number;
}

/** Adam (Kingma & Ba 2015) defaults: β1 0.9, β2 0.999, ε 1e-8. */
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** A run's state: the set, Adam's moments and the step count (what a checkpoint holds). */
export interface TrainState {
  set: AdapterSet;
  m: Map<string, { A: Float64Array; B: Float64Array }>;
  v: Map<string, { A: Float64Array; B: Float64Array }>;
  step: number;
}

/** What a trainer calls itself and the layers it takes, for its one-line errors. */
export interface TrainerWords {
  /** The command: "adapt" or "adapt --full". */
  cmd: string;
  /** The layers it takes, as users name them: "linear (Gemm/MatMul)". */
  kinds: string;
  /** What it does to them: "adapt", "train". */
  verb: string;
}

/**
 * The layers a trainer takes, checked against the network with one-line errors: the named ones (each
 * once, in the order given), or (null) every analog one of those kinds whose backward crosses only ops
 * with a gradient (the others are left out; --layers makes the choice explicit).
 */
export function trainableLayers<O extends MatrixLayer['op']>(net: Network, cfg: XbarConfig, names: readonly string[] | null, takes: (op: MatrixLayer['op']) => op is O, words: TrainerWords): O[] {
  const plan = planMatrices(net, cfg, false);
  if (names === null) {
    // A tied layer's gradient would sum over its steps (backpropagation through time), which training does not do.
    const analog = plan.filter((l) => l.cfg !== null && l.ops.length === 1).map((l) => l.op).filter(takes);
    if (analog.length === 0) throw new UsageError(`${words.cmd}: the model has no analog ${words.kinds} layer to ${words.verb}`);
    const ok = analog.filter((op) => unsupportedOp(net, net.ops.indexOf(op)) === null);
    if (ok.length === 0) throw new UsageError(`${words.cmd}: every ${words.kinds} layer is followed by an op training cannot differentiate (supported: ${BACKWARD_OPS})`);
    return ok;
  }
  const all = plan.map((l) => l.op).filter(takes);
  return [...new Set(names)].map((n) => {
    const op = all.find((o) => o.name === n);
    if (!op) throw new UsageError(`--layers: "${n}" is not a ${words.kinds} layer (allowed: ${all.map((o) => o.name).join(', ')})`);
    const steps = plan.find((l) => l.op === op)!.ops.length;
    if (steps > 1) throw new UsageError(`--layers: "${n}" is a recurrent weight used at ${steps} time steps; ${words.cmd} cannot ${words.verb} it (no backpropagation through time); choose other layers`);
    // Checked here, before any device opens: the trainer would refuse it later.
    const bad = unsupportedOp(net, net.ops.indexOf(op));
    if (bad) throw new UsageError(`--layers: "${n}": cannot differentiate ${bad.kind} op "${bad.name}" after it (supported: ${BACKWARD_OPS}); choose later layers`);
    return op;
  });
}

/** The linear layers an option set adapts, checked against the network; one-line errors. */
export function adaptedLayers(net: Network, cfg: XbarConfig, names: readonly string[] | null): LinearOp[] {
  return trainableLayers(net, cfg, names, (op): op is LinearOp => op.kind === 'linear', { cmd: 'adapt', kinds: 'linear (Gemm/MatMul)', verb: 'adapt' });
}

/** LoRA's initialisation: A uniform in ±1/√K (Kaiming-uniform with a = √5, as PyTorch's nn.Linear), B = 0. */
export function initialSet(layers: readonly LinearOp[], rank: number, alpha: number, seed: number): AdapterSet {
  const set: AdapterSet = new Map();
  for (const op of layers) {
    const draws = new NoiseDraws(seed, 0, op.layerIndex, NOISE_STREAM.adapterInit);
    let i = 0;
    const bound = 1 / Math.sqrt(op.K);
    set.set(op.name, newAdapter(op.K, op.N, Math.min(rank, op.K, op.N), alpha, () => (2 * uniform24(draws.words(i++)[0]) - 1) * bound));
  }
  return set;
}

/** The sample order of one epoch: a Fisher–Yates shuffle driven by stream adapterShuffle. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const draws = new NoiseDraws(seed, 0, 0, NOISE_STREAM.adapterShuffle);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform24(draws.words(i, epoch)[0]) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A fresh state for `set`: zero moments, step 0. */
export function freshState(set: AdapterSet): TrainState {
  const zeros = () => new Map([...set].map(([k, a]) => [k, { A: new Float64Array(a.A.length), B: new Float64Array(a.B.length) }]));
  return { set, m: zeros(), v: zeros(), step: 0 };
}

/** One Adam step on one f32 tensor `p` with gradient `g` and moments m, v at step t (1-based). */
export function adamUpdate(p: Float32Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, lr: number, t: number): void {
  const c1 = 1 - BETA1 ** t;
  const c2 = 1 - BETA2 ** t;
  for (let i = 0; i < p.length; i++) {
    m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
    v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
    p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + EPS);
  }
}

/** Applies one Adam step of `grads` to the state's set in place. */
export function adamStep(state: TrainState, grads: ReadonlyMap<string, { dA: Float64Array; dB: Float64Array }>, lr: number): void {
  state.step++;
  for (const [name, a] of state.set) {
    const g = grads.get(name);
    if (!g) continue;
    const m = state.m.get(name)!;
    const v = state.v.get(name)!;
    adamUpdate(a.A, g.dA, m.A, v.A, lr, state.step);
    adamUpdate(a.B, g.dB, m.B, v.B, lr, state.step);
  }
}

/**
 * One epoch over `data` in the shuffled order of (seed, epoch), mini-batches of `batch` through `step`;
 * returns the sample-weighted mean loss and the training accuracy.
 */
export async function runEpoch(data: TrainData, seed: number, epoch: number, batch: number, step: (x: Float32Array, y: Int32Array, b: number) => Promise<StepResult>, onStep?: (r: StepResult, done: number) => void): Promise<{ loss: number; accuracy: number }> {
  const order = epochOrder(data.n, seed, epoch);
  const B = batch;
  const x = new Float32Array(B * data.sampleSize);
  const y = new Int32Array(B);
  let loss = 0;
  let correct = 0;
  for (let s0 = 0; s0 < data.n; s0 += B) {
    const b = Math.min(B, data.n - s0);
    for (let i = 0; i < b; i++) {
      const k = order[s0 + i];
      x.set(data.x.subarray(k * data.sampleSize, (k + 1) * data.sampleSize), i * data.sampleSize);
      y[i] = data.labels[k];
    }
    const r = await step(x.subarray(0, b * data.sampleSize), y.subarray(0, b), b);
    loss += r.loss * b;
    correct += r.correct;
    onStep?.(r, s0 + b);
  }
  return { loss: loss / data.n, accuracy: correct / data.n };
}

/** Effective weights (STE) of any chip of a network, programming each layer's noise-free matrices once. */
export class ChipWeights {
  /** The matrix layers the backward reads, each with its position in the network's plan (the chip's compensation index). */
  private readonly layers: { l: MatrixLayer; at: number }[];
  private readonly ideal: (ProgrammedLayer[] | null)[];

  /** `from`: the index of the first op whose backward runs; layers before it are never read, so never programmed. */
  constructor(net: Network, private readonly cfg: XbarConfig, from = 0) {
    this.layers = planMatrices(net, cfg, false).map((l, at) => ({ l, at })).filter(({ l }) => net.ops.indexOf(l.op) >= from);
    this.ideal = this.layers.map(({ l }) => (l.cfg ? l.parts.map((p) => programLayer(p.W, p.K, p.N, l.cfg!)) : null));
  }

  /**
   * Weights per matrix layer name on chip `chip` (digital layers: their f32 weights): a linear
   * layer's W [K, N], a conv's in the ONNX layout [cout, cin/group, kh, kw] (each group's matrix
   * [(cin/group)·kh·kw, cout/group] put back in place).
   */
  forChip(chip: ChipHandle): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.layers.forEach(({ l, at }, i) => {
      const ideal = this.ideal[i];
      if (!ideal || !l.cfg) {
        out.set(l.op.name, Float32Array.from(l.op.weight));
        return;
      }
      const parts = l.parts.map((p, g) => decodeWeights(programChipRef(ideal[g], l.cfg!, { seed: this.cfg.seed, chip: chip.chip, layer: p.matrixIndex }).chip, chip.compensation[at][g]));
      if (l.op.kind === 'linear') {
        out.set(l.op.name, parts[0]);
        return;
      }
      const W = new Float32Array(l.op.weight.length);
      l.parts.forEach((p, g) => {
        for (let n = 0; n < p.N; n++) for (let k = 0; k < p.K; k++) W[(g * p.N + n) * p.K + k] = parts[g][k * p.N + n];
      });
      out.set(l.op.name, W);
    });
    return out;
  }
}

/** One mini-batch's loss and accuracy. */
export interface StepResult {
  loss: number;
  correct: number;
}

/**
 * Adapter training on one runner (calibrated by the caller). The runner's adapters are the state's
 * set between steps, so `runner.forward` evaluates the current set.
 */
export class AdapterTrainer {
  private readonly weights: ChipWeights;
  private fixed: { handle: ChipHandle; W: Map<string, Float32Array> } | null = null;

  constructor(
    private readonly net: Network,
    cfg: XbarConfig,
    private readonly runner: NetworkRunner,
    private readonly opts: AdaptOptions,
    readonly state: TrainState,
    /** With a WebGPU session the backward runs there too (src/nn/adapt/backward-gpu.ts). */
    private readonly gpu: GpuSession | null = null,
  ) {
    // The first adapted layer's own weights are never read backward (no dx before it).
    this.weights = new ChipWeights(net, cfg, net.ops.findIndex((op) => state.set.has(op.name)) + 1);
    net.ops.forEach((op, i) => {
      const bad = isMatrixOp(op) && op.kind === 'linear' && state.set.has(op.name) ? unsupportedOp(net, i) : null;
      if (bad) throw new UsageError(`adapt: layer ${op.name}: cannot differentiate ${bad.kind} op "${bad.name}" after it (supported: ${BACKWARD_OPS}); choose later layers with --layers`);
    });
    runner.setAdapters(state.set);
  }

  private async chipFor(step: number): Promise<{ handle: ChipHandle; W: Map<string, Float32Array>; temporary: boolean }> {
    if (this.opts.chip !== null) {
      if (!this.fixed) {
        const handle = await this.runner.program(this.opts.chip);
        this.fixed = { handle, W: this.weights.forChip(handle) };
      }
      return { ...this.fixed, temporary: false };
    }
    const handle = await this.runner.program(HW_CHIP_BASE + step);
    return { handle, W: this.weights.forChip(handle), temporary: true };
  }

  /** Gradients of the mean cross-entropy of B samples on the chip of step `step` (no update). */
  async gradients(x: Float32Array, labels: ArrayLike<number>, B: number, step: number): Promise<{ loss: number; correct: number; grads: Map<string, { dA: Float64Array; dB: Float64Array }> }> {
    const chip = await this.chipFor(step);
    try {
      const r = await this.runner.forward(chip.handle, x, B, step * this.opts.batch, true);
      const ce = softmaxCrossEntropy(r.output, labels, B);
      const adapters = new Map([...this.state.set].map(([k, a]) => [k, { a, up: scaledUp(a) }] as [string, { a: AdapterLayer; up: Float32Array }]));
      const ctx = { weights: (op: LinearOp) => chip.W.get(op.name)!, adapters };
      const grads = this.gpu ? (await gpuGradients(this.gpu, this.net, r.values!, B, ce.grad, ctx)).adapters : adapterGradients(this.net, r.values!, B, ce.grad, ctx);
      return { loss: ce.loss, correct: ce.correct, grads };
    } finally {
      if (chip.temporary) chip.handle.release();
    }
  }

  /** One Adam step on a mini-batch. */
  async step(x: Float32Array, labels: ArrayLike<number>, B: number): Promise<StepResult> {
    const g = await this.gradients(x, labels, B, this.state.step);
    adamStep(this.state, g.grads, this.opts.lr);
    this.runner.setAdapters(this.state.set);
    return { loss: g.loss, correct: g.correct };
  }

  /** Where the backward runs. */
  get backwardOn(): 'webgpu' | 'cpu' {
    return this.gpu ? 'webgpu' : 'cpu';
  }

  /** Runs epoch `epoch` over `data` in the shuffled order; `onStep` sees each mini-batch's result. */
  epoch(data: TrainData, epoch: number, onStep?: (r: StepResult, done: number) => void): Promise<{ loss: number; accuracy: number }> {
    return runEpoch(data, this.opts.seed, epoch, this.opts.batch, (x, y, b) => this.step(x, y, b), onStep);
  }

  release(): void {
    this.fixed?.handle.release();
    this.fixed = null;
  }
}
