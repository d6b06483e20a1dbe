import { clamp, roundHalfEven } from './rounding.ts';

/** Quantized weights: integers q in [-Qw, Qw] with a scale per output column (or one shared). */
export interface QuantizedWeights {
  q: Int32Array;
  sw: Float64Array;
}

/**
 * `q = clamp(round(W / sw), -Qw, Qw)` with `sw[j] = max|W[:,j]| / Qw` (per channel) or `max|W| / Qw`
 * (per tensor). A column whose weights are all zero gets `sw = 0` and `q = 0` in either mode
 * (DESIGN.md section 3): its output is then exactly 0, so a pruned column never picks up the offset
 * mapping's or the ADC's error through a scale it does not need.
 */
export function quantizeWeights(W: ArrayLike<number>, K: number, N: number, Qw: number, perChannel: boolean): QuantizedWeights {
  const sw = new Float64Array(N);
  if (perChannel) {
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) sw[j] = Math.max(sw[j], Math.abs(W[k * N + j]));
  } else {
    let mx = 0;
    for (let i = 0; i < K * N; i++) mx = Math.max(mx, Math.abs(W[i]));
    const colMax = new Float64Array(N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) colMax[j] = Math.max(colMax[j], Math.abs(W[k * N + j]));
    for (let j = 0; j < N; j++) sw[j] = colMax[j] === 0 ? 0 : mx;
  }
  for (let j = 0; j < N; j++) sw[j] /= Qw;
  const q = new Int32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) q[k * N + j] = sw[j] === 0 ? 0 : clamp(roundHalfEven(W[k * N + j] / sw[j]), -Qw, Qw);
  }
  return { q, sw };
}

/** Input scale `sx = max|X| / Qx` over the calibration inputs (1 if all zero). */
export function inputScale(X: ArrayLike<number>, Qx: number): number {
  let mx = 0;
  for (let i = 0; i < X.length; i++) mx = Math.max(mx, Math.abs(X[i]));
  return mx === 0 ? 1 : mx / Qx;
}

/** Signed quantized inputs `sign(X)·clamp(round(|X| / sx), 0, Qx)`: the two passes are its positive and negative parts. */
export function quantizeInputs(X: ArrayLike<number>, sx: number, Qx: number): Int32Array {
  const xq = new Int32Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const v = clamp(roundHalfEven(Math.abs(X[i]) / sx), 0, Qx);
    xq[i] = X[i] < 0 ? -v : v;
  }
  return xq;
}

/** Per vector: 1 if it has a negative entry (needs the X⁻ pass), else 0. */
export function negativeFlags(xq: Int32Array, B: number, K: number): Uint32Array {
  const flags = new Uint32Array(B);
  for (let v = 0; v < B; v++) {
    for (let k = 0; k < K; k++) {
      if (xq[v * K + k] < 0) {
        flags[v] = 1;
        break;
      }
    }
  }
  return flags;
}
