import { UsageError } from '../../errors.ts';
import { checkFinite, checkFloat32Range, npyShape, readInputBytes, readNpyFile, type NpyArray } from '../npy.ts';
import { parseNpz, readZip } from '../npz.ts';
import { isBuiltinDataset, type BuiltinDataset } from './builtin.ts';
import { FASHION_MNIST_CLASSES } from './fashion-mnist.ts';
import { loadFashionMnist } from './fashion-mnist-node.ts';
import { MNIST_CLASSES } from './mnist.ts';
import { loadMnistFirst } from './mnist-node.ts';
import { splitEvalData, type EvalData } from './split-eval.ts';

export type { EvalData } from './split-eval.ts';

/** Elements per sample of a model input shape. */
function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The built-in MNIST test split, reshaped to the model's declared input (`[N,1,28,28]` or
 * `[N,784]`: same data). `classes` is the model's output size: fewer than 10 is an error, since
 * some labels could never be predicted.
 */
export function mnistEvalData(modelShape: readonly number[], limit: number | undefined, calSamples: number, classes?: number): EvalData {
  if (sizeOf(modelShape) !== 784) {
    throw new UsageError(`--dataset mnist: the model's input has shape [N, ${modelShape.join(', ')}] but MNIST images are [N, 784] or [N, 1, 28, 28]`);
  }
  if (classes !== undefined && classes < MNIST_CLASSES) {
    throw new UsageError(`--dataset mnist: labels go up to 9 but the model has ${classes} output classes (0–${classes - 1}); MNIST needs 10`);
  }
  // Only the digits used: the first `limit` test and `calSamples` training ones (a cold eval needs a few hundred of 10,000).
  const split = loadMnistFirst(limit ?? Infinity, calSamples);
  return splitEvalData('mnist', split, limit ?? split.test.n, calSamples, 784);
}

/**
 * Fashion-MNIST's 10,000 official test images, reshaped to the model's input (`[N,1,28,28]` or
 * `[N,784]`), calibrated on the first `calSamples` training images (DESIGN.md section 6). As for
 * MNIST, a model with fewer than 10 output classes is an error.
 */
export function fashionMnistEvalData(modelShape: readonly number[], limit: number | undefined, calSamples: number, classes?: number): EvalData {
  if (sizeOf(modelShape) !== 784) {
    throw new UsageError(`--dataset fashion-mnist: the model's input has shape [N, ${modelShape.join(', ')}] but Fashion-MNIST images are [N, 784] or [N, 1, 28, 28]`);
  }
  if (classes !== undefined && classes < FASHION_MNIST_CLASSES) {
    throw new UsageError(`--dataset fashion-mnist: labels go up to 9 but the model has ${classes} output classes (0–${classes - 1}); Fashion-MNIST needs 10`);
  }
  const test = loadFashionMnist('test', limit);
  const train = loadFashionMnist('train', calSamples);
  return { name: 'fashion-mnist', x: test.images, labels: test.labels, n: test.n, sampleSize: 784, calibration: { x: train.images, n: train.n } };
}

/** A built-in dataset's test split with its calibration inputs (`classes`: the model's output size). */
export function builtinEvalData(name: BuiltinDataset, modelShape: readonly number[], limit: number | undefined, calSamples: number, classes?: number): EvalData {
  return name === 'mnist' ? mnistEvalData(modelShape, limit, calSamples, classes) : fashionMnistEvalData(modelShape, limit, calSamples, classes);
}

/** Integer class labels from any integer or integral float dtype, each below `classes` when given. */
function readLabels(path: string, classes: number | undefined): Int32Array {
  const a = readNpyFile(path, `--labels ${path}`, { allowIntegers: true });
  if (a.shape.length !== 1) throw new UsageError(`--labels ${path}: must be 1-D [N] class indices (got shape [${a.shape.join(', ')}])`);
  const out = new Int32Array(a.shape[0]);
  for (let i = 0; i < out.length; i++) {
    const v = Number(a.data[i]);
    if (!Number.isInteger(v) || v < 0) throw new UsageError(`--labels ${path}: entry ${i} is ${v}; labels must be non-negative integers (class indices)`);
    // A label the model cannot output would count as wrong on every chip: a silent 0%, not a result.
    if (classes !== undefined && v >= classes) {
      throw new UsageError(`--labels ${path}: entry ${i} is ${v} but the model has ${classes} output classes (labels 0–${classes - 1})`);
    }
    out[i] = v;
  }
  return out;
}

