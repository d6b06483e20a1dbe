// The CPU training code behind scripts/train.ts (which makes models/*.onnx): kernels against naive
// loops, every layer's backward pass against finite differences, a short training run, and the ONNX
// round trip.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstItems } from '../../src/io/datasets/mnist.ts';
import { loadMnist } from '../../src/io/datasets/mnist-node.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { decodeModel } from '../../src/io/onnx/decode.ts';
import { int64ToNumber } from '../../src/io/onnx/proto.ts';
import { Conv2d, Dense, Flatten, Pool2d, Relu } from '../../scripts/train/layers.ts';
import type { Layer } from '../../scripts/train/layers.ts';
import { shiftImage, trainModel } from '../../scripts/train/loop.ts';
import { Sequential, buildLenet5, buildMlp, evaluate, softmaxCrossEntropy } from '../../scripts/train/model.ts';
import { exportOnnx, importOnnx } from '../../scripts/train/onnx.ts';
import { col2im, convGeometry, im2col, matmulNN, matmulNT, matmulTN } from '../../scripts/train/ops.ts';
import { centralDifferences } from '../helpers/finite-diff.ts';

function randn(n: number, rng: Prng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.uniform() - 1) * scale;
  return a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Asserts |num − ana| ≤ tol·max(1, |ana|) element-wise, naming the first failure. */
function expectClose(ana: ArrayLike<number>, num: ArrayLike<number>, tol: number, what: string): void {
  expect(ana.length).toBe(num.length);
  for (let i = 0; i < ana.length; i++) {
    const err = Math.abs(ana[i] - num[i]);
    if (err > tol * Math.max(1, Math.abs(ana[i]))) throw new Error(`${what}[${i}]: analytic ${ana[i]}, numeric ${num[i]}`);
  }
}

/**
 * Central differences of L(x) = Σ g·layer(x) with respect to the input and every parameter, compared
 * with the layer's backward pass. `eps` must stay below the distance to any kink (ReLU at 0, ties in
 * max pooling); every function here is piecewise linear, so away from kinks the quotient is exact up
 * to f32 rounding.
 */
function gradCheck(layer: Layer, x: Float32Array, batch: number, seed: number, eps = 1e-2, tol = 2e-3): void {
  const rng = new Prng(seed, 7);
  const y0 = layer.forward(x, batch, true);
  const g = randn(y0.length, rng);
  const dx = Float32Array.from(layer.backward(g, batch, true) as Float32Array);
  const grads = layer.params.map((p) => Float32Array.from(p.grad));
  const loss = (): number => dot(g, layer.forward(x, batch, true));
  const numeric = (v: Float32Array): Float64Array => centralDifferences(v, loss, eps);
  expectClose(dx, numeric(x), tol, `${layer.kind} dx`);
  layer.params.forEach((p, k) => expectClose(grads[k], numeric(p.data), tol, p.name));
}

describe('matmul kernels', () => {
  const rng = new Prng(11);
  // Odd sizes exercise every remainder path of the 2×4 blocking.
  for (const [m, n, k] of [[1, 1, 1], [3, 5, 7], [2, 4, 8], [5, 9, 6], [7, 3, 13]]) {
    it(`match naive loops for m=${m} n=${n} k=${k}`, () => {
      const a = randn(m * k, rng);
      const bt = randn(n * k, rng); // [N, K]
      const b = randn(k * n, rng); // [K, N]
      const at = randn(k * m, rng); // [K, M]
      const ref = (f: (i: number, j: number, p: number) => number): Float64Array => {
        const c = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) c[i * n + j] += f(i, j, p);
        return c;
      };
      const cases: [string, (c: Float32Array, acc: boolean) => void, Float64Array][] = [
        ['NT', (c, acc) => matmulNT(a, bt, c, m, n, k, acc), ref((i, j, p) => a[i * k + p] * bt[j * k + p])],
        ['NN', (c, acc) => matmulNN(a, b, c, m, n, k, acc), ref((i, j, p) => a[i * k + p] * b[p * n + j])],
        ['TN', (c, acc) => matmulTN(at, b, c, m, n, k, acc), ref((i, j, p) => at[p * m + i] * b[p * n + j])],
      ];
      for (const [name, f, want] of cases) {
        const c = new Float32Array(m * n).fill(99);
        f(c, false);
        expectClose(c, want, 1e-5, name);
        f(c, true);
        expectClose(c, want.map((v) => 2 * v), 1e-5, `${name} accumulate`);
      }
    });
  }

  it('im2col and col2im are adjoint, and im2col reads (cin, kh, kw) rows', () => {
    const g = convGeometry(2, 5, 4, 3, 1);
    const rows = 2 * 3 * 3;
    const p = g.oh * g.ow;
    const x = randn(2 * 5 * 4, rng);
    const c = randn(rows * p, rng);
    const col = new Float32Array(rows * p);
    im2col(x, 0, g, col, 0);
    const back = new Float32Array(x.length);
    col2im(c, 0, g, back, 0);
    expect(dot(col, c)).toBeCloseTo(dot(x, back), 4);
    // Row (cin=1, ky=0, kx=2) at output (oy=2, ox=1) reads x[1, 2+0-1, 1+2-1].
    expect(col[(1 * 9 + 0 * 3 + 2) * p + 2 * g.ow + 1]).toBe(x[1 * 20 + 1 * 4 + 2]);
    // Padding reads zero: (cin=0, ky=0, kx=0) at (0, 0).
    expect(col[0]).toBe(0);
  });
});

