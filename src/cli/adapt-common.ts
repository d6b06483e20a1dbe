/**
 * What `xbarsim adapt` and `adapt --full` share: the flags, number flags, the split of the data into
 * training, held-out and evaluation parts, the checkpoint's reading, the epoch loop with its progress
 * bar, and the report's common part.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { XbarConfig } from '../config/types.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { checkOutputs } from '../io/atomic-write.ts';
import { UsageError } from '../errors.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../io/datasets/builtin.ts';
import { builtinEvalData, npyEvalData, type EvalData } from '../io/datasets/eval-data.ts';
import { loadFashionMnist } from '../io/datasets/fashion-mnist-node.ts';
import { loadMnist } from '../io/datasets/mnist-node.ts';
import type { Network } from '../ir/graph.ts';
import { HW_CHIP_BASE, type TrainData } from '../nn/adapt/train.ts';
import { modelClasses } from '../sweep/layers.ts';
import { intFlag } from './vmm.ts';

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

/** --layers as a list of layer names, each once in the order given (null: the flag was not given); an empty list is one line naming what to give. */
export function layerNames(flag: string | undefined, kinds: string): string[] | null {
  if (flag === undefined) return null;
  const names = [...new Set(flag.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (names.length === 0) throw new UsageError(`--layers: give one or more ${kinds} layer names, comma-separated`);
  return names;
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
  const all = npyEvalData(f.inputs, f.labels, undefined, shape, undefined, cal, classes, net.inputs);
  if (all.n < holdout + 1) throw new UsageError(`--holdout ${holdout}: --inputs has ${all.n} samples; at least one must be left to train on`);
  const nTrain = Math.min(limit, all.n - holdout);
  const s = all.sampleSize;
  const h0 = all.n - holdout;
  const held: EvalData = { ...all, name: `${f.inputs}, last ${holdout} held out`, x: all.x.subarray(h0 * s), labels: all.labels.subarray(h0), n: holdout };
  return { train: { x: all.x.subarray(0, nTrain * s), labels: all.labels.subarray(0, nTrain), n: nTrain, sampleSize: s }, held, evalData: held };
}

export const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** One epoch of a run's log (checkpoint and report). */
export interface EpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
}

/** The number flags both modes take, checked. */
export interface RunNumbers {
  /** --chip: on-chip mode's chip, or null (hardware-aware). */
  chip: number | null;
  epochs: number;
  lr: number;
  batch: number;
  limit: number;
  holdout: number;
  evalLimit: number;
}

/** Checks the number flags both modes take (one line, exit 2, on a bad one). */
export function runNumbers(f: AdaptFlags): RunNumbers {
  return {
    chip: intFlag('--chip', f.chip, 0, HW_CHIP_BASE - 1) ?? null,
    epochs: intFlag('--epochs', f.epochs, 1, 100000)!,
    lr: floatFlag('--lr', f.lr, 0, 1),
    batch: intFlag('--batch', f.batch, 1, 65536)!,
    limit: intFlag('--limit', f.limit, 1, 2 ** 31)!,
    holdout: intFlag('--holdout', f.holdout, 1, 2 ** 31)!,
    evalLimit: intFlag('--eval-limit', f.evalLimit, 1, 2 ** 31)!,
  };
}

/** Checks --out and its checkpoint `OUT.checkpoint.json` against the input files; returns the checkpoint's path. */
export function checkAdaptOutputs(f: AdaptFlags): string {
  const ckptPath = `${f.out}.checkpoint.json`;
  const inputs = [{ flag: '--model', path: f.model }, ...(f.inputs ? [{ flag: '--inputs', path: f.inputs }, { flag: '--labels', path: f.labels! }] : []), ...(f.config ? [{ flag: '--config', path: f.config }] : [])];
  checkOutputs([{ flag: '--out', path: f.out }, { flag: '--out (checkpoint)', path: ckptPath }], inputs);
  return ckptPath;
}

/**
 * The checkpoint at `path`, or null when there is none: refused (exit 2) when it exists without
 * --resume, cannot be read, or `ours` says it belongs to another run.
 */
export function readCheckpoint<T>(path: string, f: AdaptFlags, ours: (c: T) => boolean): T | null {
  if (!existsSync(path)) return null;
  if (!f.resume) throw new UsageError(`--out ${f.out}: a checkpoint ${path} exists; pass --resume to continue it, or delete it`);
  let c: T;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw new UsageError(`--resume: ${path} is not a readable checkpoint; delete it to start again`);
  }
  if (!ours(c)) throw new UsageError(`--resume: ${path} belongs to a run with other flags, model, data or config; delete it or repeat that run's flags`);
  return c;
}

