import elementwiseWgsl from '../../shaders/elementwise.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { ceilDiv, checkParam, instantiate } from './template.ts';

/** Invocations per workgroup of the 1-D digital kernels (elementwise, layout, pool, softmax, im2col). */
export const DEFAULT_WG = 64;

/** Most dims a broadcast or strided-copy table holds (batch included), after merging. */
export const MAX_TABLE_RANK = 8;

/** Unary functions, in the order of their WGSL op codes. */
export const UNARY_FNS = ['relu', 'leaky-relu', 'clip', 'sigmoid', 'tanh'] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];
/** Binary functions, in the order of their WGSL op codes. */
export const BINARY_FNS = ['add', 'sub', 'mul', 'div'] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];

/** The elementwise family's programs: an entry point and, for unary/binary, the function baked in. */
export type ElementwiseProgram =
  | { entry: 'unary'; fn: UnaryFn; wg: number }
  | { entry: 'binary'; fn: BinaryFn; wg: number }
  | { entry: 'affine'; wg: number }
  | { entry: 'bias'; wg: number };

function opCode(p: ElementwiseProgram): number {
  if (p.entry === 'unary') return UNARY_FNS.indexOf(p.fn);
  if (p.entry === 'binary') return BINARY_FNS.indexOf(p.fn);
  return 0;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function elementwiseKey(p: ElementwiseProgram): ProgramKey {
  return { family: 'elementwise', params: { entry: p.entry, op: opCode(p), wg: p.wg } };
}

/** WGSL for an elementwise program, after checking its parameters. */
export function elementwiseSource(p: ElementwiseProgram, maxInvocations = 256): string {
  checkParam('wg', p.wg, 1, maxInvocations, true);
  const op = opCode(p);
  if (op < 0) throw new Error(`elementwise: unknown ${p.entry} function ${'fn' in p ? p.fn : ''}`);
  return instantiate(elementwiseWgsl, { OP: op, WG: p.wg });
}

/** A 1-D launch spread over a 2-D grid: element i = gid.y·stride + gid.x. */
export interface LinearGrid {
  gx: number;
  gy: number;
  /** Invocations per grid row (gx·wg). */
  stride: number;
}

/** Grid for n invocations of workgroups of wg, within the adapter's per-dimension workgroup limit. */
export function linearGrid(s: GpuSession, n: number, wg: number): LinearGrid {
  const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  const groups = Math.max(1, ceilDiv(n, wg));
  const gx = Math.min(groups, maxDim);
  const gy = ceilDiv(groups, gx);
  if (gy > maxDim) throw new Error(`${n} invocations exceed the adapter's ${maxDim}x${maxDim} workgroup grid`);
  if (n > 0xffffffff) throw new Error(`${n} elements exceed 32-bit indexing`);
  return { gx, gy, stride: gx * wg };
}

/** Binding of the first `bytes` of a buffer, checked against the adapter's storage binding limit. */
export function binding(s: GpuSession, buffer: GPUBuffer, bytes: number, offset = 0): GPUBufferBinding {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const max = s.ctx.limits.maxStorageBufferBindingSize;
  if (size > max) throw new Error(`${buffer.label || 'buffer'}: binding ${size} bytes exceeds this adapter's maxStorageBufferBindingSize (${max}); use a smaller batch`);
  return { buffer, offset, size };
}

/** Records one compute pass with one dispatch; bindings are given by binding number. */
export function dispatch(
  e: OpEncoder,
  pipeline: GPUComputePipeline,
  entries: readonly (readonly [number, GPUBufferBinding])[],
  grid: { gx: number; gy: number },
  label: string,
): void {
  const bind = e.session.ctx.device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: entries.map(([b, resource]) => ({ binding: b, resource })),
  });
  const cp = e.encoder.beginComputePass({ label });
  cp.setPipeline(pipeline);
  cp.setBindGroup(0, bind);
  cp.dispatchWorkgroups(grid.gx, grid.gy);
  cp.end();
}

/** A uniform buffer that lives until the batch completes. */
export function tempUniform(e: OpEncoder, w: UniformWriter, label: string): GPUBufferBinding {
  return { buffer: e.temp(uploadUniform(e.session.ctx.device, w.buffer, label)) };
}

/**
 * Merges adjacent dims that every stride table walks contiguously (stride[d] = stride[d+1]·dim[d+1],
 * which includes both-broadcast), and drops size-1 dims: fewer divisions per element in the kernel.
 */
export function collapseDims(dims: readonly number[], tables: readonly (readonly number[])[]): { dims: number[]; tables: number[][] } {
  const outDims: number[] = [];
  const outTables: number[][] = tables.map(() => []);
  for (let d = 0; d < dims.length; d++) {
    if (dims[d] === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && tables.every((t, k) => outTables[k][last] === t[d] * dims[d])) {
      outDims[last] *= dims[d];
      tables.forEach((t, k) => (outTables[k][last] = t[d]));
    } else {
      outDims.push(dims[d]);
      tables.forEach((t, k) => outTables[k].push(t[d]));
    }
  }
  return { dims: outDims, tables: outTables };
}

/** Row-major strides of a shape. */
export function rowMajorStrides(dims: readonly number[]): number[] {
  const st = new Array<number>(dims.length);
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= dims[d];
  }
  return st;
}

