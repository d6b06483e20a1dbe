import { describe, expect, it } from 'vitest';
import { MNIST_PIXELS, firstItems, splitMnist } from '../../src/io/datasets/mnist.ts';
import type { Dataset } from '../../src/io/datasets/mnist.ts';
import { loadMnist, loadMnistRaw } from '../../src/io/datasets/mnist-node.ts';
import { Prng } from '../../src/io/datasets/prng.ts';

function classCounts(d: Dataset): number[] {
  const counts = new Array<number>(d.classes).fill(0);
  for (const l of d.labels) counts[l]++;
  return counts;
}

/** Exact element-wise equality (vitest's deep equality is slow on millions of elements). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A 64-bit content hash of one image's f32 bits (two independent 32-bit FNV-style lanes). */
function imageKey(pixels: Float32Array): string {
  const bits = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const b of bits) {
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${h1 >>> 0}:${h2 >>> 0}`;
}

/** Image content keys, to check disjointness by content (the package has no duplicate digits). */
function imageKeys(d: Dataset): string[] {
  const keys: string[] = [];
  for (let i = 0; i < d.n; i++) keys.push(imageKey(d.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS)));
  return keys;
}

describe('MNIST split', () => {
  const split = loadMnist();
  const raw = loadMnistRaw();
  const rawCounts = raw.map((a) => a.length / MNIST_PIXELS);

  it('has the 10,000 package digits, 200 test digits per class', () => {
    expect(rawCounts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.min(...rawCounts)).toBe(863);
    expect(Math.max(...rawCounts)).toBe(1127);
    expect(split.test.n).toBe(2000);
    expect(split.train.n).toBe(8000);
    expect(classCounts(split.test)).toEqual(new Array(10).fill(200));
    expect(classCounts(split.train)).toEqual(rawCounts.map((n) => n - 200));
    for (const d of [split.train, split.test]) {
      expect(d.classes).toBe(10);
      expect(d.images.length).toBe(d.n * 784);
      expect(d.labels.length).toBe(d.n);
    }
  });

  it('keeps pixels in [0, 1] with real contrast', () => {
    for (const d of [split.train, split.test]) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of d.images) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
    }
  });

  it('is disjoint and covers every digit once, with each image under its own class', () => {
    const trainKeys = imageKeys(split.train);
    const testKeys = imageKeys(split.test);
    const all = new Set([...trainKeys, ...testKeys]);
    expect(all.size).toBe(10_000);
    // Every split image is a package digit of the same class.
    const rawClass = new Map<string, number>();
    raw.forEach((a, c) => {
      for (let i = 0; i < a.length / MNIST_PIXELS; i++) {
        rawClass.set(imageKey(Float32Array.from(a.slice(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS))), c);
      }
    });
    trainKeys.forEach((k, i) => expect(rawClass.get(k)).toBe(split.train.labels[i]));
    testKeys.forEach((k, i) => expect(rawClass.get(k)).toBe(split.test.labels[i]));
  });

  it('is deterministic per seed and differs across seeds', () => {
    const again = splitMnist(raw, 0);
    expect(same(again.train.labels, split.train.labels)).toBe(true);
    expect(same(again.train.images, split.train.images)).toBe(true);
    expect(same(again.test.labels, split.test.labels)).toBe(true);
    expect(same(again.test.images, split.test.images)).toBe(true);
    expect(loadMnist(0)).toBe(split); // cached
    const other = splitMnist(raw, 1);
    expect(classCounts(other.test)).toEqual(new Array(10).fill(200));
    expect(same(other.test.labels, split.test.labels)).toBe(false);
    const otherTest = new Set(imageKeys(other.test));
    const overlap = imageKeys(split.test).filter((k) => otherTest.has(k)).length;
    expect(overlap).toBeLessThan(1000); // an independent draw overlaps ~2000 * 0.2 = 400
  });

  it('mixes classes in any prefix (calibration takes the first training items)', () => {
    const head = firstItems(split.train, 256);
    expect(head.n).toBe(256);
    expect(head.images.length).toBe(256 * 784);
    expect(classCounts(head).every((c) => c >= 10)).toBe(true);
  });

  it('rejects malformed input', () => {
    expect(() => splitMnist(raw.slice(0, 9))).toThrow(RangeError);
    const bad = raw.map((a) => Float32Array.from(a));
    bad[3][5] = 2;
    expect(() => splitMnist(bad)).toThrow(/outside \[0, 1\]/);
    expect(() => splitMnist(raw.map((a) => Array.from(a).slice(0, 100 * MNIST_PIXELS)))).toThrow(/need more than 200/);
  });
});

describe('Prng', () => {
  it('is reproducible and seed-sensitive', () => {
    const a = new Prng(0);
    const b = new Prng(0);
    const c = new Prng(1);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
    expect(new Prng(0, 1).nextU32()).not.toBe(sa[0]);
    expect(new Prng(2 ** 40).nextU32()).not.toBe(sa[0]);
  });

  it('draws roughly uniform integers', () => {
    const r = new Prng(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    const u = new Prng(3).uniform();
    expect(u >= 0 && u < 1).toBe(true);
  });

  it('rejects bad seeds', () => {
    expect(() => new Prng(-1)).toThrow(RangeError);
    expect(() => new Prng(0.5)).toThrow(RangeError);
  });
});