/** Reads `--inputs` (or `--calibrate`, per `flag`), whose shape must be [N, ...model input shape], as finite f32. */
export function readInputs(path: string, flag: string, modelShape: readonly number[], parts: readonly InputPart[] = []): { x: Float32Array; n: number } {
  if (path.endsWith('.npz')) return readNamedInputs(path, flag, parts.length > 0 ? parts : [{ name: '', shape: modelShape }]);
  // Integer arrays too (token ids for an int64 graph input), as in an .npz archive.
  const a = readNpyFile(path, `${flag} ${path}`, { allowIntegers: true });
  checkExactIntegers(a, `${flag} ${path}`);
  checkFinite(a.data, a.shape, `${flag} ${path}`);
  checkFloat32Range(a.data, a.shape, `${flag} ${path}`);
  const want = modelShape.join(', ');
  if (a.shape.length !== modelShape.length + 1 || a.shape.slice(1).some((d, i) => d !== modelShape[i])) {
    throw new UsageError(`${flag} ${path}: has shape [${a.shape.join(', ')}] but the model takes [N, ${want}]`);
  }
  if (a.shape[0] === 0) throw new UsageError(`${flag} ${path}: has 0 samples (shape [${a.shape.join(', ')}]); nothing to evaluate`);
  return { x: Float32Array.from(a.data), n: a.shape[0] };
}

/**
 * The per-sample shapes (each array's first dim, the samples, dropped) of the arrays in `--inputs`
 * (or `--calibrate`, per `flag`), by graph-input name ('' for a .npy's one array), which fix a
 * model's symbolic dims (ImportOptions.inputShapes); reading the data and checking it against the
 * model is readInputs' job. No file, no shapes.
 */
export function inputShapesOf(path: string | undefined, flag: string): Record<string, number[]> {
  if (path === undefined) return {};
  const what = `${flag} ${path}`;
  const bytes = readInputBytes(path, what);
  if (!path.endsWith('.npz')) return { '': npyShape(bytes, what).slice(1) };
  const out: Record<string, number[]> = {};
  for (const [name, member] of readZip(bytes, what)) out[name.replace(/\.npy$/, '')] = npyShape(member, `${what} (${name})`).slice(1);
  // As readInputs does, a model with one input takes an archive's only array whatever its key.
  const keys = Object.keys(out);
  return keys.length === 1 ? { ...out, '': out[keys[0]] } : out;
}

/** The layouts a built-in dataset's 28×28 images take as one model input: flat, 2-D, channels first or last. */
const IMAGE_LAYOUTS = [[784], [28, 28], [1, 28, 28], [28, 28, 1]];

/**
 * What fixes a model's symbolic dims for data from `--dataset` or `--inputs` (ImportOptions.inputShapes):
 * a built-in dataset's 28×28 images in the first layout the model's one input declares compatibly
 * (its rank, its static dims), else the `--inputs` file's shapes.
 */
export function dataInputShapes(dataset: string | undefined, inputs: string | undefined): (declared: Readonly<Record<string, readonly (number | null)[]>>) => Record<string, number[]> {
  return (declared) => {
    if (dataset === undefined || !isBuiltinDataset(dataset)) return inputShapesOf(inputs, '--inputs');
    const dims = Object.values(declared);
    const fits = (l: number[]): boolean => dims.length === 1 && l.length === dims[0].length && l.every((d, i) => dims[0][i] === null || dims[0][i] === d);
    const image = IMAGE_LAYOUTS.find(fits);
    return image ? { '': image } : {};
  };
}

/** Integers past 2^24 have no exact float32, which every value is carried as: refused, not rounded. */
function checkExactIntegers(a: NpyArray, what: string): void {
  if (!/^[<>|=]?[iub]/.test(a.dtype)) return;
  const i = a.data.findIndex((v) => Math.abs(v) > 2 ** 24);
  if (i >= 0) throw new UsageError(`${what}: entry ${i} is ${a.data[i]}; integers are carried as float32, exact only up to 2^24 = 16777216 in magnitude`);
}

