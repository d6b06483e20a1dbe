// Fashion-MNIST in the browser: the assets the Vite plugin built into the app (the official test split
// and the first training images), fetched from the app's own server on first use and decoded as the
// CLI decodes the package's files, so the app evaluates the images `xbarsim eval --dataset
// fashion-mnist` evaluates and calibrates on the same first training images.
import { fashionMnistAssets } from 'virtual:xbarsim-fashion-mnist';
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { splitEvalData } from '../../src/io/datasets/split-eval.ts';
import { FASHION_MNIST_PIXELS } from '../../src/io/datasets/fashion-mnist.ts';
import type { MnistSplit } from '../../src/io/datasets/mnist.ts';
import { calibrationProblem, type DataChoice } from './dataset-info.ts';
import { fashionMnistFromAssets } from './fashion-mnist-data.ts';

let split: Promise<MnistSplit> | null = null;

/** What a sweep may ask of this build's Fashion-MNIST, or why it has none (a one-line message). */
export function fashionMnistChoice(): DataChoice | string {
  const a = fashionMnistAssets;
  if (!a.available) return a.reason;
  return { dataset: 'fashion-mnist', testImages: a.testImages, calibrationImages: a.calibrationImages < a.trainImages ? a.calibrationImages : null };
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Fashion-MNIST ${what}: HTTP ${res.status} for ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The test split and the calibration slice, loaded once; rejects with the build's reason when it has none. */
export function loadFashionMnistBrowser(): Promise<MnistSplit> {
  const a = fashionMnistAssets;
  if (!a.available) return Promise.reject(new Error(a.reason));
  if (!split) {
    split = (async () => {
      const [ti, tl, ci, cl] = await Promise.all([
        fetchBytes(a.urls.testImages, 'test images'),
        fetchBytes(a.urls.testLabels, 'test labels'),
        fetchBytes(a.urls.trainImages, 'training images'),
        fetchBytes(a.urls.trainLabels, 'training labels'),
      ]);
      const [test, train] = await Promise.all([fashionMnistFromAssets(ti, tl, 'test', 'Fashion-MNIST test'), fashionMnistFromAssets(ci, cl, 'train', 'Fashion-MNIST training')]);
      return { train, test };
    })();
    // A failed load (server gone) should be retried on the next run, not cached.
    void split.catch(() => (split = null));
  }
  return split;
}

/** The first `n` test images, calibrated on the first `calSamples` training images (DESIGN.md section 6). */
export async function fashionMnistEvalDataBrowser(n: number, calSamples: number): Promise<EvalData> {
  const choice = fashionMnistChoice();
  if (typeof choice === 'string') throw new Error(choice);
  // Fewer calibration images than asked would calibrate differently from the CLI: refuse, do not cut.
  const problem = calibrationProblem(choice, calSamples);
  if (problem) throw new Error(problem);
  return splitEvalData('fashion-mnist', await loadFashionMnistBrowser(), n, calSamples, FASHION_MNIST_PIXELS);
}
