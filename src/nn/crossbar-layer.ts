/**
 * One crossbar layer, `xbarsim vmm` (DESIGN.md sections 3–5 and 8): a one-layer network run by the
 * same runner, walk and calibration policy as every network. The host quantizes the inputs in f64
 * (section 3) and feeds the codes, so the CPU reference and the GPU see exactly the same integers.
 */
import type { XbarConfig } from '../config/types.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { inputScale, quantizeInputs } from '../crossbar/quantize.ts';
import type { Backend } from '../gpu/backend.ts';
import type { Network } from '../ir/graph.ts';
import { needsCalibration } from './calibration.ts';
import { openNetwork } from './runner.ts';

/** A dense matrix, row-major. */
export interface Matrix {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

/** One simulated layer's outputs and what it cost. */
export interface VmmResult {
  /** Y [B, N] (no bias), float32 as the GPU produces it. */
  Y: Float32Array;
  counts: EventCounts;
  /** Input scale sx and the calibrated ADC range (0 when not calibrated). */
  sx: number;
  calibratedHi: number;
  /** Global drift compensation factor (1 when off). */
  compensation: number;
  backend: 'webgpu' | 'cpu';
}

export interface VmmOptions {
  /** Calibration inputs; the evaluated inputs themselves when absent (DESIGN.md section 8). */
  calibration?: Matrix;
  /** Vectors per GPU dispatch; results do not depend on it. */
  vectorsPerDispatch?: number;
  /** Chip instance (selects the static and per-read noise draws; DESIGN.md section 4). */
  chip?: number;
}

/** W as the one linear layer of a network whose input holds quantized codes. */
function oneLayerNetwork(W: Matrix): Network {
  const weight = W.data instanceof Float32Array || W.data instanceof Float64Array ? W.data : Float64Array.from(W.data);
  return {
    input: { name: 'x', shape: [W.rows] },
    output: 'y',
    shapes: new Map([
      ['x', [W.rows]],
      ['y', [W.cols]],
    ]),
    ops: [{ kind: 'linear', name: 'vmm', inputs: ['x'], output: 'y', layerIndex: 0, K: W.rows, N: W.cols, inShape: [W.rows], weight, bias: null }],
    inputs: [{ name: 'x', value: 'x', shape: [W.rows], dtype: 'float32', offset: 0 }],
    outputs: [{ name: 'y', value: 'y', shape: [W.cols], dtype: 'float32', offset: 0 }],
    batched: true,
    opset: 0,
  };
}

/** Simulates Y = X·W on chip `chip` as DESIGN.md sections 3 and 4 define, with section 5's counts. */
export async function simulateVmm(backend: Backend, cfg: XbarConfig, W: Matrix, X: Matrix, opts: VmmOptions = {}): Promise<VmmResult> {
  const K = W.rows;
  if (X.cols !== K) throw new Error(`inputs have ${X.cols} columns but the weights have ${K} rows`);
  const { Qx } = layerGeometry(K, W.cols, cfg);
  const cal = opts.calibration ?? X;
  const sx = inputScale(cal.data, Qx);
  const codes = Float32Array.from(quantizeInputs(X.data, sx, Qx));
  const calCodes = cal === X ? codes : Float32Array.from(quantizeInputs(cal.data, sx, Qx));
  const runner = openNetwork(backend, oneLayerNetwork(W), cfg, false, { inputCodes: { sx }, vectorsPerDispatch: opts.vectorsPerDispatch });
  try {
    await runner.calibrate(calCodes, cal.rows);
    const chip = await runner.program(opts.chip ?? 0);
    try {
      const Y = new Float32Array(X.rows * W.cols);
      let neg = 0;
      for (let s0 = 0; s0 < X.rows; s0 += runner.maxBatch) {
        const B = Math.min(runner.maxBatch, X.rows - s0);
        const r = await runner.forward(chip, codes.subarray(s0 * K, (s0 + B) * K), B, s0);
        Y.set(r.output, s0 * W.cols);
        neg += r.negVectors[0][0];
      }
      return {
        Y,
        counts: runner.layerCounts(0, X.rows, [neg]),
        sx,
        calibratedHi: needsCalibration(cfg) ? runner.scales[0].hi[0] : 0,
        compensation: chip.compensation[0][0],
        backend: runner.backend,
      };
    } finally {
      chip.release();
    }
  } finally {
    runner.destroy();
  }
}
