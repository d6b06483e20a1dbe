// Case data that is the same in Node and the browser: seeded, no files.
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { sizeOf, type Network } from '../../src/ir/graph.ts';

/** Deterministic values in [lo, 1) from a 32-bit LCG. */
export function lcgArray(n: number, seed: number, lo: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (1 - lo) * (s / 2 ** 32);
  }
  return out;
}

/** Seeded inputs in [0, 1) of a network's input shape, for speed-only cases (labels all 0). */
export function randomEvalData(net: Network, n: number, calSamples: number): EvalData {
  const size = sizeOf(net.input.shape);
  const x = lcgArray(Math.max(n, calSamples) * size, 7, 0);
  return { name: 'random', x: x.subarray(0, n * size), labels: new Int32Array(n), n, sampleSize: size, calibration: { x: x.subarray(0, calSamples * size), n: calSamples } };
}
