// Node-only Fashion-MNIST loading from Debian's dataset-fashion-mnist package (gzipped IDX files).
// The folder can be moved with XBARSIM_FASHION_MNIST_DIR (other distributions, tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError, messageOf } from '../../errors.ts';
import { FASHION_MNIST_FILES, fashionMnistDataset, type FashionMnistSplitName } from './fashion-mnist.ts';
import { parseIdx, type IdxArray } from './idx.ts';
import type { Dataset } from './mnist.ts';

/** Where Debian's dataset-fashion-mnist package installs the files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
/** The Debian package that provides them. */
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

/** The folder read: $XBARSIM_FASHION_MNIST_DIR, else the Debian package's. */
export function fashionMnistDir(): string {
  return process.env.XBARSIM_FASHION_MNIST_DIR || FASHION_MNIST_DEFAULT_DIR;
}

const idxCache = new Map<string, IdxArray>();

/** Reads and parses one gzipped IDX file (cached by path); a missing file names the package to install. */
function readIdxGz(path: string): IdxArray {
  const hit = idxCache.get(path);
  if (hit) return hit;
  let gz: Buffer;
  try {
    gz = readFileSync(path);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
    const why = code === 'ENOENT' ? 'not found' : `cannot read (${code || messageOf(e)})`;
    throw new UsageError(`--dataset fashion-mnist: ${path} ${why}; install Debian's ${FASHION_MNIST_PACKAGE} package (apt-get install ${FASHION_MNIST_PACKAGE}) or set XBARSIM_FASHION_MNIST_DIR`);
  }
  let raw: Buffer;
  try {
    raw = gunzipSync(gz);
  } catch (e) {
    throw new UsageError(`--dataset fashion-mnist: ${path}: not a valid gzip file (${messageOf(e)})`);
  }
  const idx = parseIdx(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path);
  idxCache.set(path, idx);
  return idx;
}

/** The first `limit` (default all) images of a split, in the files' order; the test split is the official 10,000. */
export function loadFashionMnist(split: FashionMnistSplitName, limit?: number): Dataset {
  const dir = fashionMnistDir();
  const f = FASHION_MNIST_FILES[split];
  const images = readIdxGz(join(dir, f.images));
  const labels = readIdxGz(join(dir, f.labels));
  return fashionMnistDataset(images, labels, `fashion-mnist-${split}`, join(dir, f.images), limit);
}
