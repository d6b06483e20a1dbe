import { expect } from 'vitest';

/**
 * Asserts that `z` looks like n draws of N(0, 1): the sample mean within 5 standard errors of 0 and
 * the sample variance within 5 standard errors of 1 (the standard error of a Gaussian sample
 * variance is sqrt(2/(n−1))). The bounds come from the sample size, not from tuning.
 */
export function expectStandardNormal(z: ArrayLike<number>): void {
  const n = z.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += z[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (z[i] - mean) ** 2;
  v /= n - 1;
  expect(Math.abs(mean)).toBeLessThanOrEqual(5 / Math.sqrt(n));
  expect(Math.abs(v - 1)).toBeLessThanOrEqual(5 * Math.sqrt(2 / (n - 1)));
}

/** Asserts that k successes in n trials are within 5 binomial standard deviations of probability p. */
export function expectBinomial(k: number, n: number, p: number): void {
  expect(Math.abs(k - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
}
