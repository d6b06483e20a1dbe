import type { XbarConfig } from '../config/types.ts';
import { adcConvert, adcIsSigned } from '../crossbar/adc.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';

/** What the reference does at each ADC: convert (with the block's range), or record the ideal input. */
export interface AdcHook {
  /** ADC range of row block p. */
  hi(p: number): number;
  /** Called with every ADC input when tracing calibration. */
  trace?(x: number): void;
}

/**
 * The CPU oracle of DESIGN.md section 3: Y[B, N] (before bias) for signed quantized inputs `xq`
 * with input scale `sx`. Follows the spec literally, cycle by cycle and slice by slice, in f64.
 */
export function referenceVmm(layer: ProgrammedLayer, cfg: XbarConfig, xq: Int32Array, B: number, sx: number, hook: AdcHook): Float64Array {
  const { geom: g, G, sw } = layer;
  const { K, N, S, pol, T, b, Vm, Gmin, dG, Qw } = g;
  const rowLen = S * pol * N;
  const bits = hook.trace ? 0 : cfg.adc.bits;
  const signed = adcIsSigned(cfg);
  const offset = cfg.weights.mapping === 'offset';
  const digitalSubtract = cfg.adc.subtract === 'digital' || offset;
  const mask = 2 ** b - 1;
  const Y = new Float64Array(B * N);
  const u = new Float64Array(K);
  const V = new Float64Array(K);
  const cur = new Float64Array(rowLen);
  const accJ = new Float64Array(rowLen);
  const acc = new Float64Array(N);
  const blockOut = new Float64Array(N);

  const convert = (x: number, p: number): number => {
    hook.trace?.(x);
    return adcConvert(x, bits, hook.hi(p), signed);
  };
  // Currents of every (slice, polarity, column) of block p at cycle t: cur = Σ_k V_t[k]·G[k, ·].
  const currents = (start: number, rows: number, t: number): number => {
    cur.fill(0);
    let sumV = 0;
    for (let k = start; k < start + rows; k++) {
      const digit = Math.floor(u[k] / 2 ** (t * b)) & mask;
      V[k] = digit / Vm;
      sumV += V[k];
      if (digit === 0) continue;
      const row = k * rowLen;
      for (let i = 0; i < rowLen; i++) cur[i] += V[k] * G[row + i];
    }
    return sumV;
  };

  for (let v = 0; v < B; v++) {
    let hasNeg = false;
    for (let k = 0; k < K; k++) if (xq[v * K + k] < 0) hasNeg = true;
    for (let pass = 0; pass < (hasNeg ? 2 : 1); pass++) {
      for (let k = 0; k < K; k++) {
        const x = xq[v * K + k];
        u[k] = pass === 0 ? Math.max(x, 0) : Math.max(-x, 0);
      }
      acc.fill(0);
      g.blocks.forEach((blk, p) => {
        blockOut.fill(0);
        if (cfg.dataflow === 'digital-sa') {
          for (let t = 0; t < T; t++) {
            const sumV = currents(blk.start, blk.rows, t);
            for (let s = 0; s < S; s++) {
              const w = 2 ** (t * b + s * g.c);
              for (let j = 0; j < N; j++) {
                let D: number;
                if (digitalSubtract) {
                  D = 0;
                  for (let q = 0; q < pol; q++) {
                    const I = cur[(s * pol + q) * N + j];
                    D += (q === 0 ? 1 : -1) * Vm * (convert(I, p) - Gmin * sumV) / dG;
                  }
                } else {
                  D = (Vm * convert(cur[(s * 2) * N + j] - cur[(s * 2 + 1) * N + j], p)) / dG;
                }
                blockOut[j] += w * D;
              }
            }
          }
        } else {
          accJ.fill(0);
          for (let t = 0; t < T; t++) {
            currents(blk.start, blk.rows, t);
            const wt = 2 ** (t * b);
            for (let i = 0; i < rowLen; i++) accJ[i] += wt * cur[i];
          }
          for (let j = 0; j < N; j++) {
            if (cfg.dataflow === 'buffered') {
              for (let s = 0; s < S; s++) {
                const J = accJ[s * 2 * N + j] - accJ[(s * 2 + 1) * N + j];
                blockOut[j] += (2 ** (s * g.c) * Vm * convert(J, p)) / dG;
              }
            } else {
              let J = 0;
              for (let s = 0; s < S; s++) J += 2 ** (s * g.c) * (accJ[s * 2 * N + j] - accJ[(s * 2 + 1) * N + j]);
              blockOut[j] += (Vm * convert(J, p)) / dG;
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
      for (let j = 0; j < N; j++) Y[v * N + j] += sign * sw[j] * sx * acc[j];
    }
  }
  return Y;
}

/** The `calibrated` ADC range: the largest |ADC input| of the noise-free chip over the calibration inputs, layer-wide. */
export function calibrateAdcRangeReference(layer: ProgrammedLayer, cfg: XbarConfig, xq: Int32Array, B: number): number {
  let hi = 0;
  referenceVmm(layer, cfg, xq, B, 1, { hi: () => 0, trace: (x) => (hi = Math.max(hi, Math.abs(x))) });
  return hi;
}
