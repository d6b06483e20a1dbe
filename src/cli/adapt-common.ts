/**
 * What `xbarsim adapt` and `adapt --full` share: the flags, number flags and the split of the data into
 * training, held-out and evaluation parts.
 */
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../io/datasets/builtin.ts';
import { builtinEvalData, npyEvalData, type EvalData } from '../io/datasets/eval-data.ts';
import { loadFashionMnist } from '../io/datasets/fashion-mnist-node.ts';
import { loadMnist } from '../io/datasets/mnist-node.ts';
import type { Network } from '../ir/graph.ts';
import type { TrainData } from '../nn/adapt/train.ts';
import { modelClasses } from '../sweep/layers.ts';

/** Flags of `xbarsim adapt`. */
export interface AdaptFlags {
  model: string;
  dataset?: string;
  inputs?: string;
  labels?: string;
  config?: string;
  preset?: string;
  rank: string;
  alpha: string;
  layers?: string;
  chip?: string;
  epochs: string;
  lr: string;
  batch: string;
  seed?: string;
  limit: string;
  holdout: string;
  evalLimit: string;
  init: string;
  out: string;
  resume?: boolean;
  json?: boolean;
  /** Train every analog linear and conv layer's weights instead (hardware-aware training); --out is an ONNX file. */
  full?: boolean;
  backend: BackendChoice;
}

/** `--init` values: LoRA's zero B, or the closed-form reduced-rank fit on the training chip. */
export const ADAPT_INITS = ['zero', 'rrr'] as const;

export function floatFlag(name: string, v: string, lo: number, hi: number): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= lo || x > hi) throw new UsageError(`${name}: must be a number in (${lo}, ${hi}] (got ${v})`);
  return x;
}

/** Training, held-out and evaluation data: built-in training split / test split, or one .npy set split in two. */
export function adaptData(f: AdaptFlags, net: Network, cfg: XbarConfig, limit: number, holdout: number, evalLimit: number): { train: TrainData; held: EvalData; evalData: EvalData } {
  const shape = net.input.shape;
  const classes = modelClasses(net);
  const cal = cfg.calibration.samples;
  if (f.dataset !== undefined && (f.inputs !== undefined || f.labels !== undefined)) throw new UsageError('give either --dataset or --inputs with --labels, not both');
  if (f.dataset !== undefined) {
    if (!isBuiltinDataset(f.dataset)) throw new UsageError(`--dataset: unknown dataset "${f.dataset}" (allowed: ${BUILTIN_DATASETS.join(', ')}; other data: --inputs X.npy --labels y.npy)`);
    // The evaluation data checks the model's shape and classes and holds the calibration inputs eval uses.
    const evalData = builtinEvalData(f.dataset, shape, evalLimit, cal, classes);
    const split = f.dataset === 'mnist' ? loadMnist().train : loadFashionMnist('train');
    if (limit + holdout > split.n) throw new UsageError(`--limit ${limit} + --holdout ${holdout}: the ${f.dataset} training split has ${split.n} images`);
    const size = split.images.length / split.n;
    const part = (a: number, b: number) => ({ x: split.images.subarray(a * size, b * size), labels: split.labels.subarray(a, b), n: b - a, sampleSize: size });
    const held = part(limit, limit + holdout);
    return { train: part(0, limit), held: { name: `${f.dataset} training split, held out`, ...held, calibration: evalData.calibration }, evalData };
  }
  if (f.inputs === undefined || f.labels === undefined) throw new UsageError(`one of --dataset ${BUILTIN_DATASETS.join('|')} or --inputs X.npy --labels y.npy is required`);
  const all = npyEvalData(f.inputs, f.labels, undefined, shape, undefined, cal, classes);
  if (all.n < holdout + 1) throw new UsageError(`--holdout ${holdout}: --inputs has ${all.n} samples; at least one must be left to train on`);
  const nTrain = Math.min(limit, all.n - holdout);
  const s = all.sampleSize;
  const h0 = all.n - holdout;
  const held: EvalData = { ...all, name: `${f.inputs}, last ${holdout} held out`, x: all.x.subarray(h0 * s), labels: all.labels.subarray(h0), n: holdout };
  return { train: { x: all.x.subarray(0, nTrain * s), labels: all.labels.subarray(0, nTrain), n: nTrain, sampleSize: s }, held, evalData: held };
}

export const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;


