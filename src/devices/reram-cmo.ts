/**
 * IBM aihwkit's `ReRamCMONoiseModel` (analog filamentary CMO/HfOx ReRAM of IBM Research Zurich,
 * Falcone et al.), as src/aihwkit/inference/noise/reram.py:168-317 of aihwkit 1.1.0 (commit 4545f11b)
 * computes it with its defaults. Conductances in absolute µS (not normalized by g_max), times in s.
 */

/**
 * reram.py:233-237: programming σ = c0 + c1·g_T (µS), per program-and-verify acceptance range in %.
 * aihwkit's default `acceptance_range=2e-2` is not a key, so it falls back to the smallest key, the
 * 0.2 % fit (reram.py:242-243, 273-277). We reproduce what aihwkit computes by default (0.2 %); the 2 %
 * fit is what aihwkit gives for `acceptance_range=2`.
 */
export const CMO_PROG_COEFF = [0.00081107, 0.00106879] as const;
/** reram.py:241: conductance decay, mean shift −0.08900206·ln t and spread 0.04201137·ln t + 0.41183342 (µS). */
export const CMO_DECAY_MEAN = -0.08900206;
export const CMO_DECAY_STD = [0.04201137, 0.41183342] as const;
/** reram.py:239: read noise K and t_read (s). */
export const CMO_READ_K = 0.0277316483;
export const CMO_T_READ = 1e-6;

/** σ_prog(g_T) in µS (reram.py:252-259; the g_max/reference factor is 1 there). */
export function cmoProgSigma(gT: number): number {
  return CMO_PROG_COEFF[0] + CMO_PROG_COEFF[1] * gT;
}

/**
 * g_prog = g_T + progScale·σ_prog·n (reram.py:260). aihwkit does not clip here; we clip at 0 as every
 * static step of DESIGN.md section 4 does (σ is under 0.1 µS above g_min = 9 µS, so it never binds).
 */
export function cmoProgram(gT: number, progScale: number, n: number): number {
  return Math.max(gT + progScale * cmoProgSigma(gT) * n, 0);
}

/**
 * The static state at inference time t > 0 (reram.py:306-309, 317): g = g_prog − 0.089·ln t·driftScale
 * + n·(0.042·ln t + 0.412)·driftScale, clamped to [g_min, g_max]. aihwkit clamps after adding the read
 * noise; xbarsim draws read noise per read (DESIGN.md section 4), so the clamp is applied to the static
 * part. t = 0 returns g_prog (reram.py:303-304). No t_0 offset, natural log.
 */
export function cmoAtTime(gProg: number, gMin: number, gMax: number, driftScale: number, time: number, n: number): number {
  if (time === 0) return gProg;
  const lt = Math.log(time);
  const g = gProg + CMO_DECAY_MEAN * lt * driftScale + n * (CMO_DECAY_STD[0] * lt + CMO_DECAY_STD[1]) * driftScale;
  return Math.min(Math.max(g, gMin), gMax);
}

/**
 * Read-noise σ (µS) of a cell at g (reram.py:310-314): K·log10(g)·√ln((t + t_read)/(2·t_read)), with
 * log10 as the code has it (the docs write log); 0 at t = 0, where aihwkit adds no noise. Evaluated at
 * the clamped static g (aihwkit: before its final clamp), so it is defined for every cell (g ≥ g_min > 0).
 */
export function cmoReadSigma(g: number, time: number): number {
  if (time === 0) return 0;
  // Below t_read/… the log is negative and aihwkit's sqrt gives NaN; such reads carry no accumulated noise.
  const acc = Math.max(Math.log((time + CMO_T_READ) / (2 * CMO_T_READ)), 0);
  return Math.abs(CMO_READ_K * Math.log10(g) * Math.sqrt(acc));
}
