/**
 * Constant tensors seen during import (initializers, Constant nodes, folded shape computations) and
 * the folding of ops whose inputs are all constant.
 *
 * Shape computations start from `Shape(x)` of an activation, whose first entry is the batch size:
 * unknown at import, so it is the symbol BATCH. It may be moved around (Gather, Slice, Concat,
 * Unsqueeze, Cast) but not computed with; a Reshape target that starts with it keeps the batch.
 */
import { UsageError } from '../../errors.ts';

export const BATCH: unique symbol = Symbol('batch');
export type Batch = typeof BATCH;
/** One entry of an integer constant: a number, or the batch size of the current run. */
export type Dim = number | Batch;

export type Const =
  | { kind: 'float'; dims: number[]; data: Float32Array }
  | { kind: 'int'; dims: number[]; data: Dim[] };

/** Thrown by folding helpers; the importer adds the file and node to the message. */
export class FoldError extends Error {}

/**
 * Refuses NaN and ±Inf in a float constant, as `.npy` inputs are refused: weights with them give
 * silently wrong accuracies. The message names `what` and the C-order index, e.g.
 * `model.onnx: initializer "fc.weight": NaN at [3, 17]`.
 */
export function checkFiniteConst(c: Const, what: string): void {
  if (c.kind !== 'float') return;
  const i = c.data.findIndex((v) => !Number.isFinite(v));
  if (i < 0) return;
  const v = c.data[i];
  const label = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
  const at = count(c.dims) === c.data.length ? c.dims.map((_, ax) => Math.floor(i / count(c.dims.slice(ax + 1))) % c.dims[ax]) : [i];
  throw new UsageError(`${what}: ${label} at [${at.join(', ')}]`);
}

/** Number of elements of full dims. */
export function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Row-major strides of dims. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Float values of a constant (integers converted); the batch symbol is an error. */
export function floatsOf(c: Const, what: string): Float32Array {
  if (c.kind === 'float') return c.data;
  return Float32Array.from(c.data, (d) => {
    if (d === BATCH) throw new FoldError(`${what} depends on the batch size, which is unknown at import`);
    return d;
  });
}

/** Integer values of a constant (floats truncated toward zero); the batch symbol passes through. */
export function intsOf(c: Const): Dim[] {
  if (c.kind === 'int') return c.data;
  return Array.from(c.data, (x) => Math.trunc(x));
}

/** Integer values with no batch symbol among them. */
export function plainIntsOf(c: Const, what: string): number[] {
  return intsOf(c).map((d) => {
    if (d === BATCH) throw new FoldError(`${what} depends on the batch size, which is unknown at import`);
    return d;
  });
}

/** A copy of the constant with other dims and the same data. */
export function withDims(c: Const, dims: number[]): Const {
  if (count(dims) !== c.data.length) throw new FoldError(`cannot view ${c.data.length} values as [${dims.join(', ')}]`);
  return c.kind === 'float' ? { kind: 'float', dims, data: c.data } : { kind: 'int', dims, data: c.data };
}

function take(c: Const, indices: readonly number[], dims: number[]): Const {
  if (c.kind === 'float') {
    const out = new Float32Array(indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = c.data[indices[i]];
    return { kind: 'float', dims, data: out };
  }
  return { kind: 'int', dims, data: indices.map((i) => c.data[i]) };
}

/** Normalizes a possibly negative axis for a tensor of `rank`. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new FoldError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** numpy broadcast of two shapes (aligned at the trailing end). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each output index of a broadcast, the source index into a tensor of `dims`. */
function broadcastIndex(dims: readonly number[], outDims: readonly number[]): number[] {
  const n = count(outDims);
  const r = outDims.length;
  const pad = r - dims.length;
  const inStrides = strides(dims);
  const outStrides = strides(outDims);
  const idx = new Array<number>(n);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let ax = pad; ax < r; ax++) {
      const d = dims[ax - pad];
      if (d !== 1) src += (Math.floor(o / outStrides[ax]) % outDims[ax]) * inStrides[ax - pad];
    }
    idx[o] = src;
  }
  return idx;
}

export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';

/** Elementwise binary op on constants with numpy broadcasting; integer Div truncates like C. */
export function foldBinary(fn: BinaryFn, a: Const, b: Const): Const {
  const dims = broadcastShapes(a.dims, b.dims);
  if (!dims) throw new FoldError(`shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`);
  const ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  if (a.kind === 'int' && b.kind === 'int') {
    const data = ia.map((i, o) => {
      const x = a.data[i];
      const y = b.data[ib[o]];
      if (x === BATCH || y === BATCH) throw new FoldError('arithmetic on the batch size is not supported');
      switch (fn) {
        case 'add': return x + y;
        case 'sub': return x - y;
        case 'mul': return x * y;
        case 'div':
          if (y === 0) throw new FoldError('integer division by zero');
          return Math.trunc(x / y);
      }
    });
    return { kind: 'int', dims, data };
  }
  const fa = floatsOf(a, 'operand');
  const fb = floatsOf(b, 'operand');
  const data = new Float32Array(ia.length);
  for (let o = 0; o < ia.length; o++) {
    const x = fa[ia[o]];
    const y = fb[ib[o]];
    data[o] = fn === 'add' ? x + y : fn === 'sub' ? x - y : fn === 'mul' ? x * y : x / y;
  }
  return { kind: 'float', dims, data };
}

