import { expect } from 'vitest';

/** Sample mean and (n−1) variance. */
export function moments(x: ArrayLike<number>): { mean: number; variance: number; n: number } {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - m) ** 2;
  return { mean: m, variance: v / (n - 1), n };
}

/** E f(n) for n ~ N(0, 1) by the trapezoid rule on [−10, 10] (error far below any sampling error here). */
export function gaussianExpectation(f: (n: number) => number): number {
  const steps = 20000;
  const h = 20 / steps;
  let s = 0;
  for (let i = 0; i <= steps; i++) {
    const n = -10 + i * h;
    const w = i === 0 || i === steps ? 0.5 : 1;
    s += w * f(n) * Math.exp(-0.5 * n * n);
  }
  return (s * h) / Math.sqrt(2 * Math.PI);
}

/**
 * Asserts that samples x have mean `mean` and standard deviation `sd` as a formula predicts: the mean
 * within 5 standard errors (sd/√n) and the variance within 5 standard errors of a sample variance,
 * √((μ4 − σ⁴)/n) with the sample's own fourth moment (valid for non-Gaussian samples too).
 */
export function expectMoments(x: ArrayLike<number>, mean: number, sd: number): void {
  const { mean: m, variance: v, n } = moments(x);
  let m4 = 0;
  for (let i = 0; i < n; i++) m4 += (x[i] - m) ** 4;
  m4 /= n;
  expect(Math.abs(m - mean), `mean ${m} vs ${mean}`).toBeLessThanOrEqual((5 * sd) / Math.sqrt(n) + 1e-12 * Math.abs(mean));
  const seVar = Math.sqrt(Math.max(m4 - v * v, 0) / n);
  expect(Math.abs(v - sd * sd), `variance ${v} vs ${sd * sd}`).toBeLessThanOrEqual(5 * seVar + 1e-15);
}
