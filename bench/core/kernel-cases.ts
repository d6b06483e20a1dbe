// Kernel cases: one crossbar layer Y = X·W (K = N) through a programmed chip with read noise on,
// beside our plain f32 GEMM of the same shape on the same adapter, and the CPU reference. Runs the
// same in Node and in the browser (no node: imports).
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { analogGains } from '../../src/crossbar/chip.ts';
import { programLayer, type ProgrammedLayer } from '../../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../../src/crossbar/quantize.ts';
import { uploadStorage } from '../../src/gpu/buffers.ts';
import type { GpuSession } from '../../src/gpu/runtime.ts';
import { planGemm } from '../../src/kernels/gemm.ts';
import { GpuCrossbarLayer, type XbarPath } from '../../src/kernels/xbar.ts';
import { XBAR } from '../../src/kernels/xbar-kernel.ts';
import { kernelKeyString } from '../../src/gpu/pipeline-cache.ts';
import { tilesName } from '../../src/kernels/autotune.ts';
import { vmmRef } from '../../src/reference/vmm.ts';
import { lcgArray } from './data.ts';
import { compileMeter, timeGpuRuns, timeRuns, type BenchRecorder, type GpuRunTiming } from './measure.ts';
import { figure, type Figure } from './stats.ts';

/** One kernel case: a preset's crossbar layer at K = N and batch B. */
export interface KernelCaseSpec {
  preset: string;
  K: number;
  B: number;
  readSigma: number;
}

/** What a kernel case measured. */
export interface KernelResult {
  kind: 'kernel';
  preset: string;
  dataflow: string;
  K: number;
  N: number;
  B: number;
  readSigma: number;
  /** T·S·pol·B·K·N: simulated cell multiply-accumulates of one run. */
  cellMacs: number;
  /** B·K·N: the GEMM's multiply-accumulates. */
  macs: number;
  /** Seconds per run of the crossbar kernel (quantize, read-noise statistics and the crossbar pass), on the path chosen automatically. */
  xbar: GpuRunTiming;
  /** That path ('bitplane': packed bit planes; 'exact': integer sums in the general variant; 'float'), its pipeline key and the session's tiling. */
  path: XbarPath;
  kernelKey: string;
  tiles: string;
  /** The same run forced onto the general variant (identical results), when the automatic path is the bit-plane one; else null. */
  general: GpuRunTiming | null;
  /** The same run on the f32-sum kernel that static noise takes (not bit-identical), when the automatic path is exact; else null. */
  float: GpuRunTiming | null;
  gemm: GpuRunTiming;
  /** Simulated cell-MACs per second over the GEMM's MACs per second (median times). */
  rateRatio: number;
  /** Crossbar time over GEMM time (medians). */
  timeRatio: number;
  /** Pipeline compilation of the first run (createComputePipeline), seconds: not in the figures above. */
  compileSeconds: { xbar: number; gemm: number };
  /** The CPU reference on `cpu.vectors` vectors, when measured for this case. */
  cpu: { vectors: number; seconds: Figure; cellMacsPerSecond: number; gpuOverCpu: number } | null;
}

/** The config of a kernel case: the preset with additive read noise. */
export function kernelConfig(spec: KernelCaseSpec): XbarConfig {
  return resolveConfig({ preset: spec.preset, noise: { read: { sigma: spec.readSigma, model: 'additive' } } });
}

/** Simulated cell-MACs of one run of `layer` on B vectors. */
export function cellMacsOf(layer: ProgrammedLayer, B: number): number {
  const g = layer.geom;
  return g.T * g.S * g.pol * B * g.K * g.N;
}

/** A kernel case's layer on the GPU: programmed, its ADC ranges calibrated, ready to encode. */
export interface PreparedKernelCase {
  layer: ProgrammedLayer;
  cfg: XbarConfig;
  W: Float32Array;
  X: Float32Array;
  /** Input scale and the calibrated ADC range's top. */
  sx: number;
  hi: number;
  gl: GpuCrossbarLayer;
  /** Records one run of the crossbar kernel on all B vectors (`kernel` forces a variant). */
  encode(rec: BenchRecorder, kernel?: 'general' | 'float'): void;
  destroy(): void;
}