/** A graph input of the model: its ONNX name and per-sample shape (Network.inputs). */
export interface InputPart {
  name: string;
  shape: readonly number[];
}

/**
 * `--inputs X.npz`: one array [N, ...shape] per graph input, keyed by its ONNX name (what
 * `numpy.savez(f, input_ids=ids, attention_mask=mask)` writes; integer arrays too), packed per sample
 * in graph order as the network reads them. A model with one input takes the archive's only array
 * whatever its key.
 */
function readNamedInputs(path: string, flag: string, parts: readonly InputPart[]): { x: Float32Array; n: number } {
  const what = `${flag} ${path}`;
  const arrays = parseNpz(readInputBytes(path, what), what);
  const keys = [...arrays.keys()];
  const names = parts.map((p) => p.name);
  const single = parts.length === 1 && keys.length === 1;
  const extra = keys.filter((k) => !names.includes(k));
  if (!single && extra.length > 0) throw new UsageError(`${what}: holds array "${extra[0]}", which is not a graph input (the model's inputs: ${names.map((x) => `"${x}"`).join(', ')})`);
  const got = parts.map((p) => {
    const a = single ? arrays.get(keys[0])! : arrays.get(p.name);
    if (!a) throw new UsageError(`${what}: has no array "${p.name}" (the model's inputs: ${names.map((x) => `"${x}"`).join(', ')}; the archive holds: ${keys.map((x) => `"${x}"`).join(', ') || 'nothing'})`);
    const label = `${what} (${single ? keys[0] : p.name})`;
    if (a.shape.length !== p.shape.length + 1 || a.shape.slice(1).some((d, i) => d !== p.shape[i])) {
      throw new UsageError(`${label}: has shape [${a.shape.join(', ')}] but the model takes [N, ${p.shape.join(', ')}]`);
    }
    checkExactIntegers(a, label);
    checkFinite(a.data, a.shape, label);
    checkFloat32Range(a.data, a.shape, label);
    return a;
  });
  const n = got[0].shape[0];
  const other = got.findIndex((a) => a.shape[0] !== n);
  if (other >= 0) throw new UsageError(`${what}: "${parts[other].name}" has ${got[other].shape[0]} samples and "${parts[0].name}" ${n}; every input needs one per sample`);
  if (n === 0) throw new UsageError(`${what}: has 0 samples; nothing to evaluate`);
  const sizes = parts.map((p) => sizeOf(p.shape));
  const size = sizes.reduce((a, b) => a + b, 0);
  const x = new Float32Array(n * size);
  for (let s = 0, at = 0; s < n; s++) {
    got.forEach((a, k) => {
      x.set(a.data.subarray(s * sizes[k], (s + 1) * sizes[k]), at);
      at += sizes[k];
    });
  }
  return { x, n };
}

/**
 * `--inputs X.npy --labels y.npy` (and `--calibrate C.npy`), checked against the model's input
 * shape and, with `classes` (the model's output size), every label against it. Empty inputs are
 * an error.
 */
export function npyEvalData(
  inputs: string,
  labels: string,
  calibrate: string | undefined,
  modelShape: readonly number[],
  limit: number | undefined,
  calSamples: number,
  classes?: number,
  parts: readonly InputPart[] = [],
): EvalData {
  const X = readInputs(inputs, '--inputs', modelShape, parts);
  const y = readLabels(labels, classes);
  if (y.length !== X.n) throw new UsageError(`--labels ${labels}: has ${y.length} labels but --inputs ${inputs} has ${X.n} samples`);
  const size = sizeOf(modelShape);
  const n = Math.min(limit ?? X.n, X.n);
  const C = calibrate !== undefined ? readInputs(calibrate, '--calibrate', modelShape, parts) : X;
  const calN = Math.min(calSamples, C.n);
  return {
    name: inputs,
    x: X.x.subarray(0, n * size),
    labels: y.subarray(0, n),
    n,
    sampleSize: size,
    calibration: { x: C.x.subarray(0, calN * size), n: calN },
  };
}
