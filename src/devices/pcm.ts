/**
 * IBM aihwkit's `PCMLikeNoiseModel` (PCM of Joshi et al., Nat. Commun. 11, 2473 (2020); Nandakumar et
 * al., ICECS 2019), exactly as src/aihwkit/inference/noise/pcm.py of aihwkit 1.1.0 (commit 4545f11b)
 * computes it with its defaults. Conductances in µS, times in seconds.
 */

/** pcm.py:89: programming-noise polynomial c0 + c1·x + c2·x² (µS at g_max = 25 µS). */
export const PCM_PROG_COEFF = [0.26348, 1.965, -1.1731] as const;
/**
 * pcm.py:90: the polynomial's reference g_max. With the default coefficients aihwkit always uses 25 µS
 * (a user-given `prog_coeff_g_max_reference` is overwritten there, pcm.py:83-92); xbarsim exposes no
 * coefficients, so 25 µS is the only case.
 */
export const PCM_PROG_G_REF = 25;
/** pcm.py:24: `_ZERO_CLIP`, the floor of g/g_max in the drift-exponent fit. */
export const PCM_ZERO_CLIP = 1e-7;
/** pcm.py:69-70: the 1/f fit's t_read and the drift fit's first read time t_0 (s). */
export const PCM_T_READ = 250e-9;
export const PCM_T0 = 20;

/** σ_prog(g_T) in µS (pcm.py:108-114): (c0 + c1·x + c2·x²)·g_max/25 with x = g_T/g_max; not clamped. */
export function pcmProgSigma(gT: number, gMax: number): number {
  const x = gT / gMax;
  return (PCM_PROG_COEFF[0] + PCM_PROG_COEFF[1] * x + PCM_PROG_COEFF[2] * x * x) * (gMax / PCM_PROG_G_REF);
}

/** g_prog = max(g_T + progScale·σ_prog·n, 0) (pcm.py:115-116): no upper clip. */
export function pcmProgram(gT: number, gMax: number, progScale: number, n: number): number {
  return Math.max(gT + progScale * pcmProgSigma(gT, gMax) * n, 0);
}

/** Mean and spread of the drift exponent at target g_T (pcm.py:123-127), each clamped to its fit range. */
export function pcmNuStats(gT: number, gMax: number): { mu: number; sigma: number } {
  const lg = Math.log(Math.max(Math.abs(gT / gMax), PCM_ZERO_CLIP));
  return {
    mu: Math.min(Math.max(-0.0155 * lg + 0.0244, 0.049), 0.1),
    sigma: Math.min(Math.max(-0.0125 * lg - 0.0059, 0.008), 0.045),
  };
}

/**
 * ν = |μ_ν + σ_ν·n|·driftScale (pcm.py:128-130), drawn once per cell at programming from its target
 * (not its programmed) conductance; the scale multiplies after the absolute value, as there.
 */
export function pcmNu(gT: number, gMax: number, driftScale: number, n: number): number {
  const { mu, sigma } = pcmNuStats(gT, gMax);
  return Math.abs(mu + sigma * n) * driftScale;
}

/** g_drift = g_prog·((t_inf + t0)/t0)^(−ν) for t_inf > 0, else g_prog (pcm.py:138-144). */
export function pcmDrift(gProg: number, nu: number, time: number): number {
  const t = time + PCM_T0;
  return t > PCM_T0 ? gProg * (t / PCM_T0) ** -nu : gProg;
}

/**
 * The relative 1/f read-noise σ of a cell programmed to g_prog, read `time` s after programming
 * (pcm.py:147-151): Q_s·√ln((t + t_read)/(2·t_read)), t = time + t0, Q_s = min(0.0088 /
 * max((|g_prog|/g_max)^0.65, 1e-3), 0.2). Q_s takes g_prog (before drift) as aihwkit's code does
 * (its docs say g_T); the noise is then proportional to |g_drift| (pcm.py:152).
 */
export function pcmReadSigmaRel(gProg: number, gMax: number, time: number): number {
  const qs = Math.min(0.0088 / Math.max((Math.abs(gProg) / gMax) ** 0.65, 1e-3), 0.2);
  const t = time + PCM_T0;
  return qs * Math.sqrt(Math.log((t + PCM_T_READ) / (2 * PCM_T_READ)));
}
