// The training loop: seeded mini-batch order, optional seeded shift augmentation, Adam with a
// cosine learning-rate schedule, per-epoch evaluation.
import type { Dataset } from '../../src/io/datasets/mnist.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { Adam, evaluate, softmaxCrossEntropy } from './model.ts';
import type { ModelName, Sequential } from './model.ts';

/** A training recipe: everything but the seed and the log sink. */
export type Recipe = Omit<TrainOptions, 'seed' | 'log'>;

/** Per-model recipes: the defaults the shipped models/*.onnx were trained with. */
export const RECIPES: Record<ModelName, Recipe> = {
  mlp: { epochs: 30, batchSize: 32, lr: 1e-3, weightDecay: 0, maxShift: 2, side: 28 },
  lenet5: { epochs: 20, batchSize: 32, lr: 2e-3, weightDecay: 0, maxShift: 2, side: 28 },
};

/** Training hyper-parameters. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Peak learning rate; decays to 0 along a half cosine over all steps. */
  lr: number;
  weightDecay: number;
  /** Largest random shift in pixels (each axis, uniform in [−s, s]); 0 disables augmentation. */
  maxShift: number;
  /** Seeds the batch order and the augmentation draws. */
  seed: number;
  /** Image side for augmentation (the sample is `[side, side]`, or `[1, side, side]`). */
  side: number;
  /** Called with each line of the log as it happens. */
  log?: (line: string) => void;
}

/** One epoch's record. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's (augmented) batches. */
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  /** Learning rate at the epoch's last step. */
  lr: number;
  seconds: number;
}

/** Writes `src` shifted by (dx, dy) pixels into `dst`, zero-filling what moves in. */
export function shiftImage(src: Float32Array, dst: Float32Array, side: number, dx: number, dy: number): void {
  dst.fill(0, 0, side * side);
  const x0 = Math.max(0, dx);
  const x1 = Math.min(side, side + dx);
  for (let y = Math.max(0, dy); y < Math.min(side, side + dy); y++) {
    const sRow = (y - dy) * side - dx;
    const dRow = y * side;
    for (let x = x0; x < x1; x++) dst[dRow + x] = src[sRow + x];
  }
}

/** Trains `model` in place on `train`, evaluating on `test` after every epoch. */
export function trainModel(model: Sequential, train: Dataset, test: Dataset | null, opts: TrainOptions): EpochRecord[] {
  const sample = train.images.length / train.n;
  const classes = model.outputShape[0];
  const bs = opts.batchSize;
  const rng = new Prng(opts.seed, 1000);
  const opt = new Adam(model.params, { lr: opts.lr, weightDecay: opts.weightDecay });
  const x = new Float32Array(bs * sample);
  const labels = new Int32Array(bs);
  const dlogits = new Float32Array(bs * classes);
  const order = new Int32Array(train.n).map((_, i) => i);
  const stepsPerEpoch = Math.ceil(train.n / bs);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const records: EpochRecord[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < train.n; start += bs) {
      const b = Math.min(bs, train.n - start);
      for (let i = 0; i < b; i++) {
        const idx = order[start + i];
        const src = train.images.subarray(idx * sample, (idx + 1) * sample);
        const dst = x.subarray(i * sample, (i + 1) * sample);
        if (opts.maxShift > 0) {
          const span = 2 * opts.maxShift + 1;
          shiftImage(src, dst, opts.side, rng.int(span) - opts.maxShift, rng.int(span) - opts.maxShift);
        } else {
          dst.set(src);
        }
        labels[i] = train.labels[idx];
      }
      const logits = model.forward(x.subarray(0, b * sample), b, true);
      lossSum += softmaxCrossEntropy(logits, labels, b, classes, dlogits) * b;
      model.backward(dlogits.subarray(0, b * classes), b);
      opt.lr = (opts.lr * (1 + Math.cos((Math.PI * step) / totalSteps))) / 2;
      opt.step();
      step++;
    }
    const ev = test ? evaluate(model, test) : { accuracy: NaN, loss: NaN };
    const rec: EpochRecord = {
      epoch,
      trainLoss: lossSum / train.n,
      testLoss: ev.loss,
      testAccuracy: ev.accuracy,
      lr: opt.lr,
      seconds: (performance.now() - t0) / 1000,
    };
    records.push(rec);
    opts.log?.(formatEpoch(model.name, rec, opts.epochs));
  }
  return records;
}

/** One log line for an epoch. */
export function formatEpoch(name: string, r: EpochRecord, epochs: number): string {
  const w = String(epochs).length;
  return (
    `${name} epoch ${String(r.epoch).padStart(w)}/${epochs}  train loss ${r.trainLoss.toFixed(4)}  ` +
    `test loss ${r.testLoss.toFixed(4)}  test acc ${(100 * r.testAccuracy).toFixed(2)}%  ` +
    `lr ${r.lr.toExponential(2)}  ${r.seconds.toFixed(1)} s`
  );
}