/** Programs chip 0 of a kernel case's layer (K = N, B vectors of non-negative inputs) and calibrates its ADC ranges. */
export async function prepareKernelCase(s: GpuSession, spec: KernelCaseSpec): Promise<PreparedKernelCase> {
  const { device } = s.ctx;
  const { K, B } = spec;
  const N = K;
  const cfg = kernelConfig(spec);
  const W = lcgArray(K * N, K, -1);
  // Non-negative inputs, as after a ReLU: one pass per vector (a signed vector would run two).
  const X = lcgArray(B * K, K + 1, 0);
  const layer = programLayer(W, K, N, cfg);
  const g = layer.geom;
  const sx = inputScale(X, g.Qx);
  const gl = GpuCrossbarLayer.upload(s, layer, cfg, blockRanges(g, cfg, 0));
  const chip = gl.programChip(cfg.seed, 0);
  const input = uploadStorage(device, X, 'bench.x');
  const out = device.createBuffer({ size: Math.max(16, B * N * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'bench.y' });
  const destroy = (): void => {
    input.destroy();
    out.destroy();
    chip.destroy();
    gl.destroy();
  };
  try {
    // The calibrated ADC range from the noise-free chip on (up to) 16 of the vectors: ranges decide
    // clipping, not speed, so a few vectors are enough.
    const calRows = Math.min(B, 16);
    const trace = await gl.run(gl.ideal, X.subarray(0, calRows * K), calRows, { sxq: sx, outScale: 1, trace: true });
    let hi = 0;
    for (const v of trace) hi = Math.max(hi, v);
    gl.setRanges(blockRanges(g, cfg, hi));
    await device.queue.onSubmittedWorkDone();
    return {
      layer,
      cfg,
      W,
      X,
      sx,
      hi,
      gl,
      encode: (rec, kernel) => gl.encode(rec, chip, { input, out, rows: B, rowOffset: 0, sxq: sx, outScale: sx, ...(kernel ? { kernel } : {}) }),
      destroy,
    };
  } catch (e) {
    destroy();
    throw e;
  }
}

/**
 * Runs one kernel case: the crossbar kernel and the GEMM, `runs` timed runs each after one warm-up,
 * GPU time from timestamp-query when `useTimestamps` (else the wall clock from submit to completion);
 * the CPU reference on `cpuVectors` vectors when that is > 0.
 */
export async function runKernelCase(s: GpuSession, spec: KernelCaseSpec, o: { runs: number; useTimestamps: boolean; cpuVectors: number }): Promise<KernelResult> {
  const { K, B } = spec;
  const N = K;
  const meter = compileMeter(s);
  let kc: PreparedKernelCase | null = null;
  try {
    kc = await prepareKernelCase(s, spec);
    const { layer, cfg, W, X, sx, hi, gl } = kc;
    const g = layer.geom;
    const run = kc.encode;
    meter.reset();

    const xbar = await timeGpuRuns(s, o.runs, o.useTimestamps, (rec) => run(rec));
    const xbarCompile = meter.seconds();
    const path = gl.kernelPath();
    const general = path === 'bitplane' ? await timeGpuRuns(s, o.runs, o.useTimestamps, (rec) => run(rec, 'general')) : null;
    const float = path !== 'float' ? await timeGpuRuns(s, o.runs, o.useTimestamps, (rec) => run(rec, 'float')) : null;
    meter.reset();
    const gemmPlan = planGemm(s, X, W, B, K, N);
    let gemm: GpuRunTiming;
    try {
      gemm = await timeGpuRuns(s, o.runs, o.useTimestamps, (rec) => gemmPlan.encode(rec.encoder));
    } finally {
      gemmPlan.destroy();
    }
    const gemmCompile = meter.seconds();

    const cellMacs = cellMacsOf(layer, B);
    const macs = B * K * N;
    const rateRatio = cellMacs / xbar.seconds.median / (macs / gemm.seconds.median);
    let cpu: KernelResult['cpu'] = null;
    if (o.cpuVectors > 0) {
      const v = Math.min(o.cpuVectors, B);
      const xq = quantizeInputs(X.subarray(0, v * K), sx, g.Qx);
      const ranges = blockRanges(g, cfg, hi);
      const id = { seed: cfg.seed, chip: 0, layer: 0 };
      const gains = analogGains(cfg, g.blocks.length, N, id);
      const seconds = figure(await timeRuns(o.runs, async () => {
        vmmRef(layer, cfg, xq, v, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains } });
      }), 's');
      const cpuRate = cellMacsOf(layer, v) / seconds.median;
      cpu = { vectors: v, seconds, cellMacsPerSecond: cpuRate, gpuOverCpu: cellMacs / xbar.seconds.median / cpuRate };
    }
    return {
      kind: 'kernel',
      preset: spec.preset,
      dataflow: cfg.dataflow,
      K,
      N,
      B,
      readSigma: spec.readSigma,
      cellMacs,
      macs,
      xbar,
      path,
      kernelKey: kernelKeyString(XBAR.key(gl.kernelVariant())),
      tiles: tilesName(s.tuning.xbar),
      general,
      float,
      gemm,
      rateRatio,
      timeRatio: xbar.seconds.median / gemm.seconds.median,
      compileSeconds: { xbar: xbarCompile, gemm: gemmCompile },
      cpu,
    };
  } finally {
    meter.restore();
    kc?.destroy();
  }
}
