import gemmWgsl from '../../shaders/gemm.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { readBuffer, uploadStorage } from '../gpu/buffers.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { bindKernel, binding, dispatch, rowsPerWindow, windowBinding, type Recorder } from './dispatch.ts';
import { ceilDiv, checkParam } from './template.ts';

/** The GEMM kernel's compile-time shape: rows per invocation and workgroup size. */
export type GemmVariant = { tm: number; wgx: number; wgy: number };

export const DEFAULT_GEMM: GemmVariant = { tm: 4, wgx: 16, wgy: 4 };

/** Register-blocked f32 GEMM: C = A·B for one column block of B, in row windows. */
export const GEMM = defineKernel({
  name: 'gemm',
  uniforms: { M: 'u32', N4: 'u32', K: 'u32', c_stride: 'u32', a_shift: 'u32', c_shift: 'u32' },
  bindings: { A: read('f32'), B: read('vec4<f32>'), C: readWrite('vec4<f32>') },
  compile(v: GemmVariant, limits) {
    checkParam('tm', v.tm, 1, 16);
    checkParam('wgx', v.wgx, 1, 256, true);
    checkParam('wgy', v.wgy, 1, 256, true);
    if (v.wgx * v.wgy > limits.maxComputeInvocationsPerWorkgroup) throw new Error(`gemm: workgroup ${v.wgx}x${v.wgy} exceeds ${limits.maxComputeInvocationsPerWorkgroup} invocations`);
    return { body: gemmWgsl, consts: { TM: v.tm, WGX: v.wgx, WGY: v.wgy } };
  },
});

/** WGSL of a GEMM variant, after checking its tile and workgroup constraints. */
export function gemmSource(v: GemmVariant, limits?: GpuLimits): string {
  return GEMM.source(v, limits);
}

/** Pads each row of a [K, N] matrix to a multiple of 4 columns (vec4 loads). */
export function padColumns(b: Float32Array, K: number, N: number): { data: Float32Array; N4: number } {
  const N4 = ceilDiv(N, 4);
  if (N4 * 4 === N) return { data: b, N4 };
  const data = new Float32Array(K * N4 * 4);
  for (let k = 0; k < K; k++) data.set(b.subarray(k * N, k * N + N), k * N4 * 4);
  return { data, N4 };
}

/** One block of a padded B matrix: vec4 columns [col4, col4 + n4) of every row, in its own buffer [K, n4]. */
export interface ColumnBlock {
  col4: number;
  n4: number;
  buf: GPUBuffer;
}

/** vec4 columns per block so that a block of K rows fits one storage binding. */
export function columnsPerBlock(s: GpuSession, K: number, what: string): number {
  const n4 = Math.floor(Math.min(s.ctx.limits.maxStorageBufferBindingSize, s.ctx.limits.maxBufferSize) / (K * 16));
  if (n4 < 1) throw new Error(`${what}: one column of K=${K} rows exceeds this adapter's maxStorageBufferBindingSize (${s.ctx.limits.maxStorageBufferBindingSize})`);
  return n4;
}

/** Uploads the padded [K, N4·4] matrix `data` as column blocks that each fit one binding. */
export function uploadColumnBlocks(s: GpuSession, data: Float32Array, K: number, N4: number, label: string): ColumnBlock[] {
  const per = columnsPerBlock(s, K, label);
  if (per >= N4) return [{ col4: 0, n4: N4, buf: uploadStorage(s.ctx.device, data, label) }];
  const blocks: ColumnBlock[] = [];
  for (let c4 = 0; c4 < N4; c4 += per) {
    const n4 = Math.min(per, N4 - c4);
    const part = new Float32Array(K * n4 * 4);
    for (let k = 0; k < K; k++) part.set(data.subarray((k * N4 + c4) * 4, (k * N4 + c4 + n4) * 4), k * n4 * 4);
    blocks.push({ col4: c4, n4, buf: uploadStorage(s.ctx.device, part, `${label}[${c4 * 4}:]`) });
  }
  return blocks;
}

/**
 * Records C[M, cStride vec4] columns of `block` = A[M, K]·block. Rows are cut into chunks that fit
 * the workgroup grid and, as windows of A and C, one storage binding each.
 */
