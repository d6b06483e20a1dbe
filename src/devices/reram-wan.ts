/**
 * IBM aihwkit's `ReRamWan2022NoiseModel` (ReRAM of Wan et al., "A compute-in-memory chip based on
 * resistive random-access memory", Nature 608 (2022)), as src/aihwkit/inference/noise/reram.py:26-165
 * of aihwkit 1.1.0 (commit 4545f11b) defines it. Conductances in µS, times in seconds.
 */

/**
 * reram.py:89-93: σ(x) polynomials in µS, constant term first (aihwkit lists them highest order first
 * and reverses them), fitted at 1 s, 1 day and 2 days after programming for a 40 µS device.
 */
export const WAN_COEFF: Readonly<Record<number, readonly number[]>> = {
  1: [0.348, 16.03, -43.853, 45.393, -16.815],
  86400: [0.701, 22.086, -50.773, 47.095, -16.458],
  172800: [0.782, 20.274, -43.507, 37.062, -11.934],
};

/**
 * The fit's reference g_max (reram.py:86-87: "standard g_max are defined in respect to 40.0 uS").
 * aihwkit's code sets `prog_coeff_g_max_reference = 40.0` (reram.py:94), an attribute it never reads,
 * and scales by g_max / coeff_g_max_reference = g_max / g_max = 1 (reram.py:83, 107): the fit is used
 * as absolute µS whatever g_max is. We decide for the evident intent, σ·g_max/40 (as PCMLikeNoiseModel
 * does with its 25 µS reference); at the model's default g_max of 40 µS the two are the same numbers.
 */
export const WAN_G_REF = 40;

/** σ_t(g_T) in µS of the fit at time key `t` (1, 86400 or 172800), x = g_T/g_max (reram.py:98-107). */
export function wanSigma(gT: number, gMax: number, t: number): number {
  const c = WAN_COEFF[t];
  if (c === undefined) throw new Error(`reram-wan2022 has fits at 1, 86400 and 172800 s only (asked for ${t})`);
  const x = gT / gMax;
  let s = 0;
  let xp = 1;
  for (const ci of c) {
    s += ci * xp;
    xp *= x;
  }
  return s * (gMax / WAN_G_REF);
}

/** Programming: g = max(g_T + scale·σ_1s(g_T)·n, 0), with the fit of the smallest time key (reram.py:113-123). */
export function wanProgram(gT: number, gMax: number, progScale: number, n: number): number {
  return Math.max(gT + progScale * wanSigma(gT, gMax, 1) * n, 0);
}

/**
 * At inference time t (a fit's key), aihwkit draws anew around the *target* and ignores the programmed
 * value (reram.py:137-165: `g_prog: will be ignored`): g = max(g_T + scale·σ_t(g_T)·n, 0). Time 0 is the
 * programmed state (aihwkit raises for t = 0; before any drift call its weights are the programmed ones).
 */
export function wanAtTime(gT: number, gProg: number, gMax: number, driftScale: number, time: number, n: number): number {
  if (time === 0) return gProg;
  return Math.max(gT + driftScale * wanSigma(gT, gMax, time) * n, 0);
}
