/**
 * The one way every kernel is launched: uniforms packed by name, bindings by name and checked against
 * the session's limits, one compute pass per dispatch. Also the helpers that size launches and
 * bindings to the adapter (2-D grids, windows into buffers larger than one binding).
 */
import { uploadUniform } from '../gpu/buffers.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import type { BindingDecl, Kernel, VariantParams } from './kernel.ts';
import { ceilDiv } from './template.ts';
import { packUniforms, type UniformDecl, type UniformValues } from './uniforms.ts';

/** Where recorded work goes, and who frees its temporaries once it has run (OpEncoder is one). */
export interface Recorder {
  encoder: GPUCommandEncoder;
  /** Registers a buffer to destroy after the recorded work completes. */
  temp(buf: GPUBuffer): GPUBuffer;
  /** A uniform block holding `bytes` that lives as long as the temporaries (UniformArena); absent: one buffer per dispatch. */
  uniform?(bytes: ArrayBuffer, label: string): GPUBufferBinding;
}

/** A binding's buffer: the whole buffer, or a range of it. */
export type BufferArg = GPUBuffer | GPUBufferBinding;

/** Workgroups per dimension. */
export interface Grid {
  x: number;
  y?: number;
  z?: number;
}

/** One launch's uniforms and buffers, by the names the family declares. */
export interface KernelCall<U extends UniformDecl, B extends BindingDecl> {
  params: UniformValues<U>;
  bind: { readonly [K in keyof B]?: BufferArg };
  /** Appended to the family name in GPU labels and error messages. */
  label?: string;
}

/** A kernel bound to its buffers, ready to record as often as needed (benches re-record one). */
export interface BoundKernel {
  record(encoder: GPUCommandEncoder, grid: Grid): void;
  /** The uniform buffer it owns (null when the family has no uniforms or they live in the caller's arena). */
  readonly uniform: GPUBuffer | null;
  destroy(): void;
}

function isBuffer(b: BufferArg): b is GPUBuffer {
  return !('buffer' in b);
}

/**
 * Binds variant `v` of `k` to `call`'s buffers after checking each against the session's limits; its
 * uniforms go where `place` puts them, else into a buffer of its own.
 */
export function bindKernel<V extends VariantParams, U extends UniformDecl, B extends BindingDecl>(
  s: GpuSession,
  k: Kernel<V, U, B>,
  v: V,
  call: KernelCall<U, B>,
  place?: (bytes: ArrayBuffer, label: string) => GPUBufferBinding,
): BoundKernel {
  const what = call.label ? `${k.name}.${call.label}` : k.name;
  const { pipeline, uses } = k.pipeline(s, v);
  const given = call.bind as Readonly<Record<string, BufferArg | undefined>>;
  for (const n of Object.keys(given)) {
    if (given[n] !== undefined && !uses.includes(n as keyof B & string)) throw new Error(`${what}: binding ${n} is not used by this variant`);
  }
  const { device } = s.ctx;
  const maxBinding = s.ctx.limits.maxStorageBufferBindingSize;
  const align = device.limits.minStorageBufferOffsetAlignment;
  const entries: GPUBindGroupEntry[] = [];
  for (const n of uses) {
    const arg = given[n];
    if (arg === undefined) throw new Error(`${what}: binding ${n} not given`);
    const b: GPUBufferBinding = isBuffer(arg) ? { buffer: arg } : arg;
    const offset = b.offset ?? 0;
    const size = b.size ?? b.buffer.size - offset;
    const name = b.buffer.label || n;
    if (offset % align !== 0) throw new Error(`${what}: ${name} bound at offset ${offset}, not a multiple of ${align}`);
    if (offset + size > b.buffer.size) throw new Error(`${what}: ${name} bound past its end (${offset} + ${size} > ${b.buffer.size} bytes)`);
    if (size > maxBinding) throw new Error(`${name}: binding ${size} bytes exceeds this adapter's maxStorageBufferBindingSize (${maxBinding}); use a smaller batch`);
    entries.push({ binding: k.slots[n], resource: b });
  }
  const words = Object.keys(k.uniforms).length > 0 ? packUniforms(k.layout, call.params, what) : null;
  const placed = words && place ? place(words, `${what}.params`) : null;
  const uniform = words && !placed ? uploadUniform(device, words, `${what}.params`) : null;
  if (placed) entries.push({ binding: 0, resource: placed });
  else if (uniform) entries.push({ binding: 0, resource: { buffer: uniform } });
  const bindGroup = device.createBindGroup({ label: what, layout: pipeline.getBindGroupLayout(0), entries });
  const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  return {
    uniform,
    record(encoder, grid) {
      const x = grid.x, y = grid.y ?? 1, z = grid.z ?? 1;
      if (x > maxDim || y > maxDim || z > maxDim) throw new Error(`${what}: grid ${x}x${y}x${z} exceeds ${maxDim} workgroups per dimension`);
      const pass = encoder.beginComputePass({ label: what });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    },
    destroy() {
      uniform?.destroy();
    },
  };
}

