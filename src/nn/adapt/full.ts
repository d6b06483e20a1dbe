/**
 * Hardware-aware training of all weights (issue 17 item 3, `adapt --full`; what IBM aihwkit calls
 * hardware-aware training): every mini-batch programs the current weights onto a chip (a fresh chip
 * instance per mini-batch, or chip K), runs the simulator's forward pass with its noise and
 * quantization, and updates the weights and biases of the trained linear and conv layers by Adam with the
 * straight-through gradient through the chip's effective weights (src/nn/adapt/backward.ts). The
 * weights change every step, so each step re-programs and re-calibrates the network from them, as
 * `eval` of the written model does. On a WebGPU backend the backward runs there too.
 */
import type { XbarConfig } from '../../config/types.ts';
import type { Backend } from '../../gpu/backend.ts';
import type { BinaryOp, ConvOp, LinearOp, Network } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import type { CalibrationInputs } from '../calibration.ts';
import { openNetwork, type NetworkRunner } from '../runner.ts';
import { parameterGradients, softmaxCrossEntropy } from './backward.ts';
import { gpuGradients } from './backward-gpu.ts';
import { adamUpdate, ChipWeights, HW_CHIP_BASE, runEpoch, trainableLayers, type StepResult, type TrainData } from './train.ts';

/** One trained tensor: the network's own array (updated in place) and Adam's moments. */
export interface FullParam {
  /** `NODE.weight`, `NODE.bias` (a linear or conv layer's) or `NODE.constant` (a bias Add's). */
  key: string;
  data: Float32Array;
  m: Float64Array;
  v: Float64Array;
}

/** A --full run's state: the tensors, their moments and the step count (what a checkpoint holds). */
export interface FullState {
  params: FullParam[];
  step: number;
}

/** What a --full run does. */
export interface FullOptions {
  /** On-chip: chip `chip`; null: hardware-aware (chip HW_CHIP_BASE + step). */
  chip: number | null;
  lr: number;
  batch: number;
  /** Seed of the batch order (stream adapterShuffle). */
  seed: number;
}

/** A layer --full trains: a linear layer or a convolution. */
export type FullLayer = LinearOp | ConvOp;

/**
 * The layers --full trains, checked against the network with one-line errors: the named linear and
 * conv layers, or (null) every analog one whose backward crosses only ops with a gradient.
 */
export function fullLayers(net: Network, cfg: XbarConfig, names: readonly string[] | null): FullLayer[] {
  return trainableLayers(net, cfg, names, (op): op is FullLayer => op.kind === 'linear' || op.kind === 'conv', { cmd: 'adapt --full', kinds: 'linear (Gemm/MatMul) or Conv', verb: 'train' });
}

/** The Add right after linear layer `op` with a per-output constant: the bias of PyTorch's MatMul + Add. */
export function biasAdd(net: Network, op: FullLayer): BinaryOp | null {
  if (op.kind !== 'linear') return null;
  const readers = net.ops.filter((o) => o.inputs.includes(op.output));
  const add = readers.length === 1 ? readers[0] : null;
  if (!add || add.kind !== 'binary' || add.fn !== 'add' || !add.b || add.inputs.length !== 1) return null;
  const dims = add.b.dims;
  return sizeOf(dims) === op.N && dims[dims.length - 1] === op.N ? add : null;
}

/** The tensors --full trains for `layers`: each one's weight, its bias, or its bias Add's constant. */
export function fullState(net: Network, layers: readonly FullLayer[]): FullState {
  const params: FullParam[] = [];
  const add = (key: string, data: Float32Array) => params.push({ key, data, m: new Float64Array(data.length), v: new Float64Array(data.length) });
  for (const op of layers) {
    if (!(op.weight instanceof Float32Array)) throw new Error(`${op.name}: --full trains float32 weights`);
    add(`${op.name}.weight`, op.weight);
    if (op.bias) add(`${op.name}.bias`, op.bias);
    const b = biasAdd(net, op);
    if (b) add(`${b.name}.constant`, b.b!.data);
  }
  return { params, step: 0 };
}

