import type { XbarConfig } from '../config/types.ts';
import { blockRanges } from '../crossbar/adc.ts';
import { layerCounts, totalPasses, type EventCounts } from '../crossbar/counts.ts';
import { programLayer } from '../crossbar/program.ts';
import { inputScale, negativeFlags, quantizeInputs } from '../crossbar/quantize.ts';
import type { Backend } from '../gpu/backend.ts';
import { GpuCrossbarLayer } from '../kernels/xbar.ts';
import { calibrateAdcRangeReference, referenceVmm } from '../reference/vmm.ts';

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
  backend: 'webgpu' | 'cpu';
}

export interface VmmOptions {
  /** Calibration inputs; the evaluated inputs themselves when absent (DESIGN.md section 8). */
  calibration?: Matrix;
  /** Vectors per GPU dispatch; results do not depend on it. */
  vectorsPerDispatch?: number;
  /** Chip instance (selects the static-noise draw; DESIGN.md section 4). */
  chip?: number;
}

/** Simulates Y = X·W on a crossbar chip as DESIGN.md section 3 defines, with section 5's counts. */
export async function simulateVmm(backend: Backend, cfg: XbarConfig, W: Matrix, X: Matrix, opts: VmmOptions = {}): Promise<VmmResult> {
  const K = W.rows;
  const N = W.cols;
  if (X.cols !== K) throw new Error(`inputs have ${X.cols} columns but the weights have ${K} rows`);
  const layer = programLayer(W.data, K, N, cfg);
  const g = layer.geom;
  const cal = opts.calibration ?? X;
  const sx = inputScale(cal.data, g.Qx);
  const xq = quantizeInputs(X.data, sx, g.Qx);
  const flags = negativeFlags(xq, X.rows, K);
  const needCal = cfg.adc.range === 'calibrated' && cfg.adc.bits > 0;
  const counts = layerCounts(g, cfg, totalPasses(flags));

  if (backend.kind === 'cpu') {
    const calHi = needCal ? calibrateAdcRangeReference(layer, cfg, quantizeInputs(cal.data, sx, g.Qx), cal.rows) : 0;
    const ranges = blockRanges(g, cfg, calHi);
    const Y = referenceVmm(layer, cfg, xq, X.rows, sx, { hi: (p) => ranges[p] });
    return { Y: Float32Array.from(Y), counts, sx, calibratedHi: calHi, backend: 'cpu' };
  }

  const gpuLayer = GpuCrossbarLayer.upload(backend.session, layer, cfg, blockRanges(g, cfg, 0));
  try {
    let calHi = 0;
    if (needCal) {
      const xqCal = quantizeInputs(cal.data, sx, g.Qx);
      calHi = (await gpuLayer.run(xqCal, negativeFlags(xqCal, cal.rows, K), cal.rows, sx, { trace: true })) as number;
      gpuLayer.setRanges(blockRanges(g, cfg, calHi));
    }
    const Y = (await gpuLayer.run(xq, flags, X.rows, sx, { vectorsPerDispatch: opts.vectorsPerDispatch })) as Float32Array;
    return { Y, counts, sx, calibratedHi: calHi, backend: 'webgpu' };
  } finally {
    gpuLayer.destroy();
  }
}
