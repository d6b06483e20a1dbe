import matmulWgsl from '../../shaders/matmul.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { rowMajorStrides } from '../ir/tensor.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { collapseDims, DEFAULT_WG, MAX_TABLE_RANK, table } from './elementwise.ts';
import { checkParam } from './template.ts';

/** The matmul family's variants. */
export type MatmulVariant = { wg: number };

/** Batched product of two activations with broadcast leading dims (ONNX MatMul between activations). */
export const MATMUL = defineKernel({
  name: 'matmul',
  uniforms: { n: 'u32', stride: 'u32', M: 'u32', N: 'u32', K: 'u32', rank: 'u32', iter: 'array<vec4<u32>, 2>', sa: 'array<vec4<u32>, 2>', sb: 'array<vec4<u32>, 2>' },
  bindings: { A: read('f32'), Bm: read('f32'), C: readWrite('f32') },
  compile(v: MatmulVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return { body: matmulWgsl, consts: { WG: v.wg } };
  },
});

/** WGSL of a matmul variant, after checking it against `limits`. */
export function matmulSource(v: MatmulVariant, limits?: GpuLimits): string {
  return MATMUL.source(v, limits);
}

/** One operand of a batched matmul: its buffer, element count, and element stride of its matrix per lead dim (0 = broadcast). */
export interface MatmulOperand {
  buf: GPUBuffer;
  elements: number;
  strides: readonly number[];
}

/** Records C[l, M, N] = A[l, M, K] · B[l, K, N] over lead dims `lead` (row-major), each operand's matrix at its strides. */
export function encodeMatmul(e: OpEncoder, a: MatmulOperand, b: MatmulOperand, c: GPUBuffer, lead: readonly number[], M: number, K: number, N: number, wg = DEFAULT_WG): void {
  const n = lead.reduce((p, q) => p * q, 1) * M * N;
  if (n === 0) return;
  const s = e.session;
  const t = collapseDims(lead, [rowMajorStrides(lead), a.strides, b.strides]);
  if (t.dims.length > MAX_TABLE_RANK) throw new Error(`matmul: ${t.dims.length} lead dims after merging exceed ${MAX_TABLE_RANK}`);
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, MATMUL, { wg }, {
    params: { n, stride: grid.stride, M, N, K, rank: t.dims.length, iter: table(t.tables[0]), sa: table(t.tables[1]), sb: table(t.tables[2]) },
    bind: { A: binding(s, a.buf, Math.max(1, a.elements) * 4), Bm: binding(s, b.buf, Math.max(1, b.elements) * 4), C: binding(s, c, n * 4) },
    grid,
  });
}
