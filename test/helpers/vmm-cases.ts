import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Matrix } from '../../src/nn/crossbar-layer.ts';
import { randomArray } from './random.ts';

/** The valid (dataflow, mapping, subtract) combinations of DESIGN.md section 3. */
export const COMBOS: XbarConfigInput[] = [
  { dataflow: 'digital-sa', weights: { mapping: 'differential' }, adc: { subtract: 'digital' } },
  { dataflow: 'digital-sa', weights: { mapping: 'differential' }, adc: { subtract: 'analog' } },
  { dataflow: 'digital-sa', weights: { mapping: 'offset' }, adc: { subtract: 'digital' } },
  { dataflow: 'buffered', weights: { mapping: 'differential' } },
  { dataflow: 'analog-sa', weights: { mapping: 'differential' } },
];

/** Short label for a combination. */
export function comboName(c: XbarConfigInput): string {
  return `${c.dataflow}/${c.weights?.mapping}${c.dataflow === 'digital-sa' ? `/${c.adc?.subtract}` : ''}`;
}

/** Deep-merges test overrides into a validated config. */
export function config(...parts: XbarConfigInput[]): XbarConfig {
  const merged: Record<string, unknown> = {};
  const merge = (dst: Record<string, unknown>, src: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(src)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const d = (dst[k] ??= {}) as Record<string, unknown>;
        merge(d, v as Record<string, unknown>);
      } else dst[k] = v;
    }
  };
  for (const p of parts) merge(merged, p as Record<string, unknown>);
  return resolveConfig(merged);
}

/** Random weights [K, N] and inputs [B, K] (signed, or non-negative). */
export function problem(K: number, N: number, B: number, signed: boolean, seed: number): { W: Matrix; X: Matrix } {
  return {
    W: { data: randomArray(K * N, seed), rows: K, cols: N },
    X: { data: randomArray(B * K, seed + 1, signed ? -1 : 0, 1), rows: B, cols: K },
  };
}

/** The exact integer product of section 3: sw·sx·(sign(X)·xq)·q, in f64. */
export function integerProduct(q: Int32Array, sw: Float64Array, xq: Int32Array, sx: number, B: number, K: number, N: number): Float64Array {
  const Y = new Float64Array(B * N);
  for (let v = 0; v < B; v++) {
    for (let k = 0; k < K; k++) {
      const x = xq[v * K + k];
      if (x === 0) continue;
      for (let j = 0; j < N; j++) Y[v * N + j] += x * q[k * N + j];
    }
    for (let j = 0; j < N; j++) Y[v * N + j] *= sw[j] * sx;
  }
  return Y;
}

/** The ideal-ADC exactness matrix of issue 3: every combination × dacBits × cellBits × shape × sign. */
export function forEachIdealCase(register: (name: string, cfg: XbarConfig, shapes: [number, number][]) => void): void {
  const ROWS = 16;
  const SHAPES: [number, number][] = [
    [10, 1], // K < rows, one output
    [16, 7], // K = rows, N not a multiple of 4
    [40, 7], // K = 2.5 × rows: ragged last row block
  ];
  for (const combo of COMBOS) {
    for (const dacBits of [1, 2, 4]) {
      for (const cellBits of [1, 2, 4]) {
        const cfg = config({ preset: 'ideal', array: { rows: ROWS, cols: 8 }, inputs: { dacBits }, weights: { cellBits } }, combo);
        register(`${comboName(combo)} dac=${dacBits} cell=${cellBits}`, cfg, SHAPES);
      }
    }
  }
}

/**
 * A pruned layer (issue 10, item 1): W [64, 16] all zero except W[0, 0] = 1, random signed inputs.
 * Under every dataflow, mapping and scaling, columns 1..15 must come out exactly 0.
 */
export function prunedProblem(): { W: Matrix; X: Matrix } {
  const W = new Float64Array(64 * 16);
  W[0] = 1;
  return { W: { data: W, rows: 64, cols: 16 }, X: { data: randomArray(8 * 64, 5, -1, 1), rows: 8, cols: 64 } };
}

/** The configs the pruned-layer check runs: the presets, with a noisy ADC and both weight scalings. */
export const PRUNED_CONFIGS: [string, XbarConfigInput][] = ['isaac', 'prime', 'cascade', 'neural-pim'].flatMap((preset) =>
  [true, false].map((perChannel): [string, XbarConfigInput] => [
    `${preset} perChannel=${perChannel}`,
    { preset, weights: { perChannel }, adc: { noise: 0.5 }, noise: { read: { sigma: 0.05 } }, seed: 4 },
  ]),
);