/** ONNX Gather along `axis`. */
export function foldGather(data: Const, indices: Const, axis: number): Const {
  const ax = normAxis(axis, data.dims.length);
  const idx = plainIntsOf(indices, 'Gather indices');
  const d = data.dims[ax];
  const outer = count(data.dims.slice(0, ax));
  const inner = count(data.dims.slice(ax + 1));
  const src: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of idx) {
      const j = raw < 0 ? raw + d : raw;
      if (j < 0 || j >= d) throw new FoldError(`Gather index ${raw} is out of range for a dimension of ${d}`);
      for (let k = 0; k < inner; k++) src.push((o * d + j) * inner + k);
    }
  }
  return take(data, src, [...data.dims.slice(0, ax), ...indices.dims, ...data.dims.slice(ax + 1)]);
}

/** ONNX Concat of constants along `axis`. */
export function foldConcat(parts: Const[], axis: number): Const {
  const rank = parts[0].dims.length;
  const ax = normAxis(axis, rank);
  for (const p of parts) {
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== ax && d !== parts[0].dims[i])) {
      throw new FoldError(`Concat inputs [${parts.map((q) => q.dims.join('x')).join('], [')}] do not match off axis ${ax}`);
    }
  }
  const outer = count(parts[0].dims.slice(0, ax));
  const inner = count(parts[0].dims.slice(ax + 1));
  const dims = [...parts[0].dims];
  dims[ax] = parts.reduce((s, p) => s + p.dims[ax], 0);
  if (parts.every((p) => p.kind === 'int')) {
    const data: Dim[] = [];
    for (let o = 0; o < outer; o++) {
      for (const p of parts) {
        const n = p.dims[ax] * inner;
        for (let k = 0; k < n; k++) data.push(p.data[o * n + k]);
      }
    }
    return { kind: 'int', dims, data };
  }
  const fs = parts.map((p) => floatsOf(p, 'Concat input'));
  const data = new Float32Array(count(dims));
  let w = 0;
  for (let o = 0; o < outer; o++) {
    parts.forEach((p, i) => {
      const n = p.dims[ax] * inner;
      data.set(fs[i].subarray(o * n, o * n + n), w);
      w += n;
    });
  }
  return { kind: 'float', dims, data };
}

/** ONNX Transpose of a constant. */
export function foldTranspose(c: Const, perm: readonly number[]): Const {
  const r = c.dims.length;
  if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new FoldError(`perm [${perm.join(', ')}] is not a permutation of ${r} axes`);
  }
  const dims = perm.map((p) => c.dims[p]);
  const inStrides = strides(c.dims);
  const outStrides = strides(dims);
  const n = count(dims);
  const src = new Array<number>(n);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let ax = 0; ax < r; ax++) s += (Math.floor(o / outStrides[ax]) % dims[ax]) * inStrides[perm[ax]];
    src[o] = s;
  }
  return take(c, src, dims);
}

/** ONNX Slice of a constant; `axes` already normalized, ends clamped like numpy. */
export function foldSlice(c: Const, starts: number[], ends: number[], axes: number[], steps: number[]): Const {
  const r = c.dims.length;
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const dims = [...c.dims];
  axes.forEach((ax, i) => {
    const d = c.dims[ax];
    const st = steps[i] ?? 1;
    if (st === 0) throw new FoldError('Slice step 0');
    let s = starts[i];
    let e = ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      dims[ax] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      dims[ax] = Math.max(0, Math.ceil((s - e) / -st));
    }
    begin[ax] = s;
    step[ax] = st;
  });
  const inStrides = strides(c.dims);
  const outStrides = strides(dims);
  const n = count(dims);
  const src = new Array<number>(n);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let ax = 0; ax < r; ax++) s += (begin[ax] + (Math.floor(o / outStrides[ax]) % dims[ax]) * step[ax]) * inStrides[ax];
    src[o] = s;
  }
  return take(c, src, dims);
}

/**
 * Resolves a Reshape target against input dims (0 copies, -1 infers), for constants: no batch
 * semantics here; the importer handles activations itself.
 */
export function reshapeDims(inDims: readonly number[], target: readonly number[], allowZero: boolean): number[] {
  const total = count(inDims);
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= inDims.length) throw new FoldError(`Reshape target [${target.join(', ')}] copies dim ${i}, which [${inDims.join(', ')}] lacks`);
      return inDims[i];
    }
    if (d < -1) throw new FoldError(`Reshape target [${target.join(', ')}] has invalid entry ${d}`);
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1) throw new FoldError(`Reshape target [${target.join(', ')}] has more than one -1`);
  if (unknown === 1) {
    const known = count(out.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) {
      throw new FoldError(`cannot reshape [${inDims.join(', ')}] to [${target.join(', ')}]`);
    }
    out[out.indexOf(-1)] = total / known;
  }
  if (count(out) !== total) throw new FoldError(`cannot reshape [${inDims.join(', ')}] (${total} values) to [${target.join(', ')}]`);
  return out;
}
