import type { XbarConfig } from '../config/types.ts';
import { adcConvert, adcIsSigned, adcLevels } from '../crossbar/adc.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import { NoiseDraws, NOISE_STREAM, perReadHi, perReadLo } from '../random/philox.ts';
import type { ChipId } from '../crossbar/chip.ts';
import { codeRange } from '../readout/codes.ts';
import { layerReadout } from '../readout/layer.ts';
import { addSample, emptyHistogram, lloydMax, uniformLevels } from '../readout/nonuniform.ts';
import { hasWires } from '../circuits/params.ts';
import { deviceExtras } from '../devices/cells.ts';
import { layerCircuit, processSolveStats, type SolveStats } from './circuit.ts';

/** Per-read noise of DESIGN.md section 4 for one run: which chip, and where the vectors sit in the input set. */
export interface ReadNoise {
  id: ChipId;
  /** Position of the first vector of this call in the whole input set (keys the draws). */
  vectorOffset: number;
  /** `1 + g` per (row block, output column), index p·N + j (see analogGains). */
  gains: Float64Array;
  /** Draw read, analog and ADC noise (default true); gains always apply. Off for drift compensation. */
  perRead?: boolean;
}

/** What the reference does at each ADC: convert (with the block's range), or record the ideal input. */
export interface AdcHook {
  /** ADC range of row block p. */
  hi(p: number): number;
  /** Called with every ADC input when tracing calibration. */
  trace?(x: number): void;
  /** Per-read noise (read, analog gain and noise, ADC noise); absent = noise-free reads. */
  noise?: ReadNoise;
  /**
   * When given ([B, N], zeroed), receives each output's accumulator Σ_pass ±Σ_p rowBlockOutput_p (units of
   * one weight LSB times one input LSB, before sw·sx): the input of the near-memory digital unit.
   */
  accumulators?: Float64Array;
  /** Where wire-circuit solves are counted (circuit.model "solve"); default: processSolveStats. */
  solveStats?: SolveStats;
}

/**
 * The CPU oracle of DESIGN.md sections 3 and 4: Y[B, N] (before bias) for signed quantized inputs `xq`
 * with input scale `sx`. Follows the spec literally, cycle by cycle and slice by slice, in f64; read
 * noise variance is summed cell by cell from section 4's formulas. A chip programmed with a device model
 * (DeviceCells) brings its own per-read σ per cell (drawn from stream deviceRead instead of read) and
 * its drift compensation per output column; with circuit.model set, each row block's column currents
 * come from the array circuits of section 13 (src/reference/circuit.ts) instead of ΣV·G.
 */