export function encodeGemm(s: GpuSession, rec: Recorder, a: GPUBuffer, M: number, K: number, block: ColumnBlock, c: GPUBuffer, cStride: number, v: GemmVariant = DEFAULT_GEMM): void {
  if (M === 0 || block.n4 === 0) return;
  if (K < 1) throw new Error('gemm: K must be at least 1');
  const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  const gx = ceilDiv(block.n4, v.wgx);
  if (gx > maxDim) throw new Error(`gemm: ${block.n4 * 4} output columns exceed the ${maxDim}-workgroup grid`);
  const rowBytes = Math.max(K * 4, cStride * 16);
  const fits = M * rowBytes <= s.ctx.limits.maxStorageBufferBindingSize;
  const chunk = Math.min(maxDim * v.wgy * v.tm, fits ? M : rowsPerWindow(s, rowBytes));
  if (chunk < 1) throw new Error(`gemm: a row of K=${K}, N=${cStride * 4} does not fit this adapter's binding and grid limits`);
  const B = binding(s, block.buf, K * block.n4 * 16);
  for (let r0 = 0; r0 < M; r0 += chunk) {
    const rows = Math.min(chunk, M - r0);
    const A = windowBinding(s, a, r0 * K, rows * K, 4);
    const C = windowBinding(s, c, r0 * cStride + block.col4, (rows - 1) * cStride + block.n4, 16);
    dispatch(s, rec, GEMM, v, {
      params: { M: rows, N4: block.n4, K, c_stride: cStride, a_shift: A.shift, c_shift: C.shift },
      bind: { A: A.binding, B, C: C.binding },
      grid: { x: gx, y: ceilDiv(ceilDiv(rows, v.tm), v.wgy) },
      label: 'f32',
    });
  }
}

/** GPU buffers for one GEMM shape, reusable across timed dispatches. */
export interface GemmPlan {
  M: number;
  N: number;
  K: number;
  encode(enc: GPUCommandEncoder): void;
  read(): Promise<Float32Array>;
  destroy(): void;
}

/** Prepares C = A[M,K] * B[K,N] on the GPU (one binding per matrix: benches and tests). */
export function planGemm(s: GpuSession, a: Float32Array, b: Float32Array, M: number, K: number, N: number, v = DEFAULT_GEMM): GemmPlan {
  const { device } = s.ctx;
  const { data: bPad, N4 } = padColumns(b, K, N);
  const grid = { x: ceilDiv(N4, v.wgx), y: ceilDiv(ceilDiv(M, v.tm), v.wgy) };
  const bufA = uploadStorage(device, a, 'gemm.A');
  const bufB = uploadStorage(device, bPad, 'gemm.B');
  const outBytes = M * N4 * 16;
  const bufC = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'gemm.C' });
  const bound = bindKernel(s, GEMM, v, { params: { M, N4, K, c_stride: N4, a_shift: 0, c_shift: 0 }, bind: { A: bufA, B: bufB, C: bufC } });
  return {
    M,
    N,
    K,
    encode(enc) {
      bound.record(enc, grid);
    },
    async read() {
      const padded = new Float32Array(await readBuffer(device, bufC, outBytes));
      s.ctx.checkErrors();
      if (N4 * 4 === N) return padded;
      const out = new Float32Array(M * N);
      for (let m = 0; m < M; m++) out.set(padded.subarray(m * N4 * 4, m * N4 * 4 + N), m * N);
      return out;
    },
    destroy() {
      bound.destroy();
      for (const buf of [bufA, bufB, bufC]) buf.destroy();
    },
  };
}

/** One-shot C = A * B on the GPU. */
export async function gemmGpu(s: GpuSession, a: Float32Array, b: Float32Array, M: number, K: number, N: number, v = DEFAULT_GEMM): Promise<Float32Array> {
  const plan = planGemm(s, a, b, M, K, N, v);
  try {
    const enc = s.ctx.device.createCommandEncoder();
    plan.encode(enc);
    s.ctx.device.queue.submit([enc.finish()]);
    return await plan.read();
  } finally {
    plan.destroy();
  }
}