/** What the epoch loop drives: an epoch of training, the held-out accuracy, and the checkpoint after each epoch. */
export interface EpochDriver {
  epoch(e: number, onStep: (r: { loss: number }) => void): Promise<{ loss: number; accuracy: number }>;
  heldOut(): Promise<number>;
  save(epochsDone: number, log: EpochLog[]): void;
}

/**
 * Epochs `first`..`epochs` − 1 of `perEpoch` steps each, appending to `log`: a progress bar (loss,
 * held-out accuracy, ETA) on a terminal, else one line per epoch on stderr (none with --json).
 */
export async function runEpochs(label: string, f: AdaptFlags, epochs: number, first: number, perEpoch: number, log: EpochLog[], d: EpochDriver): Promise<void> {
  const bar = !f.json && process.stderr.isTTY
    ? new SingleBar({ format: `${label} [{bar}] {percentage}% | epoch {epoch}/{epochs} | loss {loss} | held-out {held} | ETA {eta_formatted}`, hideCursor: true }, Presets.shades_classic)
    : null;
  bar?.start(Math.max(1, (epochs - first) * perEpoch), 0, { epoch: first + 1, epochs, loss: '-', held: log.length ? pct(log[log.length - 1].heldOutAccuracy) : '-' });
  let done = 0;
  try {
    for (let e = first; e < epochs; e++) {
      let runLoss = 0;
      let steps = 0;
      const r = await d.epoch(e, (s) => {
        runLoss += s.loss;
        steps++;
        bar?.update(++done, { epoch: e + 1, loss: (runLoss / steps).toFixed(4) });
      });
      const h = await d.heldOut();
      log.push({ epoch: e + 1, loss: r.loss, trainAccuracy: r.accuracy, heldOutAccuracy: h });
      bar?.update(done, { held: pct(h) });
      if (!bar && !f.json) stderrLine(`${label}: epoch ${e + 1}/${epochs}: loss ${r.loss.toFixed(4)}, training accuracy ${pct(r.accuracy)}, held-out ${pct(h)}`);
      d.save(e + 1, log);
    }
  } finally {
    bar?.stop();
  }
}

/** Weights of the network's linear and conv layers (analog unless a config keeps one digital). */
export function analogWeightCount(net: Network): number {
  // A tied layer (an RNN's recurrent weight) holds its weights once, however many steps read it.
  const layers = new Map<number, number>();
  for (const op of net.ops) if (op.kind === 'linear' || op.kind === 'conv') layers.set(op.layerIndex, op.weight.length);
  return [...layers.values()].reduce((a, b) => a + b, 0);
}

/** What both modes report besides their own fields. */
export interface ReportCommon {
  mode: 'hardware-aware' | 'on-chip';
  chip: number | null;
  evalChip: number;
  layers: string[];
  epochs: number;
  lr: number;
  batch: number;
  seed: number;
  evaluation: { data: string; images: number; accuracyWithout: number; accuracyWith: number };
  epochLog: EpochLog[];
  seconds: number;
  backend: string;
  backward: 'webgpu' | 'cpu';
}

/**
 * Prints the report: with --json one object (model, out, the mode's `head` fields, the common ones
 * with the mode's `counts` before the evaluation), else the mode's `lines` and the time line.
 */
export function printReport(f: AdaptFlags, c: ReportCommon, head: Record<string, unknown>, counts: Record<string, unknown>, lines: string[]): void {
  if (f.json) {
    const { evaluation, epochLog, seconds, backend, backward, ...rest } = c;
    process.stdout.write(`${JSON.stringify({ model: f.model, out: f.out, ...head, ...rest, ...counts, evaluation, epochLog, seconds, backend, backward }, null, 2)}\n`);
    return;
  }
  const time = `time: ${c.seconds.toFixed(1)} s (backward on ${c.backward === 'webgpu' ? 'WebGPU' : 'the CPU reference'})`;
  process.stdout.write(`${[...lines, time].join('\n')}\n`);
}
