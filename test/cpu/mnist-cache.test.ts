// The decoded-MNIST cache (src/io/datasets/mnist-node.ts) must give exactly what parsing the
// package's JSON gives, and must never be trusted when it is damaged or stale.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearMnistMemo, loadMnist, loadMnistFirst, loadMnistRaw } from '../../src/io/datasets/mnist-node.ts';

const dir = mkdtempSync(join(tmpdir(), 'xbarsim-mnist-cache-'));
const saved = process.env.XBARSIM_CACHE_DIR;
afterAll(() => {
  if (saved === undefined) delete process.env.XBARSIM_CACHE_DIR;
  else process.env.XBARSIM_CACHE_DIR = saved;
  clearMnistMemo();
  rmSync(dir, { recursive: true, force: true });
});

function load(cacheDir: string): readonly Float64Array[] {
  process.env.XBARSIM_CACHE_DIR = cacheDir;
  clearMnistMemo();
  return loadMnistRaw();
}

function sameBits(a: readonly Float64Array[], b: readonly Float64Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, c) => {
    const y = b[c];
    if (x.length !== y.length) return false;
    const u = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
    const v = new Uint32Array(y.buffer, y.byteOffset, 2 * y.length);
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
    return true;
  });
}

describe('MNIST decode cache', () => {
  const fromJson = load('');
  const cacheFile = join(dir, 'mnist-raw.bin');

  it('writes a cache whose contents are the JSON values bit for bit', () => {
    const first = load(dir);
    expect(readdirSync(dir)).toEqual(['mnist-raw.bin']);
    expect(sameBits(first, fromJson)).toBe(true);
    const again = load(dir);
    expect(again === first).toBe(false);
    expect(sameBits(again, fromJson)).toBe(true);
  });

  it('gives the same split from the cache as from the JSON', () => {
    process.env.XBARSIM_CACHE_DIR = '';
    clearMnistMemo();
    const a = loadMnist();
    process.env.XBARSIM_CACHE_DIR = dir;
    clearMnistMemo();
    const b = loadMnist();
    expect(Buffer.compare(Buffer.from(a.test.images.buffer), Buffer.from(b.test.images.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.train.images.buffer), Buffer.from(b.train.images.buffer))).toBe(0);
    expect([...a.test.labels]).toEqual([...b.test.labels]);
  });

  it('gathers the first digits of each split straight from the cache, the same bits as the whole split', () => {
    process.env.XBARSIM_CACHE_DIR = '';
    clearMnistMemo();
    const whole = loadMnist();
    // The cache written by the first test must be there, or loadMnistFirst would fall back to the JSON and prove nothing.
    expect(statSync(cacheFile).size).toBeGreaterThan(0);
    for (const [test, train] of [
      [100, 256],
      [1, 0],
      [5000, 9000],
    ]) {
      process.env.XBARSIM_CACHE_DIR = dir;
      clearMnistMemo();
      const part = loadMnistFirst(test, train);
      const nTest = Math.min(test, whole.test.n);
      const nTrain = Math.min(train, whole.train.n);
      expect([part.test.n, part.train.n]).toEqual([nTest, nTrain]);
      expect(Buffer.compare(Buffer.from(part.test.images.buffer, part.test.images.byteOffset, part.test.images.byteLength), Buffer.from(whole.test.images.buffer, 0, nTest * 784 * 4))).toBe(0);
      expect(Buffer.compare(Buffer.from(part.train.images.buffer, part.train.images.byteOffset, part.train.images.byteLength), Buffer.from(whole.train.images.buffer, 0, nTrain * 784 * 4))).toBe(0);
      expect([...part.test.labels]).toEqual([...whole.test.labels.subarray(0, nTest)]);
      expect([...part.train.labels]).toEqual([...whole.train.labels.subarray(0, nTrain)]);
      expect(part.test.name).toBe(whole.test.name);
    }
  });

  it('ignores and rewrites a truncated, corrupted or stale cache', () => {
    const good = readFileSync(cacheFile);
    const damaged = [
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from('not a cache at all'),
      // A stale key: the header names another package version or file set.
      Buffer.from(good.toString('latin1').replace('"key":"[', '"key":"[0'), 'latin1'),
    ];
    for (const bytes of damaged) {
      writeFileSync(cacheFile, bytes);
      expect(sameBits(load(dir), fromJson)).toBe(true);
      expect(readFileSync(cacheFile).equals(good)).toBe(true);
    }
  });

  it('still loads when the cache folder cannot be written', () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    expect(sameBits(load(join(blocker, 'sub')), fromJson)).toBe(true);
  });
});
