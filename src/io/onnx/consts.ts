/**
 * Constant tensors seen during import (initializers, Constant nodes, folded shape computations).
 *
 * Shape computations start from `Shape(x)` of an activation, whose first entry in a batched import
 * is the batch size: unknown at import, so it is a symbol, `BatchDim(1)`. Integer constants carry
 * multiples `k·B` of it through Gather, Slice, Concat, Unsqueeze, Cast, Mul and exact Div (PyTorch's
 * dynamic_axes exports), so a Reshape target that holds it keeps the batch and one file runs at any
 * batch size. Other arithmetic on it is refused: the shape would depend on the batch size in a way
 * no per-sample network can express.
 */
import { UsageError } from '../../errors.ts';
import type { BinaryFn } from '../../ir/graph.ts';

/** k·B: a multiple of the batch size B of the run, unknown at import. */
export class BatchDim {
  constructor(readonly k: number) {}
  toString(): string {
    return this.k === 1 ? 'batch' : `${this.k}*batch`;
  }
}
/** The batch size itself. */
export const BATCH = new BatchDim(1);
/** One entry of an integer constant: a number, or a multiple of the batch size. */
export type Dim = number | BatchDim;

export function isBatchDim(d: Dim): d is BatchDim {
  return d instanceof BatchDim;
}

export type Const =
  | { kind: 'float'; dims: number[]; data: Float32Array }
  /** `elem`: the ONNX element type as the file stored it (an initializer or Constant), which QuantizeLinear's zero point needs. */
  | { kind: 'int'; dims: number[]; data: Dim[]; elem?: number };

/**
 * `c` cut to its first slice along `axis` (that dim then 1) when the dim is `declared`, the batch a
 * static export traced, and every slice along it is the same: a value of every sample that the export
 * wrote out once per traced sample (torch.zeros_like(x), an expanded mask, a zero RNN state). Null
 * otherwise, and when there is no declared batch.
 */
export function uniformAlong(c: Const, axis: number, declared: number | null): Const | null {
  const d = c.dims[axis];
  if (declared === null || d !== declared) return null;
  const inner = count(c.dims.slice(axis + 1));
  const outer = count(c.dims.slice(0, axis));
  const same = (a: Dim | number, b: Dim | number): boolean => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : isBatchDim(a as Dim) && isBatchDim(b as Dim) && (a as BatchDim).k === (b as BatchDim).k);
  const keep: number[] = [];
  for (let o = 0; o < outer; o++) {
    const base = o * d * inner;
    for (let i = 0; i < inner; i++) {
      for (let k = 1; k < d; k++) if (!same(c.data[base + k * inner + i], c.data[base + i])) return null;
      keep.push(base + i);
    }
  }
  const dims = c.dims.map((v, i) => (i === axis ? 1 : v));
  return c.kind === 'float' ? { kind: 'float', dims, data: Float32Array.from(keep, (k) => c.data[k]) } : { ...c, dims, data: keep.map((k) => c.data[k]) };
}

export type { BinaryFn };

/** Thrown by folding helpers; the importer adds the file and node to the message. */
export class FoldError extends Error {}

/**
 * Refuses NaN and ±Inf in a float constant, as `.npy` inputs are refused: weights with them give
 * silently wrong accuracies. The message names `what` and the C-order index, e.g.
 * `model.onnx: initializer "fc.weight": NaN at [3, 17]`.
 */
export function checkFiniteConst(c: Const, what: string): void {
  const m = nonFinite(c, what);
  if (m) throw new UsageError(m.message);
}

/**
 * The refusal of a float constant holding NaN or ±Inf (the first one, by C-order index), and whether
 * it holds NaN anywhere; null when every value is finite.
 */
export function nonFinite(c: Const, what: string): { message: string; nan: boolean } | null {
  if (c.kind !== 'float') return null;
  const d = c.data;
  let i = 0;
  // v − v is 0 for finite v, NaN for ±Inf and NaN: one pass with no call per element.
  while (i < d.length && d[i] - d[i] === 0) i++;
  if (i === d.length) return null;
  const nan = d.some(Number.isNaN);
  const v = d[i];
  const label = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
  const at = count(c.dims) === c.data.length ? c.dims.map((_, ax) => Math.floor(i / count(c.dims.slice(ax + 1))) % c.dims[ax]) : [i];
  return { message: `${what}: ${label} at [${at.join(', ')}]`, nan };
}

/** ±Inf as ±the largest float32 (a −Inf mask entry, so that no kernel sees an infinity). */
export function finiteData(data: Float32Array): Float32Array {
  return data.map((v) => (v === Infinity ? 3.4028234663852886e38 : v === -Infinity ? -3.4028234663852886e38 : v));
}

/** Number of elements of full dims. */
export function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}


/** A dims list for messages: batch multiples by name. */
export function showDims(dims: readonly Dim[]): string {
  return `[${dims.map(String).join(', ')}]`;
}

function batchError(what: string): FoldError {
  return new FoldError(`${what} depends on the batch size, which is unknown at import`);
}

/** Float values of a constant (integers converted); a batch multiple is an error. */
export function floatsOf(c: Const, what: string): Float32Array {
  if (c.kind === 'float') return c.data;
  return Float32Array.from(c.data, (d) => {
    if (isBatchDim(d)) throw batchError(what);
    return d;
  });
}

/** Integer values of a constant (floats truncated toward zero); batch multiples pass through. */
export function intsOf(c: Const): Dim[] {
  if (c.kind === 'int') return c.data;
  return Array.from(c.data, (x) => Math.trunc(x));
}

/** Integer values with no batch multiple among them. */
export function plainIntsOf(c: Const, what: string): number[] {
  return intsOf(c).map((d) => {
    if (isBatchDim(d)) throw batchError(what);
    return d;
  });
}

/** A copy of the constant with other dims and the same data. */
export function withDims(c: Const, dims: number[]): Const {
  if (count(dims) !== c.data.length) throw new FoldError(`cannot view ${c.data.length} values as [${dims.join(', ')}]`);
  return c.kind === 'float' ? { kind: 'float', dims, data: c.data } : { kind: 'int', dims, data: c.data };
}

/** Normalizes a possibly negative axis for a tensor of `rank`. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new FoldError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** numpy broadcast of shapes (aligned at the trailing end), or null when they do not broadcast. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | null {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - r + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return null;
      d = v;
    }
    // A zero-size dim broadcasts like any other size against 1.
    out.push(shapes.some((s) => (s[s.length - r + i] ?? 1) === 0) ? 0 : d);
  }
  return out;
}
