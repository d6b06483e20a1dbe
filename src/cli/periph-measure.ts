import type { XbarConfig } from '../config/types.ts';
import { adcIsSigned, blockRanges } from '../crossbar/adc.ts';
import type { ChipId } from '../crossbar/chip.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { programLayer } from '../crossbar/program.ts';
import { inputScale, quantizeInputs } from '../crossbar/quantize.ts';
import { UsageError } from '../errors.ts';
import { programChipRef } from '../reference/chip.ts';
import { codeRange } from '../readout/codes.ts';
import { DigitalUnit, outputRange } from '../readout/digital.ts';
import { LayerReadout } from '../readout/layer.ts';
import { coherentCycles, coherentSine, densityLinearity, rampLinearity, sineFigures, type Linearity } from '../readout/measure.ts';
import { addSample, emptyHistogram, lloydMax, uniformLevels } from '../readout/nonuniform.ts';
import { segmentOf } from '../readout/transfer.ts';
import { calibrateAdcRangeRef, vmmRef } from '../reference/vmm.ts';

/** The figures of one stage of one chip (DESIGN.md section 11). */
export interface StageFigures {
  sinad_dB: number;
  enob: number;
  sfdr_dB: number;
  inlMax_LSB: number;
  dnlMax_LSB: number;
}

/** Curves kept for the report (chip 0 of each stage). */
export interface StageCurves {
  /** Input (LSB of the stage's input) and output (LSB) of a ramp through the transfer function. */
  transfer: { x: number[]; y: number[] };
  /** INL and DNL per code (LSB). */
  inl: number[];
  dnl: number[];
  /** Power spectrum of the sine test in dB relative to the fundamental, bins 1…M/2. */
  spectrum_dBc: number[];
  samples: number;
  cycles: number;
}

/** One stage (`adc` or `chain`) of one preset, every chip. */
export interface StageResult {
  stage: 'adc' | 'chain';
  chips: StageFigures[];
  curves: StageCurves;
}

/** `{ mean, std }` over chips (sample standard deviation; 0 for one chip). */
export interface Stat {
  mean: number;
  std: number;
}

/** One entry of `periph --json`'s `chains` (normative names, DESIGN.md section 11). */
export interface ChainEntry {
  preset: string;
  stage: 'adc' | 'chain';
  sinad_dB: Stat;
  enob: Stat;
  sfdr_dB: Stat;
  inlMax_LSB: Stat;
  dnlMax_LSB: Stat;
}

/** A measured preset: its config and both stages. */
export interface PeriphPreset {
  label: string;
  config: XbarConfig;
  stages: StageResult[];
}

/** Ramp points per LSB of the ADC code-density test: transitions to 1/64 LSB. */
export const RAMP_PER_LSB = 64;

function figures(sine: { sinad_dB: number; enob: number; sfdr_dB: number }, lin: Linearity): StageFigures {
  return { sinad_dB: sine.sinad_dB, enob: sine.enob, sfdr_dB: sine.sfdr_dB, inlMax_LSB: lin.inlMax, dnlMax_LSB: lin.dnlMax };
}

function dBc(spectrum: Float64Array, J: number): number[] {
  const ref = spectrum[J];
  return Array.from(spectrum.subarray(1), (p) => 10 * Math.log10(Math.max(p, 1e-30) / ref));
}

/** At most `n` evenly spaced points of a curve (the report's plots stay small). */
function thin(x: ArrayLike<number>, y: ArrayLike<number>, n: number): { x: number[]; y: number[] } {
  const step = Math.max(1, Math.ceil(x.length / n));
  const out = { x: [] as number[], y: [] as number[] };
  for (let i = 0; i < x.length; i += step) {
    out.x.push(x[i]);
    out.y.push(y[i]);
  }
  return out;
}

/**
 * The ADC alone: the first converter instance of layer 0 on each chip (its own per-chip transfer
 * function), at range 1, driven by a coherently sampled sine over its full input range (min − ½ to
 * max + ½ LSB) and a linear ramp 3 LSB beyond both ends. A nonuniform ADC with fitted levels is fitted
 * on the test sine (its calibration input here).
 */