/** Writes a table of up to MAX_TABLE_RANK u32 (two vec4s), zero-filled. */
export function writeTable(w: UniformWriter, t: readonly number[]): void {
  if (t.length > MAX_TABLE_RANK) throw new Error(`table of ${t.length} dims exceeds ${MAX_TABLE_RANK}`);
  for (let d = 0; d < MAX_TABLE_RANK; d++) w.u32(t[d] ?? 0);
}

function pipelineFor(s: GpuSession, p: ElementwiseProgram): GPUComputePipeline {
  return s.pipelines.get(elementwiseKey(p), () => elementwiseSource(p, s.ctx.limits.maxComputeInvocationsPerWorkgroup), `${p.entry}_main`);
}

/** Fills the 12 scalar words of the shared Params header. */
function header(n: number, stride: number, f: Partial<{ rank: number; inner: number; channels: number; flags: number; alpha: number; lo: number; hi: number }>): UniformWriter {
  const w = new UniformWriter(12 + 3 * MAX_TABLE_RANK);
  w.u32(n).u32(stride).u32(f.rank ?? 0).u32(f.inner ?? 1);
  w.u32(f.channels ?? 1).u32(f.flags ?? 0).f32(f.alpha ?? 0).f32(f.lo ?? 0);
  w.f32(f.hi ?? 0).u32(0).u32(0).u32(0);
  return w;
}

/** Parameters of the unary functions (ONNX LeakyRelu alpha, Clip bounds: ±Infinity when absent). */
export interface UnaryParams {
  alpha: number;
  min: number;
  max: number;
}

/** Records y[i] = fn(x[i]) for n elements. */
export function encodeUnary(e: OpEncoder, fn: UnaryFn, prm: UnaryParams, x: GPUBuffer, y: GPUBuffer, n: number, wg = DEFAULT_WG): void {
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const flags = (prm.min > -Infinity ? 1 : 0) | (prm.max < Infinity ? 2 : 0);
  const w = header(n, grid.stride, { flags, alpha: prm.alpha, lo: Number.isFinite(prm.min) ? prm.min : 0, hi: Number.isFinite(prm.max) ? prm.max : 0 });
  const pipeline = pipelineFor(s, { entry: 'unary', fn, wg });
  dispatch(e, pipeline, [[0, tempUniform(e, w, 'unary.params')], [1, binding(s, x, n * 4)], [2, binding(s, y, n * 4)]], grid, `unary.${fn}`);
}

/** Operand of a broadcast binary op: its buffer, element count, and element stride per output dim. */
export interface BroadcastOperand {
  buf: GPUBuffer;
  elements: number;
  strides: readonly number[];
}

/** Records y = a fn b over output dims `dims` (row-major), each operand read through its strides (0 = broadcast). */
export function encodeBinary(e: OpEncoder, fn: BinaryFn, a: BroadcastOperand, b: BroadcastOperand, y: GPUBuffer, dims: readonly number[], wg = DEFAULT_WG): void {
  const n = dims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const s = e.session;
  const c = collapseDims(dims, [rowMajorStrides(dims), a.strides, b.strides]);
  if (c.dims.length > MAX_TABLE_RANK) throw new Error(`binary ${fn}: ${c.dims.length} dims after merging exceed ${MAX_TABLE_RANK}`);
  const grid = linearGrid(s, n, wg);
  const w = header(n, grid.stride, { rank: c.dims.length });
  for (const t of c.tables) writeTable(w, t);
  const pipeline = pipelineFor(s, { entry: 'binary', fn, wg });
  dispatch(
    e,
    pipeline,
    [[0, tempUniform(e, w, 'binary.params')], [1, binding(s, a.buf, a.elements * 4)], [2, binding(s, y, n * 4)], [3, binding(s, b.buf, b.elements * 4)]],
    grid,
    `binary.${fn}`,
  );
}

/** Records y = x·scale[c] + shift[c] for n elements, channel c = (i / inner) % channels. */
export function encodeAffine(e: OpEncoder, x: GPUBuffer, scale: GPUBuffer, shift: GPUBuffer, y: GPUBuffer, n: number, channels: number, inner: number, wg = DEFAULT_WG): void {
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const w = header(n, grid.stride, { inner, channels });
  const pipeline = pipelineFor(s, { entry: 'affine', wg });
  dispatch(
    e,
    pipeline,
    [[0, tempUniform(e, w, 'affine.params')], [1, binding(s, x, n * 4)], [2, binding(s, y, n * 4)], [3, binding(s, scale, channels * 4)], [4, binding(s, shift, channels * 4)]],
    grid,
    'affine',
  );
}

/** Records y[m, j] += bias[j] in place over M rows of N. */
export function encodeRowBias(e: OpEncoder, y: GPUBuffer, bias: GPUBuffer, M: number, N: number, wg = DEFAULT_WG): void {
  const n = M * N;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const w = header(n, grid.stride, { channels: N });
  const pipeline = pipelineFor(s, { entry: 'bias', wg });
  dispatch(e, pipeline, [[0, tempUniform(e, w, 'bias.params')], [2, binding(s, y, n * 4)], [3, binding(s, bias, N * 4)]], grid, 'bias');
}