describe('layer gradients (finite differences)', () => {
  it('dense', () => {
    const rng = new Prng(1);
    gradCheck(new Dense(5, 4, rng), randn(3 * 5, rng), 3, 1);
  });

  it('conv, padded and unpadded', () => {
    const rng = new Prng(2);
    gradCheck(new Conv2d(2, 6, 5, 3, 3, 1, rng), randn(2 * 2 * 6 * 5, rng), 2, 2);
    gradCheck(new Conv2d(3, 5, 5, 2, 2, 0, rng), randn(2 * 3 * 5 * 5, rng), 2, 3);
    gradCheck(new Conv2d(1, 7, 7, 2, 5, 2, rng), randn(7 * 7, rng), 1, 4);
  });

  it('max pool and average pool (odd sizes floor)', () => {
    const rng = new Prng(3);
    // Distinct values at least 0.05 apart keep every window's argmax stable under ±eps.
    const n = 2 * 2 * 5 * 6;
    const x = new Float32Array(n);
    const perm = rng.shuffle(new Int32Array(n).map((_, i) => i));
    for (let i = 0; i < n; i++) x[i] = perm[i] * 0.05 - 3;
    gradCheck(new Pool2d('maxpool', 2, 5, 6, 2), x, 2, 5);
    gradCheck(new Pool2d('avgpool', 2, 5, 6, 2), randn(n, rng), 2, 6);
    gradCheck(new Pool2d('maxpool', 1, 6, 6, 3), x.subarray(0, 72), 2, 7);
  });

  it('relu and flatten', () => {
    const rng = new Prng(4);
    const x = randn(40, rng).map((v) => (v >= 0 ? v + 0.1 : v - 0.1)); // away from the kink
    gradCheck(new Relu([4, 5]), x, 2, 8);
    gradCheck(new Flatten([2, 2, 5]), x, 2, 9);
  });

  it('softmax cross-entropy', () => {
    const rng = new Prng(5);
    const batch = 3;
    const classes = 4;
    const logits = randn(batch * classes, rng, 3);
    const labels = [2, 0, 3];
    const d = new Float32Array(batch * classes);
    const loss = softmaxCrossEntropy(logits, labels, batch, classes, d);
    expect(loss).toBeGreaterThan(0);
    const scratch = new Float32Array(batch * classes);
    const eps = 1e-3;
    const num = centralDifferences(logits, () => softmaxCrossEntropy(logits, labels, batch, classes, scratch), eps);
    expectClose(d, num, 1e-3, 'dlogits');
  });

  it('a whole network, through the loss', () => {
    const rng = new Prng(6);
    const model = new Sequential('tiny', [1, 6, 6], [
      new Conv2d(1, 6, 6, 2, 3, 1, rng),
      new Relu([2, 6, 6]),
      new Pool2d('maxpool', 2, 6, 6, 2),
      new Flatten([2, 3, 3]),
      new Dense(18, 5, rng),
      new Relu([5]),
      new Dense(5, 3, rng),
    ]);
    const batch = 2;
    const x = randn(batch * 36, rng);
    const labels = [1, 2];
    const d = new Float32Array(batch * 3);
    softmaxCrossEntropy(model.forward(x, batch, true), labels, batch, 3, d);
    const dx = Float32Array.from(model.backward(d, batch, true) as Float32Array);
    const grads = model.params.map((p) => Float32Array.from(p.grad));
    const loss = (): number => softmaxCrossEntropy(model.forward(x, batch, true), labels, batch, 3, new Float32Array(batch * 3));
    // Small eps: the loss is smooth except at ReLU/max kinks, which random data rarely lands near.
    const eps = 1e-3;
    const check = (v: Float32Array, ana: Float32Array, what: string): void => {
      const num = centralDifferences(v, loss, eps);
      for (let i = 0; i < v.length; i++) expect(Math.abs(num[i] - ana[i]), `${what}[${i}]`).toBeLessThan(2e-3);
    };
    check(x, dx, 'dx');
    model.params.forEach((p, k) => check(p.data, grads[k], p.name));
  });
});

