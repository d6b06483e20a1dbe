import type { Compensation } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';

/**
 * aihwkit's readout floor: `clamp(mean|Y|, min=0.0001)` (inference/compensation/drift.py:30 and :76,
 * aihwkit 1.1.0), in units where the largest weight is 1 (our |ŵ| / Qw).
 */
const READOUT_FLOOR = 1e-4;

/**
 * Per output column j, Σ_k |ŵ[k, j]| / Qw: the weights a one-hot read of every row sees, as aihwkit's
 * drift compensation reads its tile with `eye(in_size)` (drift.py:33-38, :79-83). ŵ is the decoded
 * analog weight Σ_s Σ_pol ±2^(s·c)·(G − Gmin)/ΔG (− Qw for the offset mapping), i.e. what a full-scale
 * input on row k alone returns through an ideal periphery. aihwkit runs its readout through the noisy
 * tile forward (output noise, ADC); ours is the noise-free read of the programmed cells: a single-row
 * read through a calibrated ADC would round most weights to 0.
 */
export function eyeReadout(g: LayerGeometry, G: ArrayLike<number>, offset: boolean): Float64Array {
  const { K, N, S, pol, c, Gmin, dG, Qw } = g;
  const sums = new Float64Array(N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      let w = 0;
      for (let s = 0; s < S; s++) {
        for (let p = 0; p < pol; p++) w += (p === 0 ? 1 : -1) * 2 ** (s * c) * (G[((k * S + s) * pol + p) * N + j] - Gmin);
      }
      // Offset mapping (DESIGN.md section 3): the cells hold qu = q + Qw in units of ΔG, so ŵ = Σ…/ΔG − Qw.
      sums[j] += Math.abs(w / dG - (offset ? Qw : 0)) / Qw;
    }
  }
  return sums;
}

/**
 * Drift compensation factors α per output column, ref / current (base.py:55-61): `global` is
 * GlobalDriftCompensation (one readout, the mean over all rows and columns, drift.py:21-41), `column`
 * is PerColumnDriftCompensation (the mean over rows per column, drift.py:68-86). The reference is read
 * right after programming (aihwkit's `init_baseline` at the end of `program_weights`), the current value
 * at inference time; α multiplies the digital output before the bias (inference.py:268-282).
 */
export function compensationFactors(mode: Exclude<Compensation, 'none'>, g: LayerGeometry, programmed: Float64Array, current: Float64Array): Float64Array {
  const { K, N } = g;
  const alpha = new Float64Array(N);
  if (mode === 'global') {
    let r = 0;
    let c = 0;
    for (let j = 0; j < N; j++) (r += programmed[j]), (c += current[j]);
    const a = Math.max(r / (K * N), READOUT_FLOOR) / Math.max(c / (K * N), READOUT_FLOOR);
    return alpha.fill(a);
  }
  for (let j = 0; j < N; j++) alpha[j] = Math.max(programmed[j] / K, READOUT_FLOOR) / Math.max(current[j] / K, READOUT_FLOOR);
  return alpha;
}
