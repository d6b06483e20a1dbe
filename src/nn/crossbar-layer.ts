import type { XbarConfig } from '../config/types.ts';
import { blockRanges } from '../crossbar/adc.ts';
import { layerCounts, totalPasses, type EventCounts } from '../crossbar/counts.ts';
import { programLayer, type ProgrammedLayer } from '../crossbar/program.ts';
import { inputScale, negativeFlags, quantizeInputs } from '../crossbar/quantize.ts';
import type { Backend } from '../gpu/backend.ts';
import { GpuCrossbarLayer } from '../kernels/xbar.ts';
import { analogGains, hasStaticNoise, type ChipId } from '../crossbar/chip.ts';
import { perturbConductancesReference } from '../reference/chip.ts';
import { calibrateAdcRangeReference, referenceVmm, type ReadNoise } from '../reference/vmm.ts';

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
  /** The layer's index in its network (the `layer` field of the noise counters); 0 for one layer. */
  layerIndex?: number;
}

/** Whether the ADC range must be calibrated: a `calibrated` range that something reads (the ADC, or analog noise scaled by hi). */
export function needsCalibration(cfg: XbarConfig): boolean {
  return cfg.adc.range === 'calibrated' && (cfg.adc.bits > 0 || (cfg.dataflow !== 'digital-sa' && cfg.analog.noise > 0));
}

/** Whether global drift compensation is active (section 4: drift on and compensation "global"). */
export function needsDriftCompensation(cfg: XbarConfig): boolean {
  const d = cfg.noise.drift;
  return d.compensation === 'global' && d.t !== d.t0 && (d.nu > 0 || d.nuStd > 0);
}

/** Σ|v|. */
export function sumAbs(v: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < v.length; i++) a += Math.abs(v[i]);
  return a;
}

/** Global drift compensation from Σ|Y_ideal| and Σ|Y_drifted| over the same outputs (1 when the drifted sum is 0). */
export function compensationFromSums(ideal: number, drifted: number): number {
  return drifted === 0 ? 1 : ideal / drifted;
}

/** `mean|Y_ideal| / mean|Y_drifted|` over equally many outputs (1 when the drifted output is all zero). */
export function compensationFactor(ideal: ArrayLike<number>, drifted: ArrayLike<number>): number {
  return compensationFromSums(sumAbs(ideal), sumAbs(drifted));
}

/** A programmed chip on the CPU reference: perturbed conductances and analog gains. */
export function programChipReference(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId): { chip: ProgrammedLayer; gains: Float64Array } {
  const chip = hasStaticNoise(cfg) ? { ...layer, G: perturbConductancesReference(layer, cfg, id) } : layer;
  return { chip, gains: analogGains(cfg, layer.geom.blocks.length, layer.geom.N, id) };
}

/** Simulates Y = X·W on chip `chip` as DESIGN.md sections 3 and 4 define, with section 5's counts. */
export async function simulateVmm(backend: Backend, cfg: XbarConfig, W: Matrix, X: Matrix, opts: VmmOptions = {}): Promise<VmmResult> {
  const K = W.rows;
  const N = W.cols;
  if (X.cols !== K) throw new Error(`inputs have ${X.cols} columns but the weights have ${K} rows`);
  const layer = programLayer(W.data, K, N, cfg);
  const g = layer.geom;
  const cal = opts.calibration ?? X;
  const sx = inputScale(cal.data, g.Qx);
  const xq = quantizeInputs(X.data, sx, g.Qx);
  const xqCal = cal === X ? xq : quantizeInputs(cal.data, sx, g.Qx);
  const counts = layerCounts(g, cfg, totalPasses(negativeFlags(xq, X.rows, K)));
  const id: ChipId = { seed: cfg.seed, chip: opts.chip ?? 0, layer: opts.layerIndex ?? 0 };

  if (backend.kind === 'cpu') {
    const calHi = needsCalibration(cfg) ? calibrateAdcRangeReference(layer, cfg, xqCal, cal.rows) : 0;
    const ranges = blockRanges(g, cfg, calHi);
    const { chip, gains } = programChipReference(layer, cfg, id);
    const hook = (noise: ReadNoise | undefined) => ({ hi: (p: number) => ranges[p], noise });
    let comp = 1;
    if (needsDriftCompensation(cfg)) {
      const ideal = referenceVmm(layer, cfg, xqCal, cal.rows, sx, hook(undefined));
      const drifted = referenceVmm(chip, cfg, xqCal, cal.rows, sx, hook({ id, vectorOffset: 0, gains, perRead: false }));
      comp = compensationFactor(ideal, drifted);
    }
    const Y = referenceVmm(chip, cfg, xq, X.rows, sx * comp, hook({ id, vectorOffset: 0, gains }));
    return { Y: Float32Array.from(Y), counts, sx, calibratedHi: calHi, compensation: comp, backend: 'cpu' };
  }

  const gl = GpuCrossbarLayer.upload(backend.session, layer, cfg, blockRanges(g, cfg, 0), { layerIndex: id.layer });
  const chip = gl.programChip(id.seed, id.chip);
  try {
    // Pre-quantized integers (sxq = 1): the GPU sees exactly the CPU reference's xq.
    const xf = Float32Array.from(xq);
    const xfCal = cal === X ? xf : Float32Array.from(xqCal);
    const vpd = opts.vectorsPerDispatch;
    let calHi = 0;
    if (needsCalibration(cfg)) {
      const trace = await gl.run(gl.ideal, xfCal, cal.rows, { sxq: 1, outScale: 1, trace: true, vectorsPerDispatch: vpd });
      for (const v of trace) calHi = Math.max(calHi, v);
      gl.setRanges(blockRanges(g, cfg, calHi));
    }
    let comp = 1;
    if (needsDriftCompensation(cfg)) {
      const ideal = await gl.run(gl.ideal, xfCal, cal.rows, { sxq: 1, outScale: sx, perRead: false, bias: false, vectorsPerDispatch: vpd });
      const drifted = await gl.run(chip, xfCal, cal.rows, { sxq: 1, outScale: sx, perRead: false, bias: false, vectorsPerDispatch: vpd });
      comp = compensationFactor(ideal, drifted);
    }
    const Y = await gl.run(chip, xf, X.rows, { sxq: 1, outScale: sx * comp, vectorsPerDispatch: vpd });
    return { Y, counts, sx, calibratedHi: calHi, compensation: comp, backend: 'webgpu' };
  } finally {
    chip.destroy();
    gl.destroy();
  }
}
