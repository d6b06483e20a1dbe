/**
 * Converter measurements as a circuit designer makes them (IEEE Std 1241-2010, "Terminology and Test
 * Methods for Analog-to-Digital Converters"): a coherently sampled full-scale sine for SINAD, ENOB and
 * SFDR (sections 4.1.4.5, 9.3, 9.5: M samples holding exactly J cycles, J and M coprime, so every bin
 * but the signal's holds only noise and distortion and no window is needed), and a linear-ramp
 * code-density test for the transition levels, DNL and INL (terminal-based: the line through the first
 * and last transition, sections 5.4 and 6.4).
 */

/** Power of each bin 0…M/2 of a real sequence (M a power of two), radix-2 FFT. */
export function powerSpectrum(x: Float64Array): Float64Array {
  const M = x.length;
  if (M < 2 || (M & (M - 1)) !== 0) throw new Error(`powerSpectrum: length ${M} is not a power of two`);
  const re = Float64Array.from(x);
  const im = new Float64Array(M);
  for (let i = 1, j = 0; i < M; i++) {
    let bit = M >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
    }
  }
  for (let len = 2; len <= M; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < M; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
  const p = new Float64Array(M / 2 + 1);
  for (let k = 0; k <= M / 2; k++) p[k] = (re[k] * re[k] + im[k] * im[k]) / (M * M);
  return p;
}

/** M samples of `offset + amplitude·sin(2π·J·i/M + phase)`: a coherently sampled sine. */
export function coherentSine(M: number, J: number, amplitude: number, offset: number, phase = 0.1): Float64Array {
  return Float64Array.from({ length: M }, (_, i) => offset + amplitude * Math.sin((2 * Math.PI * J * i) / M + phase));
}

/** A prime number of cycles near M/8.3 (coprime with a power-of-two M, away from low-order harmonics folding onto it). */
export function coherentCycles(M: number): number {
  const isPrime = (n: number): boolean => {
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  };
  let J = Math.max(3, Math.floor(M / 8.3));
  while (!isPrime(J)) J++;
  return J;
}

/** The dynamic figures of one sine record. */
export interface SineFigures {
  sinad_dB: number;
  enob: number;
  sfdr_dB: number;
  /** Power spectrum (bins 0…M/2, DC included), for plots. */
  spectrum: Float64Array;
}

/**
 * SINAD, ENOB = (SINAD − 1.76)/6.02 and SFDR of the output of a coherent sine test with J cycles:
 * signal = bin J, noise and distortion = every other bin except DC. An ideal n-bit quantizer driven
 * over its full range measures 6.02·n + 1.76 dB.
 */
export function sineFigures(y: Float64Array, J: number): SineFigures {
  const p = powerSpectrum(y);
  const signal = p[J];
  let nd = 0;
  let spur = 0;
  for (let k = 1; k < p.length; k++) {
    if (k === J) continue;
    nd += p[k];
    spur = Math.max(spur, p[k]);
  }
  const sinad = 10 * Math.log10(signal / Math.max(nd, 1e-300));
  return { sinad_dB: sinad, enob: (sinad - 1.76) / 6.02, sfdr_dB: 10 * Math.log10(signal / Math.max(spur, 1e-300)), spectrum: p };
}

/** Static linearity of a converter: transition levels, DNL and INL per code, in LSB. */
export interface Linearity {
  /** T_k: the input where code min + k begins (k = 1…H), from the code density. */
  transitions: Float64Array;
  /** DNL of codes min + 1 … max − 1 (the inner codes, whose width is defined). */
  dnl: Float64Array;
  /** INL at each transition k = 1…H, terminal-based. */
  inl: Float64Array;
  inlMax: number;
  dnlMax: number;
  /** The measured LSB (terminal line), in input units. */
  lsb: number;
}

/**
 * Code-density test on a linear ramp: `code(u)` is sampled at u = start + (i + 1/2)/perLsb for i in
 * 0…count−1 (midpoints, so ideal thresholds at half-integers are never hit), each code's width is its
 * share of the samples, and transition k sits at start plus the width of every code below min + k.
 * The ramp must begin below the first transition and end above the last.
 */
export function rampLinearity(code: (u: number) => number, min: number, max: number, start: number, stop: number, perLsb: number): Linearity {
  const count = Math.round((stop - start) * perLsb);
  const codes = new Float64Array(count);
  for (let i = 0; i < count; i++) codes[i] = code(start + (i + 0.5) / perLsb);
  return densityLinearity(codes, min, max, start, perLsb);
}

/** The code-density test of rampLinearity on codes already sampled at u = start + (i + 1/2)/perLsb. */
export function densityLinearity(codes: ArrayLike<number>, min: number, max: number, start: number, perLsb: number): Linearity {
  const H = max - min;
  const hist = new Float64Array(H + 1);
  for (let i = 0; i < codes.length; i++) hist[Math.min(H, Math.max(0, codes[i] - min))] += 1;
  const transitions = new Float64Array(H);
  let below = 0;
  for (let k = 1; k <= H; k++) {
    below += hist[k - 1];
    transitions[k - 1] = start + below / perLsb;
  }
  const lsb = H > 1 ? (transitions[H - 1] - transitions[0]) / (H - 1) : 1;
  const inl = transitions.map((t, k) => (t - transitions[0] - k * lsb) / lsb);
  const dnl = Float64Array.from({ length: Math.max(0, H - 1) }, (_, k) => (transitions[k + 1] - transitions[k]) / lsb - 1);
  return { transitions, dnl, inl, inlMax: maxAbs(inl), dnlMax: maxAbs(dnl), lsb };
}

function maxAbs(a: Float64Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}