export function vmmRef(layer: ProgrammedLayer, cfg: XbarConfig, xq: Int32Array, B: number, sx: number, hook: AdcHook): Float64Array {
  const { geom: g, G, sw } = layer;
  const { K, N, S, pol, T, b, Vm, Gmin, dG, Qw } = g;
  const rowLen = S * pol * N;
  const bits = hook.trace ? 0 : cfg.adc.bits;
  const signed = adcIsSigned(cfg);
  const offset = cfg.weights.mapping === 'offset';
  const digitalSubtract = cfg.adc.subtract === 'digital' || offset;
  const collapsed = cfg.dataflow !== 'digital-sa';
  const mask = 2 ** b - 1;
  const Y = new Float64Array(B * N);
  const u = new Float64Array(K);
  const V = new Float64Array(K);
  const cur = new Float64Array(rowLen);
  const accJ = new Float64Array(rowLen);
  const acc = new Float64Array(N);
  const blockOut = new Float64Array(N);

  const nz = hook.noise;
  const reads = nz !== undefined && nz.perRead !== false;
  const dev = deviceExtras(G);
  const devSigma = reads ? dev.readSigma : null;
  // readSigma > 0 switches the variance sums on; with a device model it only flags them (σ is per cell).
  const readSigma = devSigma !== null ? 1 : reads ? cfg.noise.read.sigma : 0;
  const colScale = dev.columnScale;
  const circuit = hasWires(cfg) ? layerCircuit(layer, cfg, hook.solveStats ?? processSolveStats, `layer ${nz?.id.layer ?? 0}`) : null;
  const proportional = cfg.noise.read.model === 'proportional';
  const adcNoise = reads && bits > 0 ? cfg.adc.noise : 0;
  const analogNoise = reads && collapsed ? cfg.analog.noise : 0;
  const draws = nz && {
    read: new NoiseDraws(nz.id.seed, nz.id.chip, nz.id.layer, devSigma !== null ? NOISE_STREAM.deviceRead : NOISE_STREAM.read),
    adc: new NoiseDraws(nz.id.seed, nz.id.chip, nz.id.layer, NOISE_STREAM.adc),
    analog: new NoiseDraws(nz.id.seed, nz.id.chip, nz.id.layer, NOISE_STREAM.analog),
  };
  const planes = collapsed ? (cfg.dataflow === 'analog-sa' ? 1 : S) : digitalSubtract ? S * pol : S;
  const cyclesKeyed = collapsed ? 1 : T;
  // σ² of one cell: read noise variance per unit squared voltage (section 4's models, or the device's σ).
  const cellVar = (gk: number): number => (proportional ? readSigma * readSigma * gk * gk : readSigma * readSigma);
  const cellVarAt = devSigma
    ? (k: number, s: number, q: number, j: number): number => devSigma[((k * S + s) * pol + q) * N + j] ** 2
    : (k: number, s: number, q: number, j: number): number => cellVar(G[((k * S + s) * pol + q) * N + j]);
  // Σ_k weight[k]·Σ_{cells} σ² over a row block, for the cells of column j that feed one ADC input.
  const sumVar = (start: number, rows: number, weight: Float64Array, cells: (k: number) => number): number => {
    let v = 0;
    for (let k = start; k < start + rows; k++) if (weight[k] !== 0) v += weight[k] * cells(k);
    return v;
  };
  const vsq = new Float64Array(K);

  // The readout chain of DESIGN.md section 11 (src/readout): per-chip ADC instances when adc.model is not
  // "uniform", NNS+A chain coefficients when analog.model is "neural"; a noise-free call (no chip id)
  // gets the nominal chip. The uniform ADC keeps section 3's adcConvert, bit for bit.
  const readout = (cfg.adc.model !== 'uniform' && bits > 0) || (cfg.analog.model === 'neural' && collapsed) ? layerReadout(cfg, g, nz?.id ?? null, layer.adcLevels ?? null) : null;
  const modelAdc = readout !== null && cfg.adc.model !== 'uniform' && bits > 0;
  const nsa = readout !== null && readout.neuralAccumulation;
  // NNS+A coefficients per row block: cycles [(s·N + j)·T + t], slices [j·S + s].
  const cycleCoef = nsa ? g.blocks.map((_, p) => {
    const c = new Float64Array(S * N * T);
    for (let s = 0; s < S; s++) for (let j = 0; j < N; j++) c.set(readout.cycleCoefficients(p, j, s), (s * N + j) * T);
    return c;
  }) : [];
  const sliceCoef = nsa && cfg.dataflow === 'analog-sa' ? g.blocks.map((_, p) => {
    const c = new Float64Array(N * S);
    for (let j = 0; j < N; j++) c.set(readout.sliceCoefficients(p, j), j * S);
    return c;
  }) : [];

  let vector = 0;
  let pass = 0;
  // The ADC of section 3 with the per-read noise of section 4 in front of it, in the normative order:
  // read noise, analog gain, analog noise, ADC input noise.
  const convert = (x: number, p: number, t: number, plane: number, j: number, variance: number): number => {
    if (draws) {
      const lo = perReadLo(p, t, plane, j, cyclesKeyed, planes, N);
      const hi = perReadHi(nz.vectorOffset + vector, pass);
      const which = (j % 2) as 0 | 1;
      if (readSigma > 0) x += Math.sqrt(variance) * draws.read.normal(lo, hi, which);
      if (collapsed) x *= nz.gains[p * N + j];
      const range = hook.hi(p);
      if (analogNoise > 0) x += analogNoise * range * draws.analog.normal(lo, hi, which);
      if (adcNoise > 0) x += adcNoise * (range / adcLevels(bits, signed)) * draws.adc.normal(lo, hi, which);
    }
    hook.trace?.(x);
    if (modelAdc) return readout.adc(p, j * planes + plane).convert(x, hook.hi(p));
    return adcConvert(x, bits, hook.hi(p), signed);
  };
  // Currents of every (slice, polarity, column) of block p at cycle t: cur = Σ_k V_t[k]·G[k, ·].
  const currents = (p: number, start: number, rows: number, t: number): number => {
    cur.fill(0);
    let sumV = 0;
    for (let k = start; k < start + rows; k++) {
      const digit = Math.floor(u[k] / 2 ** (t * b)) & mask;
      V[k] = digit / Vm;
      sumV += V[k];
      if (digit === 0 || circuit) continue;
      const row = k * rowLen;
      for (let i = 0; i < rowLen; i++) cur[i] += V[k] * G[row + i];
    }
    circuit?.currents(p, start, V, cur);
    return sumV;
  };

  for (let v = 0; v < B; v++) {
    vector = v;
    let hasNeg = false;
    for (let k = 0; k < K; k++) if (xq[v * K + k] < 0) hasNeg = true;
    for (pass = 0; pass < (hasNeg ? 2 : 1); pass++) {
      for (let k = 0; k < K; k++) {
        const x = xq[v * K + k];
        u[k] = pass === 0 ? Math.max(x, 0) : Math.max(-x, 0);
      }
      acc.fill(0);
      g.blocks.forEach((blk, p) => {
        blockOut.fill(0);
        if (cfg.dataflow === 'digital-sa') {
          for (let t = 0; t < T; t++) {
            const sumV = currents(p, blk.start, blk.rows, t);
            if (readSigma > 0) for (let k = blk.start; k < blk.start + blk.rows; k++) vsq[k] = V[k] * V[k];
            for (let s = 0; s < S; s++) {
              const w = 2 ** (t * b + s * g.c);
              for (let j = 0; j < N; j++) {
                let D: number;
                if (digitalSubtract) {
                  D = 0;
                  for (let q = 0; q < pol; q++) {
                    const I = cur[(s * pol + q) * N + j];
                    const variance = readSigma > 0 ? sumVar(blk.start, blk.rows, vsq, (k) => cellVarAt(k, s, q, j)) : 0;
                    D += (q === 0 ? 1 : -1) * Vm * (convert(I, p, t, s * pol + q, j, variance) - Gmin * sumV) / dG;
                  }
                } else {
                  const variance = readSigma > 0 ? sumVar(blk.start, blk.rows, vsq, (k) => cellVarAt(k, s, 0, j) + cellVarAt(k, s, 1, j)) : 0;
                  D = (Vm * convert(cur[(s * 2) * N + j] - cur[(s * 2 + 1) * N + j], p, t, s, j, variance)) / dG;
                }
                blockOut[j] += w * D;
              }
            }
          }
        } else {
          accJ.fill(0);
          vsq.fill(0);
          for (let t = 0; t < T; t++) {
            currents(p, blk.start, blk.rows, t);
            const wt = 2 ** (t * b);
            if (nsa) {
              // NNS+A: partial sum (t, s) of column j enters with its chain's coefficient c_t.
              const cc = cycleCoef[p];
              for (let s = 0; s < S; s++) {
                for (let q = 0; q < pol; q++) {
                  const o = (s * pol + q) * N;
                  for (let j = 0; j < N; j++) accJ[o + j] += wt * cc[(s * N + j) * T + t] * cur[o + j];
                }
              }
            } else {
              for (let i = 0; i < rowLen; i++) accJ[i] += wt * cur[i];
            }
            // Σ_t 4^(t·b)·V_t[k]²: the input side of section 4's variance of an analog accumulation.
            if (readSigma > 0) for (let k = blk.start; k < blk.start + blk.rows; k++) vsq[k] += wt * wt * V[k] * V[k];
          }
          for (let j = 0; j < N; j++) {
            const diffVar = (k: number, s: number): number => cellVarAt(k, s, 0, j) + cellVarAt(k, s, 1, j);
            if (cfg.dataflow === 'buffered') {
              for (let s = 0; s < S; s++) {
                const J = accJ[s * 2 * N + j] - accJ[(s * 2 + 1) * N + j];
                const variance = readSigma > 0 ? sumVar(blk.start, blk.rows, vsq, (k) => diffVar(k, s)) : 0;
                blockOut[j] += (2 ** (s * g.c) * Vm * convert(J, p, 0, s, j, variance)) / dG;
              }
            } else {
              let J = 0;
              for (let s = 0; s < S; s++) J += 2 ** (s * g.c) * (nsa ? sliceCoef[p][j * S + s] : 1) * (accJ[s * 2 * N + j] - accJ[(s * 2 + 1) * N + j]);
              const variance =
                readSigma > 0
                  ? sumVar(blk.start, blk.rows, vsq, (k) => {
                      let c = 0;
                      for (let s = 0; s < S; s++) c += 4 ** (s * g.c) * diffVar(k, s);
                      return c;
                    })
                  : 0;
              blockOut[j] += (Vm * convert(J, p, 0, 0, j, variance)) / dG;
            }
          }
        }
        if (offset) {
          let sumU = 0;
          for (let k = blk.start; k < blk.start + blk.rows; k++) sumU += u[k];
          for (let j = 0; j < N; j++) blockOut[j] -= Qw * sumU;
        }
        for (let j = 0; j < N; j++) acc[j] += blockOut[j];
      });
      const sign = pass === 0 ? 1 : -1;
      if (colScale) for (let j = 0; j < N; j++) Y[v * N + j] += sign * sw[j] * sx * acc[j] * colScale[j];
      else for (let j = 0; j < N; j++) Y[v * N + j] += sign * sw[j] * sx * acc[j];
      if (hook.accumulators) for (let j = 0; j < N; j++) hook.accumulators[v * N + j] += sign * acc[j];
    }
  }
  return Y;
}

/**
 * The `calibrated` ADC range: the largest |ADC input| of the noise-free chip over the calibration inputs,
 * layer-wide. A nonuniform ADC with levels [] is fitted here too (Lloyd-Max on the histogram of the same
 * ADC inputs, src/readout/nonuniform.ts), into `layer.adcLevels`.
 */
export function calibrateAdcRangeRef(layer: ProgrammedLayer, cfg: XbarConfig, xq: Int32Array, B: number): number {
  let hi = 0;
  vmmRef(layer, cfg, xq, B, 1, { hi: () => 0, trace: (x) => (hi = Math.max(hi, Math.abs(x))) });
  if (cfg.adc.model === 'nonuniform' && cfg.adc.nonuniform.levels.length === 0 && cfg.adc.bits > 0) {
    const signed = adcIsSigned(cfg);
    const h = emptyHistogram(signed ? -hi : 0, hi);
    vmmRef(layer, cfg, xq, B, 1, { hi: () => 0, trace: (x) => addSample(h, x) });
    layer.adcLevels = lloydMax(h, uniformLevels(codeRange(cfg.adc.bits, signed)).map((l) => l * hi));
  }
  return hi;
}
