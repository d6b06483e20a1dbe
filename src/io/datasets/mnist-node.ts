// Node-only MNIST loading: reads the per-digit JSON files of the installed `mnist` package directly
// (its own set() shuffles with Math.random, so it is never used). Browser code imports mnist.ts and
// supplies the same arrays itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_CLASSES, MNIST_DEFAULT_SEED, splitMnist } from './mnist.ts';
import type { MnistSplit } from './mnist.ts';

let rawCache: number[][] | undefined;
const splitCache = new Map<number, MnistSplit>();

/** The raw per-class pixel arrays of the `mnist` package (`raw[c]`: count_c * 784 values), cached. */
export function loadMnistRaw(): readonly (readonly number[])[] {
  if (rawCache) return rawCache;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const raw: number[][] = [];
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const parsed = JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error(`mnist package: ${c}.json has no data array`);
    raw.push(parsed.data as number[]);
  }
  rawCache = raw;
  return raw;
}

/** The seeded stratified MNIST split (200 test digits per class), cached per seed. */
export function loadMnist(seed: number = MNIST_DEFAULT_SEED): MnistSplit {
  let split = splitCache.get(seed);
  if (!split) {
    split = splitMnist(loadMnistRaw(), seed);
    splitCache.set(seed, split);
  }
  return split;
}