export function measureAdc(cfg: XbarConfig, chips: number): StageResult {
  if (cfg.adc.bits === 0) throw new UsageError(`periph: ${cfg.preset ?? 'the config'} has adc.bits 0 (the ideal ADC): there is no converter to measure`);
  const signed = adcIsSigned(cfg);
  const codes = codeRange(cfg.adc.bits, signed);
  const L = codes.max;
  const M = 2 ** Math.max(12, cfg.adc.bits + 4);
  const J = coherentCycles(M);
  const amp = (codes.max - codes.min + 1) / 2;
  // Just inside full scale, so the peaks do not land on the clipping edge.
  const u = coherentSine(M, J, amp * (1 - 1e-9), (codes.max + codes.min) / 2);
  const geom = layerGeometry(Math.max(1, cfg.array.rows), 1, cfg);
  let fitted: Float64Array | null = null;
  if (cfg.adc.model === 'nonuniform' && cfg.adc.nonuniform.levels.length === 0) {
    const h = emptyHistogram(signed ? -1 : 0, 1);
    for (const v of u) addSample(h, v / L);
    fitted = lloydMax(h, uniformLevels(codes));
  }
  const out: StageResult = { stage: 'adc', chips: [], curves: { transfer: { x: [], y: [] }, inl: [], dnl: [], spectrum_dBc: [], samples: M, cycles: J } };
  for (let chip = 0; chip < chips; chip++) {
    const id: ChipId = { seed: cfg.seed, chip, layer: 0 };
    const conv = new LayerReadout(cfg, geom, id, fitted).adc(0, 0);
    const value = (x: number): number => conv.convert(x / L, 1) * L;
    const sine = sineFigures(u.map(value), J);
    // The code index: a nonuniform ADC's output is a level, its code the segment the input falls in.
    const table = conv.table(1);
    const code = cfg.adc.model === 'nonuniform' ? (x: number) => codes.min + segmentOf(table.breakpoints, x) : (x: number) => Math.round(value(x));
    const lin = rampLinearity(code, codes.min, codes.max, codes.min - 3, codes.max + 3, RAMP_PER_LSB);
    out.chips.push(figures(sine, lin));
    if (chip === 0) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let x = codes.min - 3; x <= codes.max + 3; x += 1 / 8) {
        xs.push(x);
        ys.push(value(x));
      }
      out.curves.transfer = thin(xs, ys, 2400);
      out.curves.inl = Array.from(lin.inl);
      out.curves.dnl = Array.from(lin.dnl);
      out.curves.spectrum_dBc = dBc(sine.spectrum, J);
    }
  }
  return out;
}

/**
 * Row depths of the chain stimulus, a_k = 1/2 + frac(k·φ)/2 (φ the golden ratio: a fixed, evenly spread
 * sequence in [1/2, 1), so every chip sees the same stimulus and the rows' bit planes differ).
 */
function rowDepth(k: number): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  return 0.5 + ((k * phi) % 1) / 2;
}

/**
 * The push-pull stimulus of the chain test: one column of array.rows rows, weights +1 on the first half
 * and −1 on the second, inputs a_k·(1 + s)/2 and a_k·(1 − s)/2 (non-negative: one pass, every dataflow),
 * so the ideal column output is (Σ a_k/2)·s plus a constant. Rows differ in depth so that each input
 * cycle's current, each buffered or analog partial sum and each conversion takes values across its
 * range as the sine runs, as a layer's do, rather than the few values of identical rows.
 */
function stimulus(rows: number, s: Float64Array): { W: Float64Array; X: Float64Array } {
  const half = Math.floor(rows / 2);
  const W = Float64Array.from({ length: rows }, (_, k) => (k < half ? 1 : -1));
  const X = new Float64Array(s.length * rows);
  for (let i = 0; i < s.length; i++) {
    for (let k = 0; k < rows; k++) X[i * rows + k] = k < half ? (rowDepth(k) * (1 + s[i])) / 2 : (rowDepth(k - half) * (1 - s[i])) / 2;
  }
  return { W, X };
}