/** Records one dispatch of variant `v` of `k` on `grid`; its uniform buffer is freed with the recorder's temporaries. */
export function dispatch<V extends VariantParams, U extends UniformDecl, B extends BindingDecl>(
  s: GpuSession,
  rec: Recorder,
  k: Kernel<V, U, B>,
  v: V,
  call: KernelCall<U, B> & { grid: Grid },
): void {
  const bound = bindKernel(s, k, v, call, rec.uniform?.bind(rec));
  if (bound.uniform) rec.temp(bound.uniform);
  bound.record(rec.encoder, call.grid);
}

/** Binding of the first `bytes` of a buffer (from `offset`), checked against the adapter's storage binding limit. */
export function binding(s: GpuSession, buffer: GPUBuffer, bytes: number, offset = 0): GPUBufferBinding {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const max = s.ctx.limits.maxStorageBufferBindingSize;
  if (size > max) throw new Error(`${buffer.label || 'buffer'}: binding ${size} bytes exceeds this adapter's maxStorageBufferBindingSize (${max}); use a smaller batch`);
  return { buffer, offset, size };
}

/** A binding of elements [first, first + count) of a buffer, and where element `first` lands inside it. */
export interface Window {
  binding: GPUBufferBinding;
  /** Index, in elements of the binding, of element `first` (bindings start at aligned offsets). */
  shift: number;
}

/** Binds elements [first, first + count) of `elemBytes` each, starting at the aligned offset at or below `first`. */
export function windowBinding(s: GpuSession, buffer: GPUBuffer, first: number, count: number, elemBytes: number): Window {
  const align = s.ctx.device.limits.minStorageBufferOffsetAlignment;
  const start = first * elemBytes;
  const offset = Math.floor(start / align) * align;
  return { binding: binding(s, buffer, start - offset + count * elemBytes, offset), shift: (start - offset) / elemBytes };
}

/** Most rows of `rowBytes` that one window can hold wherever it starts (an aligned start adds up to alignment − 4 bytes). */
export function rowsPerWindow(s: GpuSession, rowBytes: number): number {
  const slack = s.ctx.device.limits.minStorageBufferOffsetAlignment - 4;
  return Math.floor((s.ctx.limits.maxStorageBufferBindingSize - slack) / rowBytes);
}

/** A 1-D launch spread over a 2-D grid: element i = gid.y·stride + gid.x. */
export interface LinearGrid extends Grid {
  x: number;
  y: number;
  /** Invocations per grid row (x·wg). */
  stride: number;
}

/** Grid for n invocations of workgroups of wg, within the adapter's per-dimension workgroup limit. */
export function linearGrid(s: GpuSession, n: number, wg: number): LinearGrid {
  const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  const groups = Math.max(1, ceilDiv(n, wg));
  const x = Math.min(groups, maxDim);
  const y = ceilDiv(groups, x);
  if (y > maxDim) throw new Error(`${n} invocations exceed the adapter's ${maxDim}x${maxDim} workgroup grid`);
  if (n > 0xffffffff) throw new Error(`${n} elements exceed 32-bit indexing`);
  return { x, y, stride: x * wg };
}
