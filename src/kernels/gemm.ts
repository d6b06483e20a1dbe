import gemmWgsl from '../../shaders/gemm.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { readBuffer, uploadStorage, uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import { ceilDiv, checkParam, instantiate } from './template.ts';

/** The GEMM kernel's compile-time shape: rows per invocation and workgroup size. */
export interface GemmProgram {
  tm: number;
  wgx: number;
  wgy: number;
}

export const DEFAULT_GEMM: GemmProgram = { tm: 4, wgx: 16, wgy: 4 };

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function gemmKey(p: GemmProgram): ProgramKey {
  return { family: 'gemm', params: { tm: p.tm, wgx: p.wgx, wgy: p.wgy } };
}

/** WGSL for a GEMM program, after checking its tile and workgroup constraints. */
export function gemmSource(p: GemmProgram, maxInvocations = 256): string {
  checkParam('tm', p.tm, 1, 16);
  checkParam('wgx', p.wgx, 1, 256, true);
  checkParam('wgy', p.wgy, 1, 256, true);
  if (p.wgx * p.wgy > maxInvocations) throw new Error(`gemm: workgroup ${p.wgx}x${p.wgy} exceeds ${maxInvocations} invocations`);
  return instantiate(gemmWgsl, { TM: p.tm, WGX: p.wgx, WGY: p.wgy });
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

/** Pads each row of a [K, N] matrix to a multiple of 4 columns (vec4 loads). */
export function padColumns(b: Float32Array, K: number, N: number): { data: Float32Array; N4: number } {
  const N4 = ceilDiv(N, 4);
  if (N4 * 4 === N) return { data: b, N4 };
  const data = new Float32Array(K * N4 * 4);
  for (let k = 0; k < K; k++) data.set(b.subarray(k * N, k * N + N), k * N4 * 4);
  return { data, N4 };
}

/** Prepares C = A[M,K] * B[K,N] on the GPU. */
export function planGemm(s: GpuSession, a: Float32Array, b: Float32Array, M: number, K: number, N: number, p = DEFAULT_GEMM): GemmPlan {
  const { device } = s.ctx;
  const { data: bPad, N4 } = padColumns(b, K, N);
  const rowGroups = ceilDiv(M, p.tm);
  const gx = ceilDiv(N4, p.wgx);
  const gy = ceilDiv(rowGroups, p.wgy);
  const maxGroups = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  if (gx > maxGroups || gy > maxGroups) throw new Error(`gemm: grid ${gx}x${gy} exceeds ${maxGroups} workgroups per dimension`);
  const pipeline = s.pipelines.get(gemmKey(p), () => gemmSource(p, s.ctx.limits.maxComputeInvocationsPerWorkgroup));
  const params = uploadUniform(device, new UniformWriter(4).u32(M).u32(N4).u32(K).u32(0).buffer, 'gemm.params');
  const bufA = uploadStorage(device, a, 'gemm.A');
  const bufB = uploadStorage(device, bPad, 'gemm.B');
  const outBytes = M * N4 * 16;
  const bufC = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'gemm.C' });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    M,
    N,
    K,
    encode(enc) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
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
      for (const buf of [params, bufA, bufB, bufC]) buf.destroy();
    },
  };
}

/** One-shot C = A * B on the GPU. */
export async function gemmGpu(s: GpuSession, a: Float32Array, b: Float32Array, M: number, K: number, N: number, p = DEFAULT_GEMM): Promise<Float32Array> {
  const plan = planGemm(s, a, b, M, K, N, p);
  try {
    const enc = s.ctx.device.createCommandEncoder();
    plan.encode(enc);
    s.ctx.device.queue.submit([enc.finish()]);
    return await plan.read();
  } finally {
    plan.destroy();
  }
}
