// The datasets the app evaluates on, as data: names, what their samples are called, their sizes.
// Pure (no loading), so the sweep planner and its tests need no data.
import type { BuiltinDataset } from '../../src/io/datasets/builtin.ts';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_PIXELS } from '../../src/io/datasets/fashion-mnist.ts';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_TEST_PER_CLASS } from '../../src/io/datasets/mnist.ts';

/** A dataset of the app: the CLI's `--dataset` names. */
export type AppDataset = BuiltinDataset;

export interface AppDatasetInfo {
  /** As written in the page, e.g. `Fashion-MNIST`. */
  title: string;
  /** What one test sample is called in the form and the progress line (`digits`, `images`). */
  noun: string;
  pixels: number;
  classes: number;
}

export const APP_DATASETS: Readonly<Record<AppDataset, AppDatasetInfo>> = {
  mnist: { title: 'MNIST', noun: 'digits', pixels: MNIST_PIXELS, classes: MNIST_CLASSES },
  'fashion-mnist': { title: 'Fashion-MNIST', noun: 'images', pixels: FASHION_MNIST_PIXELS, classes: FASHION_MNIST_CLASSES },
};

/** What a sweep may ask of the dataset in use: how many test images, how many calibration images. */
export interface DataChoice {
  dataset: AppDataset;
  /** Images in the test split the app holds. */
  testImages: number;
  /** Training images the app holds for calibration when fewer than the CLI has (null: the same as the CLI). */
  calibrationImages: number | null;
}

/** MNIST in the app: the CLI's split exactly (2,000 test digits, all 8,000 others for calibration). */
export const MNIST_CHOICE: DataChoice = { dataset: 'mnist', testImages: MNIST_TEST_PER_CLASS * MNIST_CLASSES, calibrationImages: null };

/** Why `samples` calibration images cannot be taken as the CLI takes them from this dataset, or null. */
export function calibrationProblem(c: DataChoice, samples: number): string | null {
  if (c.calibrationImages === null || samples <= c.calibrationImages) return null;
  const title = APP_DATASETS[c.dataset].title;
  return `calibration.samples is ${samples} but the app holds only the first ${c.calibrationImages} ${title} training images; use at most ${c.calibrationImages} here, or the CLI for more`;
}
