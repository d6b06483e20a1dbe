/**
 * Folding of ONNX ops whose inputs are all constants: shape computations (with the batch size as a
 * symbol, consts.ts) and weight preprocessing chains. Arithmetic as ONNX defines it; float results
 * are computed in f64 and rounded to f32 once.
 */
import { BatchDim, FoldError, broadcastShapes, count, floatsOf, isBatchDim, normAxis, plainIntsOf } from './consts.ts';
import { roundHalfEven } from '../../crossbar/rounding.ts';
import { rowMajorStrides as strides } from '../../ir/tensor.ts';
import type { BinaryFn, Const, Dim } from './consts.ts';

/** The elements of `c` at `indices`, as a constant of `dims`. */
export function take(c: Const, indices: readonly number[], dims: number[]): Const {
  if (c.kind === 'float') {
    const out = new Float32Array(indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = c.data[indices[i]];
    return { kind: 'float', dims, data: out };
  }
  return { kind: 'int', dims, data: indices.map((i) => c.data[i]) };
}

/** For each output index of a broadcast, the source index into a tensor of `dims`. */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): number[] {
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

/** One integer op; a batch multiple may only be scaled, divided exactly, or compared where the answer is certain. */
function intBinary(fn: BinaryFn, x: Dim, y: Dim): Dim {
  if (!isBatchDim(x) && !isBatchDim(y)) {
    switch (fn) {
      case 'add': return x + y;
      case 'sub': return x - y;
      case 'mul': return x * y;
      case 'div':
        if (y === 0) throw new FoldError('integer division by zero');
        return Math.trunc(x / y);
      case 'pow': return Math.pow(x, y);
      case 'max': return Math.max(x, y);
      case 'min': return Math.min(x, y);
      case 'equal': return x === y ? 1 : 0;
      case 'less': return x < y ? 1 : 0;
      case 'greater': return x > y ? 1 : 0;
    }
  }
  const b = isBatchDim(x) ? x : (y as BatchDim);
  const n = isBatchDim(x) ? y : x;
  if (!isBatchDim(n)) {
    // B ≥ 1, so k·B ≥ k: comparisons with numbers up to k, and scaling, are known without B.
    if (fn === 'mul' && Number.isInteger(n) && n >= 0) return n === 0 ? 0 : new BatchDim(b.k * n);
    if (fn === 'div' && isBatchDim(x) && n > 0 && b.k % n === 0) return new BatchDim(b.k / n);
    if (fn === 'equal' && n < b.k) return 0;
    if ((fn === 'max' || fn === 'min') && n <= b.k) return fn === 'max' ? b : n;
    if ((fn === 'less' || fn === 'greater') && n < b.k) return (fn === 'greater') === isBatchDim(x) ? 1 : 0;
  } else {
    const [p, q] = [x as BatchDim, y as BatchDim];
    if (fn === 'div' && p.k % q.k === 0) return p.k / q.k;
    if (fn === 'equal') return p.k === q.k ? 1 : 0;
    if (fn === 'sub' && p.k === q.k) return 0;
  }
  throw new FoldError(`${fn} of ${String(x)} and ${String(y)} depends on the batch size in a way a per-sample network cannot express`);
}

function floatBinary(fn: BinaryFn, x: number, y: number): number {
  switch (fn) {
    case 'add': return x + y;
    case 'sub': return x - y;
    case 'mul': return x * y;
    case 'div': return x / y;
    case 'pow': return Math.pow(x, y);
    case 'max': return Math.max(x, y);
    case 'min': return Math.min(x, y);
    case 'equal': return x === y ? 1 : 0;
    case 'less': return x < y ? 1 : 0;
    case 'greater': return x > y ? 1 : 0;
  }
}

const COMPARISONS: readonly BinaryFn[] = ['equal', 'less', 'greater'];

/** Elementwise binary op on constants with numpy broadcasting; integer Div truncates like C, comparisons give integers 0/1. */
export function foldBinary(fn: BinaryFn, a: Const, b: Const): Const {
  const dims = broadcastShapes(a.dims, b.dims);
  if (!dims) throw new FoldError(`shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`);
  const ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  if (a.kind === 'int' && b.kind === 'int') {
    return { kind: 'int', dims, data: ia.map((i, o) => intBinary(fn, a.data[i], b.data[ib[o]])) };
  }
  const fa = floatsOf(a, 'operand');
  const fb = floatsOf(b, 'operand');
  const values = ia.map((i, o) => floatBinary(fn, fa[i], fb[ib[o]]));
  // ONNX Pow's result has the base's type; comparisons give booleans.
  if (COMPARISONS.includes(fn) || (fn === 'pow' && a.kind === 'int')) return { kind: 'int', dims, data: values.map(Math.trunc) };
  return { kind: 'float', dims, data: Float32Array.from(values) };
}

/** ONNX Where on constants: cond ≠ 0 picks x, else y (numpy broadcasting). */
export function foldWhere(cond: Const, x: Const, y: Const): Const {
  const dims = broadcastShapes(cond.dims, x.dims, y.dims);
  if (!dims) throw new FoldError(`shapes [${cond.dims.join(', ')}], [${x.dims.join(', ')}] and [${y.dims.join(', ')}] do not broadcast`);
  const c = floatsOf(cond, 'condition');
  const [ic, ix, iy] = [cond, x, y].map((t) => broadcastIndex(t.dims, dims));
  if (x.kind === 'int' && y.kind === 'int') return { kind: 'int', dims, data: ic.map((i, o) => (c[i] !== 0 ? x.data[ix[o]] : y.data[iy[o]])) };
  const fx = floatsOf(x, 'X');
  const fy = floatsOf(y, 'Y');
  return { kind: 'float', dims, data: Float32Array.from(ic, (i, o) => (c[i] !== 0 ? fx[ix[o]] : fy[iy[o]])) };
}

/** Elementwise functions folding may apply to float constants (weight preprocessing), by ONNX op type. */
const FLOAT_FNS: Readonly<Record<string, (v: number) => number>> = {
  Neg: (v) => -v,
  Abs: Math.abs,
  Reciprocal: (v) => 1 / v,
  Sqrt: Math.sqrt,
  Exp: Math.exp,
  Log: Math.log,
  Relu: (v) => Math.max(v, 0),
  Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  Tanh: Math.tanh,
  Sign: Math.sign,
  Sin: Math.sin,
  Cos: Math.cos,
  Floor: Math.floor,
  Ceil: Math.ceil,
  // Halves to even, as ONNX Round.
  Round: roundHalfEven,
  Tan: Math.tan,
  Asin: Math.asin,
  Acos: Math.acos,
  Atan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Asinh: Math.asinh,
  Acosh: Math.acosh,
  Atanh: Math.atanh,
};

/** Folds an elementwise op of one input (Neg/Abs on integers too, Not on booleans), or returns null when folding it is not supported. */
export function foldUnary(op: string, x: Const): Const | null {
  if (op === 'Not') return { kind: 'int', dims: x.dims, data: Array.from(floatsOf(x, 'Not input'), (v) => (v === 0 ? 1 : 0)) };
  if (x.kind === 'int' && (op === 'Neg' || op === 'Abs')) {
    return { kind: 'int', dims: x.dims, data: plainIntsOf(x, `${op} input`).map((v) => (op === 'Neg' ? -v : Math.abs(v))) };
  }
  const f = FLOAT_FNS[op];
  if (!f || x.kind !== 'float') return null;
  return { kind: 'float', dims: x.dims, data: x.data.map(f) };
}

/** ONNX Expand of a constant to a numeric shape (numpy broadcasting). */
export function foldExpand(x: Const, shape: readonly number[]): Const {
  const dims = broadcastShapes(x.dims, shape);
  if (!dims) throw new FoldError(`[${x.dims.join(', ')}] does not broadcast to [${shape.join(', ')}]`);
  return take(x, broadcastIndex(x.dims, dims), dims);
}

/** ONNX Range: start, start + delta, … up to (not including) limit. */
export function foldRange(start: Const, limit: Const, delta: Const, maxElements: number): Const {
  const [s, l, d] = [start, limit, delta].map((c) => floatsOf(c, 'Range input')[0]);
  if (d === 0) throw new FoldError('Range delta is 0');
  const n = Math.max(Math.ceil((l - s) / d), 0);
  if (n > maxElements) throw new FoldError(`Range of ${n} elements is too large to fold`);
  const values = Array.from({ length: n }, (_, i) => s + i * d);
  return start.kind === 'int' ? { kind: 'int', dims: [n], data: values } : { kind: 'float', dims: [n], data: Float32Array.from(values) };
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

/**
 * ONNX Slice's window on every axis of `dims` (`axes` already normalized; starts and ends clamped as
 * ONNX says): the first index, step and extent per axis, all axes not named left whole.
 */
export function sliceWindow(dims: readonly number[], starts: number[], ends: number[], axes: number[], steps: number[]): { begin: number[]; step: number[]; out: number[] } {
  const r = dims.length;
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const out = [...dims];
  if (new Set(axes).size !== axes.length) throw new FoldError(`Slice axes [${axes.join(', ')}] repeat an axis`);
  axes.forEach((ax, i) => {
    const d = dims[ax];
    const st = steps[i] ?? 1;
    if (st === 0) throw new FoldError('Slice step 0');
    let s = starts[i];
    let e = ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      out[ax] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      out[ax] = Math.max(0, Math.ceil((s - e) / -st));
    }
    begin[ax] = out[ax] === 0 ? 0 : s;
    step[ax] = st;
  });
  return { begin, step, out };
}

/** ONNX Slice of a constant; `axes` already normalized. */
export function foldSlice(c: Const, starts: number[], ends: number[], axes: number[], steps: number[]): Const {
  const r = c.dims.length;
  const { begin, step, out: dims } = sliceWindow(c.dims, starts, ends, axes, steps);
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

/**
 * numpy matmul of two constants (a weight computed in the graph: spectral_norm's σ = uᵀ·W·v): a 1-D
 * operand is a row (first) or a column (second) vector, dims before the last two broadcast.
 */
export function foldMatMul(a: Const, b: Const, maxElements: number): Const {
  if (a.dims.length === 0 || b.dims.length === 0) throw new FoldError('MatMul of a scalar');
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (K !== K2) throw new FoldError(`MatMul of [${a.dims.join(', ')}] and [${b.dims.join(', ')}]: inner dims ${K} and ${K2} differ`);
  const batch = broadcastShapes(ad.slice(0, -2), bd.slice(0, -2));
  if (!batch) throw new FoldError(`MatMul of [${a.dims.join(', ')}] and [${b.dims.join(', ')}]: batch dims do not broadcast`);
  if (count(batch) * M * N > maxElements || count(batch) * M * N * K > 64 * maxElements) throw new FoldError('MatMul of constants too large to fold');
  const [fa, fb] = [floatsOf(a, 'A'), floatsOf(b, 'B')];
  const ia = broadcastIndex(ad.slice(0, -2), batch);
  const ib = broadcastIndex(bd.slice(0, -2), batch);
  const out = new Float32Array(count(batch) * M * N);
  for (let t = 0; t < ia.length; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += fa[(ia[t] * M + i) * K + k] * fb[(ib[t] * K + k) * N + j];
        out[(t * M + i) * N + j] = s;
      }
    }
  }
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  return { kind: 'float', dims, data: out };
}