describe('training', () => {
  const { train, test } = loadMnist();

  it('shifts images with zero fill', () => {
    const src = new Float32Array(16).map((_, i) => i + 1);
    const dst = new Float32Array(16);
    shiftImage(src, dst, 4, 1, -1); // right 1, up 1
    expect(Array.from(dst)).toEqual([0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 0, 0, 0]);
    shiftImage(src, dst, 4, 0, 0);
    expect(dst).toEqual(src);
  });

  it('reduces the loss on a small subset, deterministically', () => {
    const sub = firstItems(train, 400);
    const evalSet = firstItems(test, 300);
    const run = (): { losses: number[]; weights: Float32Array; acc: number } => {
      const model = buildMlp(3);
      const before = evaluate(model, evalSet);
      const recs = trainModel(model, sub, null, { epochs: 3, batchSize: 32, lr: 3e-3, weightDecay: 0, maxShift: 1, seed: 3, side: 28 });
      const after = evaluate(model, evalSet);
      expect(after.loss).toBeLessThan(before.loss);
      return { losses: recs.map((r) => r.trainLoss), weights: Float32Array.from(model.params[0].data), acc: after.accuracy };
    };
    const a = run();
    expect(a.losses[2]).toBeLessThan(a.losses[0]);
    expect(a.acc).toBeGreaterThan(0.6);
    const b = run();
    expect(b.losses).toEqual(a.losses);
    expect(b.weights.every((v, i) => v === a.weights[i])).toBe(true);
  });

  it('trains LeNet-5 a few steps', () => {
    const sub = firstItems(train, 128);
    const model = buildLenet5(0);
    const recs = trainModel(model, sub, null, { epochs: 2, batchSize: 16, lr: 2e-3, weightDecay: 0, maxShift: 0, seed: 0, side: 28 });
    expect(recs[1].trainLoss).toBeLessThan(recs[0].trainLoss);
  });
});

describe('ONNX export', () => {
  it('round-trips LeNet-5 and the MLP exactly', () => {
    const rng = new Prng(9);
    for (const model of [buildLenet5(4), buildMlp(4)]) {
      const bytes = exportOnnx(model);
      const back = importOnnx(bytes);
      const x = randn(3 * 784, rng, 0.5).map(Math.abs);
      const want = Float32Array.from(model.forward(x, 3, false));
      expect(back.forward(x, 3, false)).toEqual(want);
    }
  });

  it('writes the documented interface: opset 13, input [N, ...], logits, standard ops', () => {
    const m = decodeModel(exportOnnx(buildLenet5(0)), 'lenet5');
    expect(m.opsetImport.map((o) => [o.domain ?? '', int64ToNumber(o.version)])).toEqual([['', 13]]);
    const g = m.graph;
    const dims = (v: (typeof g.input)[number]): (string | number)[] =>
      (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : int64ToNumber(d.dimValue)));
    expect(g.input.map((v) => v.name)).toEqual(['input']);
    expect(dims(g.input[0])).toEqual(['N', 1, 28, 28]);
    expect(g.output.map((v) => v.name)).toEqual(['logits']);
    expect(dims(g.output[0])).toEqual(['N', 10]);
    expect(g.node.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(g.initializer.map((t) => [t.name, t.dims.map(int64ToNumber)])).toEqual([
      ['conv1.weight', [6, 1, 5, 5]], ['conv1.bias', [6]], ['conv2.weight', [16, 6, 5, 5]], ['conv2.bias', [16]],
      ['fc1.weight', [120, 400]], ['fc1.bias', [120]], ['fc2.weight', [84, 120]], ['fc2.bias', [84]], ['fc3.weight', [10, 84]], ['fc3.bias', [10]],
    ]);
    const gemm = g.node.find((n) => n.opType === 'Gemm');
    expect(int64ToNumber(gemm?.attribute.find((a) => a.name === 'transB')?.i)).toBe(1);
  });
});

describe('shipped models', () => {
  const { test } = loadMnist();
  const readme = readFileSync(new URL('../../models/README.md', import.meta.url), 'utf8');
  for (const [name, target] of [['mlp', 0.95], ['lenet5', 0.97]] as const) {
    it(`models/${name}.onnx meets its target and the accuracy models/README.md states`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`../../models/${name}.onnx`, import.meta.url)));
      const { accuracy } = evaluate(importOnnx(bytes, `${name}.onnx`), test);
      expect(accuracy).toBeGreaterThanOrEqual(target);
      expect(readme).toContain(`| \`${name}.onnx\` |`);
      expect(readme).toContain(`**${(100 * accuracy).toFixed(2)}%**`);
    });
  }
});
