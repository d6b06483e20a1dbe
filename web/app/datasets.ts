// The app's datasets behind one door: what a sweep may ask of each, its evaluation data, and the
// status line the page shows while and after it loads.
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import type { MnistSplit } from '../../src/io/datasets/mnist.ts';
import { APP_DATASETS, MNIST_CHOICE, type AppDataset, type DataChoice } from './dataset-info.ts';
import { fashionMnistChoice, fashionMnistEvalDataBrowser, loadFashionMnistBrowser } from './fashion-mnist-browser.ts';
import { loadMnistBrowser, mnistEvalDataBrowser } from './mnist-browser.ts';

/** What a sweep may ask of `d` in this build, or why the build does not have it (one line). */
export function dataChoice(d: AppDataset): DataChoice | string {
  return d === 'mnist' ? MNIST_CHOICE : fashionMnistChoice();
}

/** The first `n` test images of `d`, calibrated on the first `calSamples` of its training split (as the CLI). */
export function evalDataBrowser(d: AppDataset, n: number, calSamples: number): Promise<EvalData> {
  return d === 'mnist' ? mnistEvalDataBrowser(n, calSamples) : fashionMnistEvalDataBrowser(n, calSamples);
}

function load(d: AppDataset): Promise<MnistSplit> {
  return d === 'mnist' ? loadMnistBrowser() : loadFashionMnistBrowser();
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Loads `d` and says what the app holds of it (the same test images and calibration order as the CLI). */
export async function datasetStatus(d: AppDataset): Promise<string> {
  const info = APP_DATASETS[d];
  const choice = dataChoice(d);
  if (typeof choice === 'string') return choice;
  const { train, test } = await load(d);
  const cal = d === 'mnist' ? `${fmt(train.n)} for calibration (the CLI's split)` : `the first ${fmt(train.n)} training images for calibration (the CLI's order)`;
  return `${info.title}: ${fmt(test.n)} test ${info.noun}, ${cal}`;
}
