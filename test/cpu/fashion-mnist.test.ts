// Fashion-MNIST from Debian's dataset-fashion-mnist package (.ci/setup-system installs it): the IDX
// reader, the loader, `--dataset fashion-mnist` in eval and sweep, and the missing-package error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { parseIdx } from '../../src/io/datasets/idx.ts';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_PIXELS } from '../../src/io/datasets/fashion-mnist.ts';
import { loadFashionMnist } from '../../src/io/datasets/fashion-mnist-node.ts';
import { fashionMnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { describePlan, planSweep } from '../../src/cli/sweep.ts';
import { usageMessage } from '../helpers/errors.ts';

/** An IDX file: magic (0, 0, type, ndim), big-endian u32 dims, the bytes. */
function idx(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}


describe('parseIdx', () => {
  it('reads dims big-endian and the values in order', () => {
    const a = parseIdx(idx([2, 3, 300], Array.from({ length: 1800 }, (_, i) => i % 251)), 'f');
    expect(a.dims).toEqual([2, 3, 300]);
    expect(a.data.length).toBe(1800);
    expect(a.data[1799]).toBe(1799 % 251);
  });
  it.each([
    ['a wrong magic', () => Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /f: not an IDX file \(magic 0x01000801\)/],
    ['another value type', () => idx([1], [0, 0, 0, 0], 0x0d), /f: IDX values are float32; only uint8 is supported/],
    ['a truncated header', () => Uint8Array.from([0, 0, 8, 3, 0, 0]), /f: truncated IDX header/],
    ['too few values', () => idx([4, 4], new Uint8Array(15)).subarray(0, 4 + 8 + 15), /f: IDX header says \[4, 4\] \(16 values\) but the file holds 15/],
    ['too many values', () => idx([2], new Uint8Array(3)), /holds 3/],
  ] as const)('rejects %s with one line naming the file', (_n, bytes, re) => {
    const msg = usageMessage(() => parseIdx(bytes(), 'f'));
    expect(msg).toMatch(re);
    expect(msg).not.toContain('\n');
  });
});

describe('the installed Fashion-MNIST (.ci/setup-system installs it)', () => {
  it('has the official 60,000 / 10,000 images, 6,000 / 1,000 per class, pixels byte/255 in [0, 1]', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect([train.n, test.n]).toEqual([60000, 10000]);
    expect(test.images.length).toBe(10000 * FASHION_MNIST_PIXELS);
    for (const [d, per] of [[train, 6000], [test, 1000]] as const) {
      const counts = new Array<number>(FASHION_MNIST_CLASSES).fill(0);
      for (const c of d.labels) counts[c]++;
      expect(counts).toEqual(new Array<number>(FASHION_MNIST_CLASSES).fill(per));
    }
    // The dataset's first test image is an ankle boot (class 9), its first training image too.
    expect([test.labels[0], train.labels[0]]).toEqual([9, 9]);
    const levels = new Set(test.images.subarray(0, 20 * FASHION_MNIST_PIXELS));
    for (const v of levels) expect(v).toBe(Math.fround(Math.round(v * 255) / 255));
    expect(Math.min(...levels)).toBe(0);
    expect(Math.max(...levels)).toBe(1);
  });

  it('evaluates the test split and calibrates on the first calibration.samples training images', () => {
    const d = fashionMnistEvalData([1, 28, 28], 100, 32);
    expect([d.name, d.n, d.sampleSize, d.calibration?.n]).toEqual(['fashion-mnist', 100, 784, 32]);
    expect(Array.from(d.labels)).toEqual(Array.from(loadFashionMnist('test').labels.subarray(0, 100)));
    expect(Array.from(d.calibration!.x)).toEqual(Array.from(loadFashionMnist('train').images.subarray(0, 32 * 784)));
    expect(fashionMnistEvalData([784], undefined, 256).n).toBe(10000);
    expect(usageMessage(() => fashionMnistEvalData([3, 32, 32], 10, 8))).toMatch(/--dataset fashion-mnist: the model's input has shape \[N, 3, 32, 32\]/);
  });

  it('xbarsim eval --dataset fashion-mnist runs a model (here the MNIST LeNet-5: a working pipeline, not a good classifier)', () => {
    const r = runCli(['eval', '--model', 'models/lenet5.onnx', '--dataset', 'fashion-mnist', '--digital', '--limit', '20', '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { dataset: string; images: number };
    expect([j.dataset, j.images]).toEqual(['fashion-mnist', 20]);
  });

  it('xbarsim sweep plans over --dataset fashion-mnist and names it', () => {
    const out = join(tempDir(), 'sweep');
    const plan = planSweep({ model: 'models/lenet5.onnx', dataset: 'fashion-mnist', preset: ['ideal'], vary: ['noise.read.sigma=0,0.01'], out, backend: 'cpu' });
    expect(plan.file.dataset).toEqual({ kind: 'fashion-mnist' });
    expect(plan.setup.dataset).toBe('fashion-mnist');
    expect(describePlan(plan)).toContain('Fashion-MNIST test images');
  });
});

describe('a missing or broken Fashion-MNIST install', () => {
  it('names the Debian package to install: one line, exit 2', () => {
    const r = runCli(['eval', '--model', 'models/lenet5.onnx', '--dataset', 'fashion-mnist', '--digital', '--backend', 'cpu'], { XBARSIM_FASHION_MNIST_DIR: join(tempDir(), 'none') });
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(/t10k-images-idx3-ubyte\.gz not found; install Debian's dataset-fashion-mnist package \(apt-get install dataset-fashion-mnist\)/);
  });

  it('a corrupt file is a one-line error naming it', () => {
    const dir = join(tempDir(), 'fm');
    mkdirSync(dir);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), 'not gzip');
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([1], [0])));
    const r = runCli(['eval', '--model', 'models/lenet5.onnx', '--dataset', 'fashion-mnist', '--digital', '--backend', 'cpu'], { XBARSIM_FASHION_MNIST_DIR: dir });
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(/t10k-images-idx3-ubyte\.gz: not a valid gzip file/);
  });

  it('an unknown --dataset lists both built-ins', () => {
    const r = runCli(['eval', '--model', 'models/lenet5.onnx', '--dataset', 'cifar10', '--digital', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines[0]).toMatch(/allowed: mnist, fashion-mnist/);
  });
});