/** Number of trained values. */
export function fullParamCount(state: FullState): number {
  return state.params.reduce((n, p) => n + p.data.length, 0);
}

/**
 * --full training on one backend. Each step opens a runner on the current weights, calibrates it on
 * `cal`, programs the step's chip and runs the forward pass; the backward runs on the CPU.
 */
export class FullTrainer {
  /** Linear or conv layer, or bias Add, name → its parameters' indices into state.params. */
  private readonly names = new Set<string>();
  private readonly slots = new Map<string, { W: number; b: number | null }>();

  constructor(
    private readonly backend: Backend,
    private readonly net: Network,
    private readonly cfg: XbarConfig,
    private readonly cal: CalibrationInputs,
    layers: readonly FullLayer[],
    private readonly opts: FullOptions,
    readonly state: FullState,
  ) {
    const at = (key: string) => state.params.findIndex((p) => p.key === key);
    for (const op of layers) {
      this.names.add(op.name);
      this.slots.set(op.name, { W: at(`${op.name}.weight`), b: op.bias ? at(`${op.name}.bias`) : null });
      const b = biasAdd(net, op);
      if (b) {
        this.names.add(b.name);
        this.slots.set(b.name, { W: at(`${b.name}.constant`), b: null });
      }
    }
  }

  /** Where the backward runs. */
  get backwardOn(): 'webgpu' | 'cpu' {
    return this.backend.kind;
  }

  /** A runner on the current weights, calibrated as eval calibrates. */
  async openRunner(): Promise<NetworkRunner> {
    const runner = openNetwork(this.backend, this.net, this.cfg, false);
    try {
      await runner.calibrate(this.cal.x, this.cal.n);
      return runner;
    } catch (e) {
      runner.destroy();
      throw e;
    }
  }

  /** Loss, correct count and gradients (by state.params index) of B samples on the chip of step `step`; no update. */
  async gradients(x: Float32Array, labels: ArrayLike<number>, B: number, step: number): Promise<{ loss: number; correct: number; grads: Map<number, Float64Array> }> {
    const runner = await this.openRunner();
    try {
      const handle = await runner.program(this.opts.chip ?? HW_CHIP_BASE + step);
      try {
        const r = await runner.forward(handle, x, B, step * this.opts.batch, true);
        const ce = softmaxCrossEntropy(r.output, labels, B);
        // Only layers after the first trained one are crossed backward (its own dx is not needed).
        const W = new ChipWeights(this.net, this.cfg, this.net.ops.findIndex((op) => this.names.has(op.name)) + 1).forChip(handle);
        const ctx = { weights: (op: FullLayer) => W.get(op.name)!, adapters: new Map(), params: this.names };
        const pg = this.backend.kind === 'webgpu' ? (await gpuGradients(this.backend.session, this.net, r.values!, B, ce.grad, ctx)).params : parameterGradients(this.net, r.values!, B, ce.grad, ctx);
        const grads = new Map<number, Float64Array>();
        for (const [name, g] of pg) {
          const s = this.slots.get(name)!;
          grads.set(s.W, g.dW);
          if (s.b !== null && g.db) grads.set(s.b, g.db);
        }
        return { loss: ce.loss, correct: ce.correct, grads };
      } finally {
        handle.release();
      }
    } finally {
      runner.destroy();
    }
  }

  /** One Adam step on a mini-batch. */
  async step(x: Float32Array, labels: ArrayLike<number>, B: number): Promise<StepResult> {
    const g = await this.gradients(x, labels, B, this.state.step);
    this.state.step++;
    for (const [i, d] of g.grads) {
      const p = this.state.params[i];
      adamUpdate(p.data, d, p.m, p.v, this.opts.lr, this.state.step);
    }
    return { loss: g.loss, correct: g.correct };
  }

  /** Runs epoch `epoch` over `data` in the shuffled order adapter training uses. */
  epoch(data: TrainData, epoch: number, onStep?: (r: StepResult, done: number) => void): Promise<{ loss: number; accuracy: number }> {
    return runEpoch(data, this.opts.seed, epoch, this.opts.batch, (x, y, b) => this.step(x, y, b), onStep);
  }
}