/** The chain's output for inputs X on chip `chip` (CPU reference, f64; the digital unit after it when configured). */
function chainOutput(cfg: XbarConfig, W: Float64Array, X: Float64Array, B: number, chip: number): Float64Array {
  const K = W.length;
  const layer = programLayer(W, K, 1, cfg);
  const g = layer.geom;
  const sx = inputScale(X, g.Qx);
  const xq = quantizeInputs(X, sx, g.Qx);
  const calHi = cfg.adc.range === 'calibrated' ? calibrateAdcRangeRef(layer, cfg, xq, B) : 0;
  const ranges = blockRanges(g, cfg, calHi);
  const id: ChipId = { seed: cfg.seed, chip, layer: 0 };
  const { chip: programmed, gains } = programChipRef(layer, cfg, id);
  const acc = new Float64Array(B);
  const Y = vmmRef(programmed, cfg, xq, B, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains }, accumulators: acc });
  if (cfg.digital === undefined) return Y;
  const colScale = Float64Array.of(layer.sw[0] * sx);
  let peak = 0;
  for (const y of Y) peak = Math.max(peak, Math.abs(y));
  const relu = cfg.digital.relu;
  const outScale = peak === 0 ? 1 : peak / outputRange(cfg.digital.outputBits, relu).hi;
  return new DigitalUnit(cfg.digital, { colScale, bias: null, outScale, relu }).apply(acc, B);
}

/** Ramp points per LSB of the chain's code-density test (the chain runs a crossbar per point: 1/16 LSB). */
export const CHAIN_RAMP_PER_LSB = 16;

/**
 * The whole chain of the dataflow (ISAAC: column ADCs and digital shift-and-add; CASCADE: buffer, then
 * ADC; Neural-PIM: analog shift-and-add, then ADC), driven through the crossbar by the push-pull
 * stimulus. SINAD, ENOB and SFDR from a coherent sine over the stimulus' full range (s from −1 to 1);
 * INL and DNL from a code-density test of the chain as a converter with the ADC's number of codes: a
 * ramp of s at 16 points per LSB, each output put on that grid through the chain's own end points
 * (s = ∓1 at the first and last code). The input DAC's rounding is part of the chain (about 68 dB below the signal at
 * 8-bit inputs and 128 rows: per-row errors add in power, the signal in amplitude).
 */
export function measureChain(cfg: XbarConfig, chips: number): StageResult {
  const rows = cfg.array.rows;
  if (rows < 2) throw new UsageError(`periph: array.rows must be at least 2 for the chain's push-pull stimulus (got ${rows})`);
  const M = 4096;
  const J = coherentCycles(M);
  const sine = stimulus(rows, coherentSine(M, J, 1, 0));
  // The chain as a converter with the ADC's own number of codes (2^n − 1 for a signed, mid-tread one).
  const codes = codeRange(cfg.adc.bits, adcIsSigned(cfg));
  const top = codes.max - codes.min;
  const count = CHAIN_RAMP_PER_LSB * top;
  // The ramp's points, then its two end points.
  const s = Float64Array.from({ length: count + 2 }, (_, i) => (i < count ? -1 + (2 * (i + 0.5)) / count : i === count ? -1 : 1));
  const ramp = stimulus(rows, s);
  const out: StageResult = { stage: 'chain', chips: [], curves: { transfer: { x: [], y: [] }, inl: [], dnl: [], spectrum_dBc: [], samples: M, cycles: J } };
  for (let chip = 0; chip < chips; chip++) {
    const fig = sineFigures(chainOutput(cfg, sine.W, sine.X, M, chip), J);
    const yr = chainOutput(cfg, ramp.W, ramp.X, count + 2, chip);
    const lo = yr[count];
    const lsb = (yr[count + 1] - lo) / top;
    const level = (i: number): number => (lsb === 0 ? 0 : (yr[i] - lo) / lsb);
    const ramped = Float64Array.from({ length: count }, (_, i) => Math.min(top, Math.max(0, Math.round(level(i)))));
    const lin = densityLinearity(ramped, 0, top, 0, CHAIN_RAMP_PER_LSB);
    out.chips.push(figures(fig, lin));
    if (chip === 0) {
      out.curves.transfer = thin(Array.from({ length: count }, (_, i) => (i + 0.5) / CHAIN_RAMP_PER_LSB), Array.from({ length: count }, (_, i) => level(i)), 2400);
      out.curves.inl = Array.from(lin.inl);
      out.curves.dnl = Array.from(lin.dnl);
      out.curves.spectrum_dBc = dBc(fig.spectrum, J);
    }
  }
  return out;
}
