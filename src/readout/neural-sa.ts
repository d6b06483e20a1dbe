import type { ChipId } from '../crossbar/chip.ts';
import { NoiseDraws } from '../random/philox.ts';
import { READOUT_STREAM } from './streams.ts';

/**
 * NNS+A (Neural-PIM's neural shift-and-add, IEEE TC 2022) as xbarsim models it: the analog weighted
 * accumulation of `buffered` (over input cycles, per slice) and `analog-sa` (over cycles, then over
 * slices) realised by a chain of small RRAM crossbar stages. A chain over partial sums P_0 … P_{M−1}
 * (least significant first, shift 2^h between neighbours, h = dacBits for cycles, cellBits for slices)
 * runs A_0 = P_0·a_in,0 / a_fb,0 and
 *   A_m = (a_acc,m·A_{m−1} + 2^h·a_in,m·P_m) / (2^h·a_fb,m),
 * the accumulated value entering with a weight of 1 unit, the new partial sum with 2^h units, divided by
 * a feedback weight of 2^h units. Ideally a = 1 and A_{M−1}·2^((M−1)h) = Σ_m 2^(mh)·P_m. Each weight
 * of W units is realised with ceil(W/Q) cells (Q = 2^(weightBits−1) − 1 levels, filled greedily); with
 * each cell varied as G·(1 + sigma·n) the weight's relative error has sigma_W = sigma·sqrt(Σ l_i²)/W.
 * The chain then multiplies P_m by 2^(mh)·c_m with
 *   c_m = (a_in,m / a_fb,m)·Π_{m' > m} (a_acc,m' / a_fb,m'):
 * gain and linearity (bit-weight) errors from the cells, drawn per chip and chain from
 * READOUT_STREAM.neuralSa (three weight groups per stage, group index 3m + {0: acc, 1: in, 2: fb}).
 */
export function weightSigma(units: number, weightBits: number, sigma: number): number {
  const Q = 2 ** (weightBits - 1) - 1;
  let rest = units;
  let sq = 0;
  while (rest > 0) {
    const l = Math.min(Q, rest);
    sq += l * l;
    rest -= l;
  }
  return (sigma * Math.sqrt(sq)) / units;
}

/** The coefficients c_m (ideal 1) of one NNS+A chain of M stages with shift 2^shiftBits, on chip `id` (null: nominal, all 1). */
export function chainCoefficients(M: number, shiftBits: number, weightBits: number, sigma: number, id: ChipId | null, chain: number): Float64Array {
  const c = new Float64Array(M).fill(1);
  if (!id || sigma === 0) return c;
  const d = new NoiseDraws(id.seed, id.chip, id.layer, READOUT_STREAM.neuralSa);
  const s1 = weightSigma(1, weightBits, sigma);
  const sh = weightSigma(2 ** shiftBits, weightBits, sigma);
  const g = (w: number, s: number): number => 1 + s * d.normal(Math.floor(w / 2), chain, (w % 2) as 0 | 1);
  let tail = 1;
  for (let m = M - 1; m >= 0; m--) {
    const acc = g(3 * m, s1);
    const inp = g(3 * m + 1, sh);
    const fb = g(3 * m + 2, sh);
    c[m] = (inp / fb) * tail;
    // A_{m−1} enters stage m with weight acc/fb: every earlier partial sum carries it.
    if (m > 0) tail *= acc / fb;
  }
  return c;
}
