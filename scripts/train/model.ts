// Sequential networks, the loss, the optimizer and the two shipped architectures.
import type { Dataset } from '../../src/io/datasets/mnist.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { Conv2d, Dense, Flatten, Pool2d, Relu } from './layers.ts';
import type { Layer, Param } from './layers.ts';

/** A chain of layers; `inputShape` excludes the batch dimension. */
export class Sequential {
  readonly params: readonly Param[];

  /** Checks that consecutive layer shapes agree. */
  constructor(readonly name: string, readonly inputShape: readonly number[], readonly layers: readonly Layer[]) {
    let shape = inputShape;
    for (const [i, l] of layers.entries()) {
      if (l.inShape.join(',') !== shape.join(',')) throw new Error(`${name}: layer ${i} (${l.kind}) expects [${l.inShape}], gets [${shape}]`);
      shape = l.outShape;
    }
    this.params = layers.flatMap((l) => l.params);
  }

  /** Per-sample output shape. */
  get outputShape(): readonly number[] {
    return this.layers.length ? this.layers[this.layers.length - 1].outShape : this.inputShape;
  }

  /** Logits for `batch` samples of `x`. */
  forward(x: Float32Array, batch: number, train: boolean): Float32Array {
    let h = x;
    for (const l of this.layers) h = l.forward(h, batch, train);
    return h;
  }

  /** Param gradients from dL/dlogits of the last training forward; returns dL/dx. */
  backward(dlogits: Float32Array, batch: number, needInputGrad = false): Float32Array | null {
    let g: Float32Array | null = dlogits;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i].backward(g as Float32Array, batch, i > 0 || needInputGrad);
    }
    return g;
  }
}

/** Mean softmax cross-entropy of `logits [batch, classes]`; writes dL/dlogits into `dlogits`. */
export function softmaxCrossEntropy(logits: Float32Array, labels: ArrayLike<number>, batch: number, classes: number, dlogits: Float32Array): number {
  let loss = 0;
  const inv = 1 / batch;
  for (let i = 0; i < batch; i++) {
    const o = i * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j]);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(logits[o + j] - max);
    const label = labels[i];
    loss += Math.log(sum) - (logits[o + label] - max);
    for (let j = 0; j < classes; j++) dlogits[o + j] = (Math.exp(logits[o + j] - max) / sum - (j === label ? 1 : 0)) * inv;
  }
  return loss * inv;
}

/** Adam hyper-parameters. */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW), applied to weights only, not biases. */
  weightDecay?: number;
}

/** Adam (Kingma & Ba) with optional decoupled weight decay; the learning rate may change per step. */
export class Adam {
  lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  /** Optimizer state for `params`. */
  constructor(readonly params: readonly Param[], opts: AdamOptions) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) => new Float32Array(p.data.length));
  }

  /** One update from the params' current gradients. */
  step(): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const c1 = 1 / (1 - b1 ** this.t);
    const c2 = 1 / (1 - b2 ** this.t);
    for (const [k, p] of this.params.entries()) {
      const m = this.m[k];
      const v = this.v[k];
      const { data, grad } = p;
      const decay = p.shape.length > 1 ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < data.length; i++) {
        const g = grad[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        data[i] = data[i] * decay - (lr * (m[i] * c1)) / (Math.sqrt(v[i] * c2) + eps);
      }
    }
  }
}

/** The shipped architectures. */
export type ModelName = 'mlp' | 'lenet5';

/** MLP 784-256-128-10 with ReLU, input `[N, 784]`. */
export function buildMlp(seed: number): Sequential {
  const rng = new Prng(seed, 1);
  return new Sequential('mlp', [784], [
    new Dense(784, 256, rng, 'fc1'),
    new Relu([256]),
    new Dense(256, 128, rng, 'fc2'),
    new Relu([128]),
    new Dense(128, 10, rng, 'fc3'),
  ]);
}

/**
 * LeNet-5 adapted to 28×28 (first conv padded by 2, as the original's 32×32 input):
 * conv 6@5×5 p2 → ReLU → maxpool 2 → conv 16@5×5 → ReLU → maxpool 2 → 400 → 120 → 84 → 10.
 */
export function buildLenet5(seed: number): Sequential {
  const rng = new Prng(seed, 2);
  return new Sequential('lenet5', [1, 28, 28], [
    new Conv2d(1, 28, 28, 6, 5, 2, rng, 'conv1'),
    new Relu([6, 28, 28]),
    new Pool2d('maxpool', 6, 28, 28, 2),
    new Conv2d(6, 14, 14, 16, 5, 0, rng, 'conv2'),
    new Relu([16, 10, 10]),
    new Pool2d('maxpool', 16, 10, 10, 2),
    new Flatten([16, 5, 5]),
    new Dense(400, 120, rng, 'fc1'),
    new Relu([120]),
    new Dense(120, 84, rng, 'fc2'),
    new Relu([84]),
    new Dense(84, 10, rng, 'fc3'),
  ]);
}

/** Builds a shipped architecture by name. */
export function buildModel(name: ModelName, seed: number): Sequential {
  return name === 'mlp' ? buildMlp(seed) : buildLenet5(seed);
}

/** Top-1 accuracy (fraction) and mean loss of `model` on `data`, in inference mode. */
export function evaluate(model: Sequential, data: Dataset, batchSize = 250): { accuracy: number; loss: number } {
  const sample = data.images.length / Math.max(1, data.n);
  const classes = model.outputShape[0];
  const dl = new Float32Array(batchSize * classes);
  let correct = 0;
  let loss = 0;
  for (let start = 0; start < data.n; start += batchSize) {
    const b = Math.min(batchSize, data.n - start);
    const logits = model.forward(data.images.subarray(start * sample, (start + b) * sample), b, false);
    const labels = data.labels.subarray(start, start + b);
    loss += softmaxCrossEntropy(logits, labels, b, classes, dl) * b;
    for (let i = 0; i < b; i++) if (argmax(logits, i * classes, classes) === labels[i]) correct++;
  }
  return { accuracy: data.n ? correct / data.n : 0, loss: data.n ? loss / data.n : 0 };
}

/** Index of the largest of `n` values starting at `off` (first on ties). */
export function argmax(a: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
}
