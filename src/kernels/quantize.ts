import quantizeWgsl from '../../shaders/quantize.wgsl?raw';
import readVarianceWgsl from '../../shaders/read-variance.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import { ceilDiv, instantiate } from './template.ts';

const ROW_STRIDE = 65535 * 64;

/** The quantize kernel has no tunable shape; its key names the family. */
export const QUANTIZE_KEY: ProgramKey = { family: 'quantize', params: { wg: 64 } };

/** WGSL of the input quantization kernel. */
export function quantizeSource(): string {
  return instantiate(quantizeWgsl, { ROWSTRIDE: ROW_STRIDE });
}

/** What one quantization reads and writes. */
export interface QuantizeJob {
  input: GPUBuffer;
  /** Rows [rowStart, rowStart + rows) of `input` ([.., K] f32). */
  rowStart: number;
  rows: number;
  K: number;
  /** Quantization scale sx (inputs are round(|x|/sx)) and Qx. */
  sx: number;
  Qx: number;
  /** Outputs: [rows, K] i32, [rows] u32 flags (must start zeroed), and the counter of flagged rows. */
  xq: GPUBuffer;
  negFlags: GPUBuffer;
  negCount: GPUBuffer;
}

/** Records the quantization of `rows` input vectors into `enc`; returns the uniform buffer to free after submit. */
export function encodeQuantize(s: GpuSession, enc: GPUCommandEncoder, j: QuantizeJob): GPUBuffer {
  const { device } = s.ctx;
  const pipeline = s.pipelines.get(QUANTIZE_KEY, quantizeSource);
  const count = j.rows * j.K;
  const params = uploadUniform(device, new UniformWriter(8).u32(count).u32(j.K).u32(j.rowStart).u32(0).f32(1 / j.sx).f32(j.Qx).f32(0).f32(0).buffer, 'quantize.params');
  const groups = Math.max(1, ceilDiv(count, 64));
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, j.input, j.xq, j.negFlags, j.negCount].map((buffer, binding) => ({ binding, resource: { buffer } })),
    }),
  );
  pass.dispatchWorkgroups(Math.min(groups, 65535), ceilDiv(groups, 65535));
  pass.end();
  return params;
}

/** The read-variance kernel has no tunable shape either. */
export const READ_VARIANCE_KEY: ProgramKey = { family: 'read-variance', params: { wg: 64 } };

/** What the per-vector read-noise input sums need. */
export interface ReadVarianceJob {
  xq: GPUBuffer;
  rows: number;
  K: number;
  blockRows: number;
  nBlocks: number;
  dacBits: number;
  /** Input cycles T, and the cycles kept separate (T for digital-sa, 1 for collapsed dataflows). */
  T: number;
  TK: number;
  Vm: number;
  /** Output [rows, 2, nBlocks, TK] f32. */
  stats: GPUBuffer;
}

/** Records the Σ V² sums of additive read noise for every vector, pass, row block and cycle; returns the uniform to free. */
export function encodeReadVariance(s: GpuSession, enc: GPUCommandEncoder, j: ReadVarianceJob): GPUBuffer {
  const { device } = s.ctx;
  const pipeline = s.pipelines.get(READ_VARIANCE_KEY, () => instantiate(readVarianceWgsl, { ROWSTRIDE: ROW_STRIDE }));
  const params = uploadUniform(
    device,
    new UniformWriter(12).u32(j.rows).u32(j.K).u32(j.blockRows).u32(j.nBlocks).u32(j.dacBits).u32(j.T).u32(j.TK).u32(0).f32(1 / j.Vm).f32(0).f32(0).f32(0).buffer,
    'readVariance.params',
  );
  const groups = Math.max(1, ceilDiv(j.rows * 2 * j.nBlocks, 64));
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [params, j.xq, j.stats].map((buffer, binding) => ({ binding, resource: { buffer } })) }));
  pass.dispatchWorkgroups(Math.min(groups, 65535), ceilDiv(groups, 65535));
  pass.end();
  return params;
}
