import type { ChipId } from '../crossbar/chip.ts';
import { NoiseDraws } from '../random/philox.ts';
import { codeRange, transitions, type CodeRange } from './codes.ts';
import { READOUT_STREAM } from './streams.ts';
import { evalTable, type AdcConverter, type TransferTable } from './transfer.ts';

/**
 * NNADC (neural-network ADC, after Cao et al.: NeuADC, DATE 2019, and the super-resolution NNADC,
 * arXiv:1911.12815; used by Neural-PIM, IEEE TC 2022) as xbarsim models it: a network with one hidden
 * layer, both layers RRAM crossbars with weights of `weightBits` (sign included: magnitudes 0…Q,
 * Q = 2^(weightBits−1) − 1, one cell per weight, the sign from the side of a differential pair), and
 * inverters as activations, switching rail to rail (their transition is taken as sharp against an LSB).
 *
 * - Hidden layer: one unit per code transition (H = 2^n − 1 unsigned, 2^n − 2 signed): a network with
 *   one hidden layer of monotone units needs about that many for its LSB output to toggle at every
 *   transition. Unit k sees the input row u (the analog input, in LSB of the range) with weight w_k in
 *   1…Q, and R reference rows at voltages ρ_r = F·B^(r−R+1) (F = max + 0.5, the full-scale input;
 *   B = 2Q + 1; a ladder from full scale down by factors of B) with signed weights d_kr in −Q…Q.
 *   It fires when w_k·u ≥ Σ_r d_kr·ρ_r: its threshold is Σ_r d_kr·ρ_r / w_k.
 * - Output layer: bit b of the offset code is an inverter on Σ_k W_bk·h_k − 1/2 with W_bk = +1 when
 *   k + 1 is an odd multiple of 2^b, −1 when an even one, else 0 (thermometer to binary; every cell at
 *   full conductance, the 1/2 from a half-supply row).
 * - Training (`designNnadc`): for each hidden unit, the quantized weights (w_k and the digits d_kr,
 *   balanced base-B digits of the nearest representable value) that minimize the expected squared
 *   threshold error under the cell variation `sigma`, nominal error plus first-order variance; R grows
 *   until every nominal threshold is within NNADC_TOLERANCE of its ideal place. Deterministic (an
 *   exhaustive search, no initialization to seed), cached per (bits, signed, weightBits, sigma).
 * - Per chip: every cell's conductance is G·(1 + sigma·n), n ~ N(0, 1) from READOUT_STREAM.neuralAdc
 *   (DESIGN.md section 4's proportional model), so thresholds move, cross (bubbles) and the output sums
 *   pick up errors: INL, DNL and missing codes come from the cells, not from a chosen curve.
 */
export interface NnadcDesign {
  bits: number;
  signed: boolean;
  weightBits: number;
  sigma: number;
  codes: CodeRange;
  /** Hidden units (= transitions). */
  H: number;
  /** Reference rows and their voltages (LSB). */
  R: number;
  rho: Float64Array;
  /** Input weight of each hidden unit, 1…Q. */
  w: Int32Array;
  /** Reference weights, [H, R], each in −Q…Q. */
  d: Int32Array;
  /** Largest |nominal − ideal| threshold (LSB). */
  maxError: number;
}

/** Every nominal threshold lies within this many LSB of its ideal place: ≥ 99.2% of a dense ramp gets the uniform code. */
export const NNADC_TOLERANCE = 1 / 128;

/** Balanced base-B digits (each in −Q…Q, B = 2Q + 1) of the integer v, least significant first, R of them. */
export function balancedDigits(v: number, Q: number, R: number): Int32Array {
  const B = 2 * Q + 1;
  const out = new Int32Array(R);
  let x = v;
  for (let r = 0; r < R; r++) {
    let dg = ((x % B) + B) % B;
    if (dg > Q) dg -= B;
    out[r] = dg;
    x = (x - dg) / B;
  }
  if (x !== 0) throw new Error(`balancedDigits: ${v} needs more than ${R} digits`);
  return out;
}

const designs = new Map<string, NnadcDesign>();

/** The trained NNADC of one configuration (cached). */
export function designNnadc(bits: number, signed: boolean, weightBits: number, sigma: number): NnadcDesign {
  const key = `${bits},${signed},${weightBits},${sigma}`;
  const hit = designs.get(key);
  if (hit) return hit;
  const codes = codeRange(bits, signed);
  const H = transitions(codes);
  const Q = 2 ** (weightBits - 1) - 1;
  const B = 2 * Q + 1;
  const F = codes.max + 0.5;
  for (let R = 1; ; R++) {
    const rho = Float64Array.from({ length: R }, (_, r) => F * B ** (r - R + 1));
    const w = new Int32Array(H);
    const d = new Int32Array(H * R);
    let maxError = 0;
    for (let k = 0; k < H; k++) {
      const target = codes.min + k + 0.5;
      let best = Infinity;
      for (let wk = 1; wk <= Q; wk++) {
        const digits = balancedDigits(Math.round((wk * target) / rho[0]), Q, R);
        let nominal = 0;
        let spread = (wk * target) ** 2;
        for (let r = 0; r < R; r++) {
          nominal += digits[r] * rho[r];
          spread += (digits[r] * rho[r]) ** 2;
        }
        const err = nominal / wk - target;
        const expected = err * err + (sigma * sigma * spread) / (wk * wk);
        if (expected < best) {
          best = expected;
          w[k] = wk;
          d.set(digits, k * R);
        }
      }
      let t = 0;
      for (let r = 0; r < R; r++) t += d[k * R + r] * rho[r];
      maxError = Math.max(maxError, Math.abs(t / w[k] - target));
    }
    if (maxError <= NNADC_TOLERANCE || R >= 16) {
      const design = { bits, signed, weightBits, sigma, codes, H, R, rho, w, d, maxError };
      designs.set(key, design);
      return design;
    }
  }
}

