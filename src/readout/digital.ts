import { FIXED_FORMAT } from '../config/schema.ts';
import type { DigitalConfig, DigitalRounding } from '../config/types.ts';
import { roundHalfEven } from '../crossbar/rounding.ts';

/** A fixed-point format: `u<int>.<frac>` (unsigned) or `s<int>.<frac>` (two's complement, the sign one of the integer bits). */
export interface FixedFormat {
  signed: boolean;
  intBits: number;
  fracBits: number;
  /** 2^−frac. */
  step: number;
  min: number;
  max: number;
}

/** Bits (in all) of the widest format whose values an f32 holds exactly: wider ones need exact integer arithmetic on the GPU. */
export const F32_EXACT_BITS = 24;

/** Whether a format's values all fit an f32's 24-bit significand. */
export function fitsF32(f: FixedFormat): boolean {
  return f.intBits + f.fracBits <= F32_EXACT_BITS;
}

/** Parses a format the config has already validated. */
export function fixedFormat(text: string): FixedFormat {
  const m = FIXED_FORMAT.exec(text);
  if (!m) throw new Error(`digital: bad fixed-point format ${JSON.stringify(text)}`);
  const signed = m[1] === 's';
  const intBits = Number(m[2]);
  const fracBits = Number(m[3]);
  const step = 2 ** -fracBits;
  return { signed, intBits, fracBits, step, min: signed ? -(2 ** (intBits - 1)) : 0, max: (signed ? 2 ** (intBits - 1) : 2 ** intBits) - step };
}

/** x on the format's grid (round half to even: coefficients are quantized once, offline), saturated to its range. */
export function quantizeFixed(x: number, f: FixedFormat): number {
  return Math.min(f.max, Math.max(f.min, roundHalfEven(x / f.step) * f.step));
}

/** Rounds to an integer as the unit's `rounding` says: half-even, half-up (toward +∞), floor, truncate (toward 0). */
export function roundBy(x: number, mode: DigitalRounding): number {
  switch (mode) {
    case 'half-even':
      return roundHalfEven(x);
    case 'half-up':
      return Math.floor(x + 0.5);
    case 'floor':
      return Math.floor(x);
    case 'truncate':
      return Math.trunc(x);
  }
}

/** The output code range of the unit: unsigned after a ReLU, else signed. */
export function outputRange(outputBits: number, relu: boolean): { lo: number; hi: number } {
  return relu ? { lo: 0, hi: 2 ** outputBits - 1 } : { lo: -(2 ** (outputBits - 1)), hi: 2 ** (outputBits - 1) - 1 };
}

/** What the digital unit of one layer is told (by the network executor or a test). */
export interface DigitalLayer {
  /** Per output column: the f32 path's factor from the accumulator to the output, sw[j]·sx (DESIGN.md section 3). */
  colScale: Float64Array;
  /** Per output column bias (folded BatchNorm included), or null. */
  bias: Float64Array | null;
  /** The output LSB: the next layer's input scale (its sx), or a calibrated max|Y| / 2^(bits) − 1. */
  outScale: number;
  /** A ReLU follows (fused into the unit), or the config asks for one. */
  relu: boolean;
}

/**
 * The near-memory fixed-point unit (DESIGN.md section 11; after the NMPU of Ferro et al., 2024): from a
 * column's digital shift-and-add result A (in units of one weight LSB times one input LSB, i.e. the
 * integer product Σ xq·q up to ADC error) to the next layer's input code:
 *   F_j = colScale_j / outScale,  e = the largest integer with max_j F_j·2^e ≤ max of the scale format,
 *   m_j = quantize(F_j·2^e, scale format),  o_j = quantize(bias_j / outScale, offset format),
 *   y = round(m_j·A·2^−e + o_j),  ReLU,  saturate (or wrap) to outputBits,  output y·outScale.
 * The per-layer power of two 2^−e is a shift; the products are exact in f64 for the formats allowed (≤ 32
 * bits) on integer A up to 2^21.
 */
export class DigitalUnit {
  readonly scale: FixedFormat;
  readonly offset: FixedFormat;
  /** The shared exponent e and the quantized scale and offset of each column. */
  readonly exponent: number;
  readonly m: Float64Array;
  readonly o: Float64Array;
  readonly range: { lo: number; hi: number };

  constructor(
    readonly cfg: DigitalConfig,
    readonly layer: DigitalLayer,
  ) {
    this.scale = fixedFormat(cfg.scale);
    this.offset = fixedFormat(cfg.offset);
    const N = layer.colScale.length;
    const F = Float64Array.from(layer.colScale, (s) => s / layer.outScale);
    let fmax = 0;
    for (const v of F) fmax = Math.max(fmax, Math.abs(v));
    this.exponent = fmax === 0 ? 0 : Math.floor(Math.log2(this.scale.max / fmax));
    // log2 can land one off at exact powers of two: step to the largest e that fits.
    while (fmax > 0 && fmax * 2 ** (this.exponent + 1) <= this.scale.max) this.exponent++;
    while (fmax > 0 && fmax * 2 ** this.exponent > this.scale.max) this.exponent--;
    this.m = F.map((v) => quantizeFixed(v * 2 ** this.exponent, this.scale));
    this.o = Float64Array.from({ length: N }, (_, j) => quantizeFixed((layer.bias ? layer.bias[j] : 0) / layer.outScale, this.offset));
    this.range = outputRange(cfg.outputBits, layer.relu || cfg.relu);
  }

  /** The output code of accumulator value A of column j. */
  code(A: number, j: number): number {
    let y = roundBy(this.m[j] * A * 2 ** -this.exponent + this.o[j], this.cfg.rounding);
    if (this.layer.relu || this.cfg.relu) y = Math.max(0, y);
    const { lo, hi } = this.range;
    if (this.cfg.saturate) return Math.min(hi, Math.max(lo, y));
    const span = hi - lo + 1;
    return ((((y - lo) % span) + span) % span) + lo;
  }

  /** Y [B, N] from the accumulators A [B, N]. */
  apply(A: ArrayLike<number>, B: number): Float64Array {
    const N = this.m.length;
    const Y = new Float64Array(B * N);
    for (let v = 0; v < B; v++) for (let j = 0; j < N; j++) Y[v * N + j] = this.code(A[v * N + j], j) * this.layer.outScale;
    return Y;
  }
}
