// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, arXiv:1708.07747): 28×28 grey images of 10 clothing
// classes, 60,000 for training and 10,000 for testing, in the official order of the IDX files. Pure
// (no file access): turns parsed IDX arrays into a Dataset; the Node loader is fashion-mnist-node.ts.
import { UsageError } from '../../errors.ts';
import type { IdxArray } from './idx.ts';
import type { Dataset } from './mnist.ts';

/** Image side in pixels. */
export const FASHION_MNIST_SIDE = 28;
/** Pixels per image. */
export const FASHION_MNIST_PIXELS = FASHION_MNIST_SIDE * FASHION_MNIST_SIDE;
/** Class names, by label (the dataset's README). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
/** Number of classes. */
export const FASHION_MNIST_CLASSES = FASHION_MNIST_CLASS_NAMES.length;

/** The two splits and their gzipped IDX file names (as in the dataset and Debian's package). */
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;
export type FashionMnistSplitName = keyof typeof FASHION_MNIST_FILES;

/**
 * The first `limit` (default all) images of an IDX image/label pair as a Dataset: pixels byte/255
 * rounded to f32 (what PyTorch's and NumPy's byte/255 give, so scripts/train-fashion.py sees the same
 * inputs). Checks the shapes and the labels; `label` names the files in errors.
 */
export function fashionMnistDataset(images: IdxArray, labels: IdxArray, name: string, label: string, limit?: number): Dataset {
  if (images.dims.length !== 3 || images.dims[1] !== FASHION_MNIST_SIDE || images.dims[2] !== FASHION_MNIST_SIDE) {
    throw new UsageError(`${label}: images have shape [${images.dims.join(', ')}], expected [n, 28, 28]`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new UsageError(`${label}: ${labels.dims.join(' × ')} labels for ${images.dims[0]} images`);
  }
  const n = Math.min(limit ?? images.dims[0], images.dims[0]);
  const out = new Float32Array(n * FASHION_MNIST_PIXELS);
  for (let i = 0; i < out.length; i++) out[i] = images.data[i] / 255;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels.data[i];
    if (c >= FASHION_MNIST_CLASSES) throw new UsageError(`${label}: label ${i} is ${c}; Fashion-MNIST labels are 0–${FASHION_MNIST_CLASSES - 1}`);
    y[i] = c;
  }
  return { images: out, labels: y, n, classes: FASHION_MNIST_CLASSES, name };
}
