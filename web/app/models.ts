// The models the app can run: the shipped ONNX files under models/ (bundled as same-origin assets,
// so they load offline) or a file the user drops. A glob rather than named imports keeps the app
// building while a shipped model is missing: it is then simply not offered. Each shipped model is
// tied to the dataset it was trained on (models/fmnist-* to Fashion-MNIST, the others to MNIST); a
// dropped file runs on the dataset picked beside it.
import { messageOf } from '../../src/errors.ts';
import type { ExternalDataReader } from '../../src/io/onnx/external.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { sizeOf, type Network } from '../../src/ir/graph.ts';
import { APP_DATASETS, type AppDataset } from './dataset-info.ts';

const SHIPPED_URLS = import.meta.glob<string>('../../models/*.onnx', { query: '?url', import: 'default', eager: true });

/** Display names of the shipped models, by file name (also their order in the picker). */
const TITLES: Readonly<Record<string, string>> = {
  'mlp.onnx': 'MLP (shipped)',
  'lenet5.onnx': 'LeNet-5 (shipped)',
  'fmnist-mobilenet.onnx': 'MobileNetV2-style CNN, Fashion-MNIST (shipped)',
  'fmnist-vit.onnx': 'ViT-style transformer, Fashion-MNIST (shipped)',
  'fmnist-lstm.onnx': 'Row-sequence LSTM, Fashion-MNIST (shipped)',
};

/** The dataset a shipped file was trained on: the fmnist-* files on Fashion-MNIST (scripts/train-fashion.py), the others on MNIST. */
export function shippedDataset(file: string): AppDataset {
  return file.startsWith('fmnist-') ? 'fashion-mnist' : 'mnist';
}

export interface ShippedModel {
  /** File name, e.g. `mlp.onnx`: the picker's value. */
  file: string;
  title: string;
  url: string;
  dataset: AppDataset;
}

/** Shipped models found at build time, MLP first. */
export function shippedModels(): ShippedModel[] {
  const order = Object.keys(TITLES);
  return Object.entries(SHIPPED_URLS)
    .map(([path, url]) => {
      const file = path.slice(path.lastIndexOf('/') + 1);
      return { file, title: TITLES[file] ?? file, url, dataset: shippedDataset(file) };
    })
    .sort((a, b) => rank(order, a.file) - rank(order, b.file) || a.file.localeCompare(b.file));
}

function rank(order: readonly string[], file: string): number {
  const i = order.indexOf(file);
  return i < 0 ? order.length : i;
}

/** A model ready to run. */
export interface LoadedModel {
  /** The file name shown and written with results. */
  label: string;
  net: Network;
  /** The dataset a shipped model is tied to; null for the user's file (the dataset picker decides). */
  dataset: AppDataset | null;
}

/** Why `net` cannot run on dataset `d` (its input or output size), as one line; null when it can. */
export function fitProblem(net: Network, d: AppDataset, label: string): string | null {
  const info = APP_DATASETS[d];
  const inShape = net.input.shape;
  if (sizeOf(inShape) !== info.pixels) {
    return `${label}: the model's input is [N, ${inShape.join(', ')}] but ${info.title} images are [N, ${info.pixels}] or [N, 1, 28, 28]`;
  }
  const outShape = net.shapes.get(net.output);
  if (outShape !== undefined && sizeOf(outShape) !== info.classes) {
    return `${label}: the model outputs [N, ${outShape.join(', ')}] but ${info.title} has ${info.classes} classes`;
  }
  return null;
}

/** Imports ONNX bytes (external data from `externalData`) and checks the model fits dataset `d`; throws an Error with a one-line message. */
export function importModel(bytes: Uint8Array, label: string, d: AppDataset, tied: boolean, externalData?: ExternalDataReader): LoadedModel {
  let net: Network;
  try {
    net = importOnnx(bytes, label, { externalData });
  } catch (e) {
    throw new Error(messageOf(e));
  }
  const problem = fitProblem(net, d, label);
  if (problem) throw new Error(problem);
  return { label, net, dataset: tied ? d : null };
}

/** Fetches and imports a shipped model, tied to its dataset. */
export async function loadShippedModel(m: ShippedModel): Promise<LoadedModel> {
  const res = await fetch(m.url);
  if (!res.ok) throw new Error(`${m.file}: HTTP ${res.status}`);
  return importModel(new Uint8Array(await res.arrayBuffer()), m.file, m.dataset, true);
}

/**
 * Reads and imports dropped or picked files, checked against the dataset `d` picked for them: one
 * `.onnx` model and the external data files its tensors name (a browser sees file names, not folders,
 * so a location is matched by its last path segment).
 */
export async function loadModelFile(files: readonly File[], d: AppDataset): Promise<LoadedModel> {
  const models = files.length === 1 ? [...files] : files.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
  if (models.length !== 1) throw new Error(`picked ${files.map((f) => f.name).join(', ')}: pick one .onnx model (with its external data files, if it has any)`);
  const model = models[0];
  const data = new Map<string, Uint8Array>();
  for (const f of files) if (f !== model) data.set(f.name, new Uint8Array(await f.arrayBuffer()));
  const read: ExternalDataReader = (location) => {
    const name = location.split(/[\\/]/).pop() ?? location;
    const bytes = data.get(name);
    if (!bytes) throw new Error(`pick ${name} together with ${model.name}`);
    return bytes;
  };
  return importModel(new Uint8Array(await model.arrayBuffer()), model.name, d, false, read);
}