/** Cells of one NNADC instance: hidden [H, 1 + R] (input then references), then output [n, H + 1] (units then the 1/2 bias). */
export function nnadcCells(ds: NnadcDesign): number {
  return ds.H * (1 + ds.R) + ds.bits * (ds.H + 1);
}

/** The smallest double above x (a unit that fires for u ≤ t switches off just above t). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const i = new BigInt64Array(f.buffer);
  i[0] += x > 0 ? 1n : -1n;
  return f[0];
}

/**
 * One NNADC instance as programmed on one chip (`id` null: the nominal network). Hidden unit k fires
 * when dir_k·u ≥ dir_k·t_k (dir = sign of its varied input weight; 0: always on or off).
 */
export class NeuralAdc implements AdcConverter {
  /** Hidden thresholds t_k (LSB) and directions. */
  readonly t: Float64Array;
  readonly dir: Int8Array;
  /** Output weights of each bit's units (varied), [n][H], and the varied 1/2 of each bit. */
  private readonly out: Float64Array;
  private readonly half: Float64Array;
  private exact: TransferTable | null = null;

  constructor(
    readonly design: NnadcDesign,
    id: ChipId | null,
    instance: number,
  ) {
    const { H, R, bits, rho } = design;
    const sigma = id ? design.sigma : 0;
    const draws = sigma > 0 ? new NoiseDraws(id!.seed, id!.chip, id!.layer, READOUT_STREAM.neuralAdc) : null;
    const vary = (cell: number): number => (draws ? 1 + sigma * draws.normal(Math.floor(cell / 2), instance, (cell % 2) as 0 | 1) : 1);
    this.t = new Float64Array(H);
    this.dir = new Int8Array(H);
    for (let k = 0; k < H; k++) {
      const base = k * (1 + R);
      const wk = design.w[k] * vary(base);
      let b = 0;
      for (let r = 0; r < R; r++) {
        const dg = design.d[k * R + r];
        if (dg !== 0) b += dg * vary(base + 1 + r) * rho[r];
      }
      if (wk === 0) {
        this.dir[k] = 0;
        this.t[k] = b <= 0 ? -Infinity : Infinity;
      } else {
        this.dir[k] = wk > 0 ? 1 : -1;
        this.t[k] = b / wk;
      }
    }
    const outBase = H * (1 + R);
    this.out = new Float64Array(bits * H);
    this.half = new Float64Array(bits);
    for (let bit = 0; bit < bits; bit++) {
      const row = outBase + bit * (H + 1);
      for (let j = 1; j * 2 ** bit - 1 < H; j++) {
        const k = j * 2 ** bit - 1;
        this.out[bit * H + k] = (j % 2 === 1 ? 1 : -1) * vary(row + k);
      }
      this.half[bit] = 0.5 * vary(row + H);
    }
  }

  private fires(k: number, u: number): boolean {
    const dir = this.dir[k];
    if (dir === 0) return this.t[k] === -Infinity;
    return dir > 0 ? u >= this.t[k] : u <= this.t[k];
  }

  private codeOf(sums: Float64Array): number {
    const { codes, bits } = this.design;
    let m = 0;
    for (let b = 0; b < bits; b++) if (sums[b] - this.half[b] >= 0) m += 2 ** b;
    return Math.min(codes.max, codes.min + m);
  }

  /** The code at u (LSB): the network evaluated directly. */
  code(u: number): number {
    const { H, bits } = this.design;
    const sums = new Float64Array(bits);
    for (let b = 0; b < bits; b++) {
      let s = 0;
      for (let k = 2 ** b - 1; k < H; k += 2 ** b) if (this.fires(k, u)) s += this.out[b * H + k];
      sums[b] = s;
    }
    return this.codeOf(sums);
  }

  /** Converts through the exact transfer table (built once; `code` evaluates the network itself, the table's check). */
  convert(x: number, hi: number): number {
    if (hi <= 0) return 0;
    const step = hi / this.design.codes.max;
    this.exact ??= this.table();
    return evalTable(this.exact, x / step) * step;
  }

  /** The exact transfer function: one breakpoint where each hidden unit switches, the code of every segment. */
  table(): TransferTable {
    const { H, bits } = this.design;
    const sums = new Float64Array(bits);
    const on = new Uint8Array(H);
    const events: { at: number; k: number }[] = [];
    for (let k = 0; k < H; k++) {
      const dir = this.dir[k];
      on[k] = dir === 0 ? Number(this.t[k] === -Infinity) : dir < 0 ? 1 : 0;
      if (dir !== 0 && Number.isFinite(this.t[k])) events.push({ at: dir > 0 ? this.t[k] : nextUp(this.t[k]), k });
    }
    const toggle = (k: number, sign: number): void => {
      for (let b = 0; b < bits && (k + 1) % 2 ** b === 0; b++) sums[b] += sign * this.out[b * H + k];
    };
    for (let k = 0; k < H; k++) if (on[k]) toggle(k, 1);
    events.sort((a, b) => a.at - b.at || a.k - b.k);
    const breakpoints: number[] = [];
    const values: number[] = [this.codeOf(sums)];
    for (let i = 0; i < events.length; ) {
      const at = events[i].at;
      for (; i < events.length && events[i].at === at; i++) {
        const k = events[i].k;
        on[k] ^= 1;
        toggle(k, on[k] ? 1 : -1);
      }
      breakpoints.push(at);
      values.push(this.codeOf(sums));
    }
    return { breakpoints: Float64Array.from(breakpoints), values: Float64Array.from(values) };
  }
}
