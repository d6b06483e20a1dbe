// The models the app can run: the shipped ONNX files under models/ (bundled as same-origin assets,
// so they load offline) or a file the user drops. A glob rather than named imports keeps the app
// building while a shipped model is missing: it is then simply not offered. The Fashion-MNIST
// models (models/fmnist-*.onnx) are left out until the app has that dataset: it feeds MNIST digits.
import { messageOf } from '../../src/errors.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { sizeOf, type Network } from '../../src/ir/graph.ts';
import { MNIST_CLASSES, MNIST_PIXELS } from '../../src/io/datasets/mnist.ts';

const SHIPPED_URLS = import.meta.glob<string>(['../../models/*.onnx', '!../../models/fmnist-*.onnx'], { query: '?url', import: 'default', eager: true });

/** Display names of the shipped models, by file name. */
const TITLES: Readonly<Record<string, string>> = { 'mlp.onnx': 'MLP (shipped)', 'lenet5.onnx': 'LeNet-5 (shipped)' };

export interface ShippedModel {
  /** File name, e.g. `mlp.onnx`: the picker's value. */
  file: string;
  title: string;
  url: string;
}

/** Shipped models found at build time, MLP first. */
export function shippedModels(): ShippedModel[] {
  const order = Object.keys(TITLES);
  return Object.entries(SHIPPED_URLS)
    .map(([path, url]) => {
      const file = path.slice(path.lastIndexOf('/') + 1);
      return { file, title: TITLES[file] ?? file, url };
    })
    .sort((a, b) => rank(order, a.file) - rank(order, b.file) || a.file.localeCompare(b.file));
}

function rank(order: readonly string[], file: string): number {
  const i = order.indexOf(file);
  return i < 0 ? order.length : i;
}

/** A model ready to run on MNIST. */
export interface LoadedModel {
  /** The file name shown and written with results. */
  label: string;
  net: Network;
}

/** Imports ONNX bytes and checks the model fits MNIST; throws an Error with a one-line message. */
export function importMnistModel(bytes: Uint8Array, label: string): LoadedModel {
  let net: Network;
  try {
    net = importOnnx(bytes, label);
  } catch (e) {
    throw new Error(messageOf(e));
  }
  const inShape = net.input.shape;
  if (sizeOf(inShape) !== MNIST_PIXELS) {
    throw new Error(`${label}: the model's input is [N, ${inShape.join(', ')}] but MNIST images are [N, 784] or [N, 1, 28, 28]`);
  }
  const outShape = net.shapes.get(net.output);
  if (outShape !== undefined && sizeOf(outShape) !== MNIST_CLASSES) {
    throw new Error(`${label}: the model outputs [N, ${outShape.join(', ')}] but MNIST has ${MNIST_CLASSES} classes`);
  }
  return { label, net };
}

/** Fetches and imports a shipped model. */
export async function loadShippedModel(m: ShippedModel): Promise<LoadedModel> {
  const res = await fetch(m.url);
  if (!res.ok) throw new Error(`${m.file}: HTTP ${res.status}`);
  return importMnistModel(new Uint8Array(await res.arrayBuffer()), m.file);
}

/** Reads and imports a dropped or picked file. */
export async function loadModelFile(file: File): Promise<LoadedModel> {
  return importMnistModel(new Uint8Array(await file.arrayBuffer()), file.name);
}
