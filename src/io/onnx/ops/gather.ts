/**
 * Ops that pick or place elements: Slice, Gather (constant indices, or a constant table indexed by the
 * data: an embedding), GatherElements, Expand, Pad and Trilu. On activations they become the IR's slice, gather (lookup),
 * expand and pad (never across the batch); on constants they fold, as does NonZero (ScatterND: scatter.ts). Expand of a constant to a batch-sized shape (a class token expanded to the batch) is a
 * `constant` op, the same in every sample.
 */
import type { GatherOp, PadOp } from '../../../ir/graph.ts';
import { rowMajorStrides } from '../../../ir/tensor.ts';
import { count, floatsOf, intsOf, isBatchDim, normAxis, plainIntsOf, showDims, uniformAlong } from '../consts.ts';
import type { Const, Dim } from '../consts.ts';
import { foldExpand, foldGather, foldSlice, sliceWindow } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { emitBinary } from './elementwise.ts';
import { Expansion, intAttr } from './expansion.ts';
import { reshapeTo } from './matrix.ts';

/** Slice's starts, ends, axes and steps: attributes before opset 10, constant inputs from then on. */
function sliceArgs(n: NodeContext, rank: number): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } {
  let starts: number[];
  let ends: number[];
  let axes: number[] | null;
  let steps: number[] | null = null;
  if (n.opset < 10) {
    // Slice-1 reads only its attributes: inputs for bounds would be ignored, and no bounds is no slice.
    if (n.ins.length > 1) throw new NodeError(`has ${n.ins.length} inputs; before opset 10 Slice takes one, its starts, ends and axes attributes`);
    const s = n.a.ints('starts', null);
    const en = n.a.ints('ends', null);
    if (!s || !en) throw new NodeError('attributes "starts" and "ends" are required before opset 10');
    [starts, ends] = [s, en];
    axes = n.a.ints('axes', null);
  } else {
    starts = plainIntsOf(n.constIn(1, 'starts'), 'starts');
    ends = plainIntsOf(n.constIn(2, 'ends'), 'ends');
    const ax = n.optConst(3, 'axes');
    axes = ax ? plainIntsOf(ax, 'axes') : null;
    const st = n.optConst(4, 'steps');
    steps = st ? plainIntsOf(st, 'steps') : null;
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((v) => normAxis(v, rank));
  if (starts.length !== ax.length || ends.length !== ax.length || (steps && steps.length !== ax.length)) {
    throw new NodeError(`starts, ends, axes and steps have different lengths (${starts.length}, ${ends.length}, ${ax.length}${steps ? `, ${steps.length}` : ''})`);
  }
  return { starts, ends, axes: ax, steps: steps ?? ax.map(() => 1) };
}

function foldSliceNode(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const a = sliceArgs(n, x.dims.length);
  return foldSlice(x, a.starts, a.ends, a.axes, a.steps);
}

/** ONNX's "to the end" for ends: INT64_MAX and friends arrive as huge numbers. */
const TO_END = 2 ** 31 - 1;

function slice(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'data');
  const a = sliceArgs(n, x.shape.length + n.lead);
  const b = n.batchAxis(x);
  const keep: number[] = [];
  a.axes.forEach((ax, i) => {
    if (ax === b) {
      // The batch axis may be named only to keep it whole.
      if (a.starts[i] !== 0 || a.ends[i] < TO_END || a.steps[i] !== 1) throw new NodeError(`slices the batch dimension (starts ${a.starts[i]}, ends ${a.ends[i]}, step ${a.steps[i]}); only the whole batch can be kept`);
      return;
    }
    keep.push(i);
  });
  const toSample = (ax: number): number => (b >= 0 && ax > b ? ax - 1 : ax);
  const w = sliceWindow(x.shape, keep.map((i) => a.starts[i]), keep.map((i) => a.ends[i]), keep.map((i) => toSample(a.axes[i])), keep.map((i) => a.steps[i]));
  n.imp.emit({ kind: 'slice', name: n.name, inputs: [x.name], output: n.out, starts: w.begin, steps: w.step, inShape: x.shape, outShape: w.out }, w.out, x.dtype, x.batchAt);
}

/** A constant table indexed by the data along axis 0 (nn.Embedding): the IR's lookup. */
function lookup(n: NodeContext, table: Const): void {
  const idx = n.value(1, 'indices');
  const axis = normAxis(n.a.int('axis', 0), table.dims.length);
  if (axis !== 0) throw new NodeError(`indices ${quote(n.ins[1])} come from the data and axis is ${axis}; a constant indexed by the data is supported along axis 0 only (an embedding table)`);
  if (table.dims.length === 0) throw new NodeError('data is a scalar; Gather needs at least one axis');
  const outShape = [...idx.shape, ...table.dims.slice(1)];
  n.imp.emit({ kind: 'lookup', name: n.name, inputs: [idx.name], output: n.out, table: { dims: [...table.dims], data: Float32Array.from(floatsOf(table, 'data')) }, indicesShape: idx.shape, outShape }, outShape, table.kind === 'float' ? 'float' : 'int');
}

/**
 * Gather of rows of a batch-merged view [batch·k, …] by per-sample indices plus torch.arange(batch)·k
 * (Value.sampleOffset): `h[torch.arange(batch), idx]`, CLIP's end-of-text token, a classifier's last
 * token. Each sample picks its own rows: a gather-elements of the sample's [k, …] rows.
 */
function gatherRows(n: NodeContext, idx: Value): void {
  const x = n.imp.valueOf(n.ins[0] ?? '');
  const k = idx.sampleOffset!;
  if (!x || x.merged !== 'major' || (x.batchAt ?? 0) !== 0 || x.shape[0] !== k || normAxis(n.a.int('axis', 0), x.shape.length) !== 0) {
    throw new NodeError(`indices ${quote(n.ins[1])} add torch.arange(batch)·${k}; only a Gather along axis 0 of a [batch·${k}, …] view of the data takes them`);
  }
  const rest = x.shape.slice(1);
  const width = count(rest);
  const part = (what: string): string => n.imp.fresh(`${n.name}/${what}`);
  const rows = reshapeTo(n, { ...x, merged: undefined }, [k, width], part('rows'));
  // A negative index reads another sample's row in the ONNX graph (b·k − 1 is sample b − 1's last):
  // moved out of range, it gives NaN instead of a row of this sample.
  const plain: Value = { ...idx, sampleOffset: undefined };
  const negative = part('negative');
  emitBinary(n, 'less', { v: plain }, { c: { kind: 'float', dims: [], data: Float32Array.of(0) } }, negative, `${n.name}/negative`);
  const away = part('away');
  emitBinary(n, 'mul', { v: n.imp.valueOf(negative)! }, { c: { kind: 'float', dims: [], data: Float32Array.of(2 ** 24) } }, away, `${n.name}/away`);
  const local = part('local');
  emitBinary(n, 'add', { v: plain }, { v: n.imp.valueOf(away)! }, local, `${n.name}/local`);
  reshapeTo(n, gatherAlong(n, rows, n.imp.valueOf(local)!, 0, 'picked'), [...idx.shape, ...rest], n.out);
}

/**
 * Slices of a 2-D value picked by an index per slice (data-dependent): rows (axis 0, [m, width]) or
 * columns (axis 1, [height, m]) of `data`, m the index's element count; a gather-elements of the
 * index spread over the other axis. An index out of range gives NaN.
 */
export function gatherAlong(n: NodeContext, data: Value, index: Value, axis: 0 | 1, tag: string): Value {
  const m = count(index.shape);
  const line = axis === 0 ? [m, 1] : [1, m];
  const outShape = axis === 0 ? [m, data.shape[1]] : [data.shape[0], m];
  const spread = n.imp.fresh(`${n.name}/${tag}:index`);
  n.imp.emit({ kind: 'expand', name: `${n.name}/${tag}:index`, inputs: [reshapeTo(n, index, line, n.imp.fresh(`${n.name}/${tag}:line`)).name], output: spread, inShape: line, outShape }, outShape, index.dtype);
  const picked = n.imp.fresh(`${n.name}/${tag}`);
  n.imp.emit({ kind: 'gather-elements', name: `${n.name}/${tag}`, inputs: [data.name, spread], output: picked, axis, inShape: data.shape, outShape }, outShape, data.dtype);
  return n.imp.valueOf(picked)!;
}

function gather(n: NodeContext): void {
  const offsets = n.imp.valueOf(n.ins[1] ?? '');
  if (offsets?.sampleOffset) return gatherRows(n, offsets);
  const table = n.constAt(0);
  if (!n.constAt(1) && table) return lookup(n, table);
  if (!n.constAt(1)) throw new NodeError(`indices ${quote(n.ins[1])} and data both come from the data; a Gather with computed indices is supported from a constant table (an embedding) only`);
  // A batch merged into another axis (Swin's windows·batch) stays there: only that axis is refused.
  const x = n.valueAnyBatch(0, 'data', true);
  const raw = n.a.int('axis', 0);
  const axis = n.axisOf(x, raw);
  const idx = n.constIn(1, 'indices');
  // Gathering before a moved batch axis shifts it by the indices' rank minus the axis it replaces.
  const b = n.batchAxis(x);
  const batchAt = b > 0 && normAxis(raw, n.rankOf(x)) < b ? b + idx.dims.length - 1 : Math.max(b, 0);
  const d = x.shape[axis];
  const indices = Int32Array.from(plainIntsOf(idx, 'indices'), (raw) => {
    const j = raw < 0 ? raw + d : raw;
    if (!Number.isInteger(j) || j < 0 || j >= d) throw new NodeError(`index ${raw} is out of range for a dimension of ${d}`);
    return j;
  });
  const outShape = [...x.shape.slice(0, axis), ...idx.dims, ...x.shape.slice(axis + 1)];
  const op: GatherOp = { kind: 'gather', name: n.name, inputs: [x.name], output: n.out, axis, indices, indicesShape: idx.dims, inShape: x.shape, outShape };
  n.imp.emit(op, outShape, x.dtype, batchAt, x.merged);
}

/** Expand's target shape: numbers, with the batch (a batched import) at the activations' axis 0. */
function expandTarget(n: NodeContext, rank: number): number[] {
  const shape = intsOf(n.constIn(1, 'shape'));
  if (!n.imp.batched) return plainIntsOf(n.constIn(1, 'shape'), 'shape');
  // Right-aligned against the full rank: the entry over the batch must be 1, the batch, or the declared batch.
  const full = Math.max(rank + 1, shape.length);
  if (shape.length > rank + 1 && shape.slice(0, shape.length - rank - 1).some((d) => d !== 1)) {
    throw new NodeError(`shape ${showDims(shape)} has more dims than the input; they would come before the batch dimension`);
  }
  const padded = [...new Array<number>(full - shape.length).fill(1), ...shape].slice(full - rank - 1);
  const b = padded[0];
  if (!(b === 1 || (isBatchDim(b) && b.k === 1) || b === n.imp.declaredBatch)) throw new NodeError(`shape ${showDims(shape)} changes the batch dimension`);
  return padded.slice(1).map((d) => {
    if (isBatchDim(d)) throw new NodeError(`shape ${showDims(shape)} moves the batch size away from the first dimension`);
    return d;
  });
}

/**
 * A constant broadcast to `target` (ONNX dims, one of them the batch, not first): every sample is the
 * constant broadcast to the other dims, the batch at that ONNX axis (a learned RNN initial state,
 * `h0.expand(layers, batch, H)` or `h0.repeat(1, batch, 1)`); false when the batch is not one dim of
 * its own over a 1 of the constant, or (unless `first`) is the first dim. With `declared` (Expand,
 * whose target replaces the dim), the constant's dim there may also be a static export's declared
 * batch with every slice alike (uniformAlong); a Tile would multiply it instead.
 */
export function constantToMovedBatch(n: NodeContext, c: Const, target: readonly Dim[], out: string, first = false, declared = false): boolean {
  const at = target.findIndex(isBatchDim);
  const b = target[at];
  if (!n.imp.batched || at < (first ? 0 : 1) || !isBatchDim(b) || b.k !== 1 || target.filter(isBatchDim).length !== 1 || c.dims.length > target.length) return false;
  const padded = { ...c, dims: [...new Array<number>(target.length - c.dims.length).fill(1), ...c.dims] } as Const;
  const one = padded.dims[at] === 1 ? padded : declared ? uniformAlong(padded, at, n.imp.declaredBatch) : null;
  if (!one) return false;
  const per = foldExpand({ ...one, dims: one.dims.filter((_, i) => i !== at) } as Const, target.filter((_, i) => i !== at) as number[]);
  n.constValue(per, per.dims, 'expanded', out, per.kind === 'int' ? 'int' : 'float', at);
  return true;
}

function expand(n: NodeContext): void {
  const c = n.constAt(0);
  if (c && constantToMovedBatch(n, c, intsOf(n.constIn(1, 'shape')), n.out, false, true)) return;
  if (c) {
    // A constant expanded to the batch: every sample is the constant expanded to the other dims. The
    // output's rank is the larger of the two (a [C] class token expanded to [batch, 1] is [batch, C]).
    const target = expandTarget(n, Math.max(c.dims.length, n.constIn(1, 'shape').dims[0] ?? 0, 1) - 1);
    if (c.dims.length > target.length + 1 || (c.dims.length === target.length + 1 && c.dims[0] !== 1)) {
      throw new NodeError(`constant of dims [${c.dims.join(', ')}] does not broadcast to the batch`);
    }
    const per = c.dims.length === target.length + 1 ? { ...c, dims: c.dims.slice(1) } : c;
    const e = foldExpand(per as Const, target);
    n.constValue(e, e.dims, 'expanded', n.out);
    return;
  }
  const x = n.value(0, 'input');
  const target = expandTarget(n, x.shape.length);
  const outShape = broadcastTo(x.shape, target);
  n.imp.emit({ kind: 'expand', name: n.name, inputs: [x.name], output: n.out, inShape: x.shape, outShape }, outShape, x.dtype);
}

function broadcastTo(shape: readonly number[], target: readonly number[]): number[] {
  const r = Math.max(shape.length, target.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const a = shape[shape.length - r + i] ?? 1;
    const t = target[target.length - r + i] ?? 1;
    if (a !== t && a !== 1 && t !== 1) throw new NodeError(`[${shape.join(', ')}] does not broadcast to [${target.join(', ')}]`);
    out.push(a === 1 ? t : a);
  }
  return out;
}

function foldExpandNode(n: NodeContext): Const | null {
  const shape = intsOf(n.constIn(1, 'shape'));
  if (shape.some(isBatchDim)) return null;
  return foldExpand(n.constIn(0, 'input'), plainIntsOf(n.constIn(1, 'shape'), 'shape'));
}

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;

function pad(n: NodeContext): void {
  const x = n.value(0, 'data');
  const mode = n.a.str('mode', 'constant');
  const allowed = n.opset >= 19 ? PAD_MODES : PAD_MODES.slice(0, 3);
  if (!(allowed as readonly string[]).includes(mode)) throw new NodeError(`attribute "mode" is ${quote(mode)}; allowed: ${allowed.map((m) => quote(m)).join(', ')}`);
  const full = x.shape.length + n.lead;
  let raw: number[];
  let value = 0;
  let axes = Array.from({ length: full }, (_, i) => i);
  if (n.opset < 11) {
    raw = n.a.ints('pads', null) ?? [];
    value = n.a.float('value', 0);
  } else {
    raw = plainIntsOf(n.constIn(1, 'pads'), 'pads');
    const v = n.optConst(2, 'constant_value');
    if (v && count(v.dims) > 0) value = n.scalar(v, 'constant_value');
    const ax = n.opset >= 18 ? n.optConst(3, 'axes') : null;
    if (ax) axes = plainIntsOf(ax, 'axes').map((a) => normAxis(a, full));
  }
  if (raw.length !== 2 * axes.length) throw new NodeError(`pads has ${raw.length} entries for ${axes.length} axes (needs ${2 * axes.length})`);
  const rank = x.shape.length;
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, i) => {
    const [b, e] = [raw[i], raw[axes.length + i]];
    if (n.lead && a === 0) {
      if (b !== 0 || e !== 0) throw new NodeError(`pads the batch dimension ([${b}, ${e}]); it must be 0`);
      return;
    }
    pads[a - n.lead] = b;
    pads[rank + a - n.lead] = e;
  });
  const outShape = x.shape.map((d, i) => d + pads[i] + pads[rank + i]);
  if (outShape.some((d) => d < 0)) throw new NodeError(`pads [${raw.join(', ')}] crop more than the input [${x.shape.join(', ')}] holds`);
  if (mode === 'reflect' && x.shape.some((d, i) => (pads[i] > 0 || pads[rank + i] > 0) && (pads[i] >= d || pads[rank + i] >= d))) {
    throw new NodeError(`reflect pads [${raw.join(', ')}] must be smaller than the dims they pad ([${x.shape.join(', ')}])`);
  }
  if (mode !== 'constant' && x.shape.some((d, i) => d === 0 && (pads[i] > 0 || pads[rank + i] > 0))) throw new NodeError(`${mode} padding of an empty dim`);
  const op: PadOp = { kind: 'pad', name: n.name, inputs: [x.name], output: n.out, mode: mode as PadOp['mode'], pads, value, inShape: x.shape, outShape };
  n.imp.emit(op, outShape, x.dtype);
}

/** NonZero of a constant (torch.arange at opset 9 exports as NonZero of ones): the [rank, count] coordinates of its nonzero elements, row-major. */
function foldNonZero(n: NodeContext): Const | null {
  const c = n.constIn(0, 'X');
  if (c.data.some((v) => typeof v !== 'number')) return null;
  const strides = c.dims.map((_, i) => count(c.dims.slice(i + 1)));
  const hits: number[] = [];
  for (let i = 0; i < c.data.length; i++) if ((c.data[i] as number) !== 0) hits.push(i);
  const data = c.dims.flatMap((d, axis) => hits.map((i) => Math.floor(i / strides[axis]) % d));
  return { kind: 'int', dims: [c.dims.length, hits.length], data };
}

/** GatherElements of constants: out[c] = data[c with c[axis] = indices[c]]. */
function foldGatherElements(n: NodeContext): Const | null {
  const [data, ind] = [n.constIn(0, 'data'), n.constIn(1, 'indices')];
  if (data.dims.length !== ind.dims.length) throw new NodeError(`data has rank ${data.dims.length} and indices ${ind.dims.length}; they must match`);
  const axis = normAxis(n.a.int('axis', 0), data.dims.length);
  const L = data.dims[axis];
  const idx = plainIntsOf(ind, 'indices');
  const src = floatsOf(data, 'data');
  const [inStrides, outStrides] = [rowMajorStrides(data.dims), rowMajorStrides(ind.dims)];
  const out = idx.map((raw, i) => {
    const j = raw < 0 ? raw + L : raw;
    if (!Number.isInteger(j) || j < 0 || j >= L) throw new NodeError(`index ${raw} is out of range for an axis of ${L}`);
    let rem = i;
    let at = 0;
    outStrides.forEach((stride, d) => {
      const c = Math.floor(rem / stride);
      rem %= stride;
      at += (d === axis ? j : c) * inStrides[d];
    });
    return src[at];
  });
  return data.kind === 'float' ? { kind: 'float', dims: [...ind.dims], data: Float32Array.from(out) } : { kind: 'int', dims: [...ind.dims], data: out };
}

/**
 * GatherElements of activations (torch.gather(x, dim, index), index from the data or a constant):
 * the IR's gather-elements along a per-sample axis.
 */
function gatherElements(n: NodeContext): void {
  const act = n.imp.valueOf(n.ins[0] ?? '') ?? n.imp.valueOf(n.ins[1] ?? '');
  if (!act) throw new NodeError('data and indices are both missing');
  const full = act.shape.length + n.lead;
  const x = n.operand(0, full, 'data');
  const idx = n.operand(1, full, 'indices');
  if (x.batchAt || idx.batchAt) throw new NodeError('an input has the batch dimension other than first; GatherElements needs it first');
  if (x.shape.length !== idx.shape.length) throw new NodeError(`data has per-sample shape [${x.shape.join(', ')}] and indices [${idx.shape.join(', ')}]; their ranks must match`);
  const axis = n.sampleAxis(n.a.int('axis', 0), x.shape.length);
  const wide = idx.shape.findIndex((d, i) => i !== axis && d > x.shape[i]);
  if (wide >= 0) throw new NodeError(`indices [${idx.shape.join(', ')}] are longer than data [${x.shape.join(', ')}] in dim ${wide + n.lead} (only the gathered axis may differ)`);
  n.imp.emit({ kind: 'gather-elements', name: n.name, inputs: [x.name, idx.name], output: n.out, axis, inShape: [...x.shape], outShape: [...idx.shape] }, [...idx.shape], x.dtype);
}

/** Trilu's kept elements of an [r, c] matrix: on and above diagonal k (upper), or on and below it. */
function triluMask(n: NodeContext, r: number, c: number): Uint8Array {
  const k = n.ins[1] ? n.scalar(n.constIn(1, 'k'), 'k') : 0;
  const upper = n.a.int('upper', 1) !== 0;
  return Uint8Array.from({ length: r * c }, (_, p) => {
    const d = (p % c) - Math.floor(p / c);
    return (upper ? d >= k : d <= k) ? 1 : 0;
  });
}

/** Trilu of a constant (torch.triu(torch.ones(T, T)) in forward()). */
function foldTrilu(n: NodeContext): Const | null {
  const x = n.constIn(0, 'input');
  if (x.dims.length < 2) throw new NodeError(`input has dims [${x.dims.join(', ')}]; Trilu needs at least 2`);
  const [r, c] = x.dims.slice(-2);
  const keep = triluMask(n, r, c);
  const f = floatsOf(x, 'input');
  const data = Array.from(f, (v, i) => (keep[i % (r * c)] ? v : 0));
  return x.kind === 'float' ? { kind: 'float', dims: x.dims, data: Float32Array.from(data) } : { kind: 'int', dims: x.dims, data };
}

/** Trilu of an activation (torch.tril(scores)): a select with a constant mask over its last two per-sample dims. */
function trilu(n: NodeContext): void {
  const x = n.value(0, 'input');
  if (x.shape.length < 2) throw new NodeError(`input has per-sample shape [${x.shape.join(', ')}]; Trilu needs two matrix dims besides the batch`);
  const [r, c] = x.shape.slice(-2);
  const mask = n.constValue({ kind: 'float', dims: [r, c], data: Float32Array.from(triluMask(n, r, c)) }, [r, c], 'mask', undefined, 'bool');
  const zero = n.constValue({ kind: 'float', dims: [1], data: Float32Array.of(0) }, [1], 'zero', undefined, x.dtype);
  n.imp.emit({ kind: 'where', name: n.name, inputs: [mask.name, x.name, zero.name], output: n.out, condShape: [r, c], xShape: x.shape, yShape: [1], outShape: [...x.shape] }, [...x.shape], x.dtype);
}

/** Slicing, gathering, expanding and padding ops by ONNX op type. */
/**
 * GatherND whose batch dims are the batch (batch_dims 1 in a batched import: torch.diagonal,
 * advanced indexing): per sample, each index tuple [q] of indices [..., q] picks the slice of data
 * at those leading coordinates (a negative one counts from the end). The tuples become row numbers
 * of data viewed as [rows, slice] and one gather-elements reads them; out of range gives NaN.
 */
function gatherND(n: NodeContext): void {
  const x = n.value(0, 'data');
  const batchDims = n.a.int('batch_dims', 0);
  if (batchDims !== n.lead) throw new NodeError(`batch_dims is ${batchDims}; only ${n.lead}${n.lead ? ' (the batch, which each sample gathers within)' : ''} is supported`);
  const c = n.constAt(1);
  const idx = n.operand(1, c ? c.dims.length : 0, 'indices');
  const q = idx.shape[idx.shape.length - 1] ?? 0;
  if (idx.shape.length === 0 || q < 1 || q > x.shape.length) throw new NodeError(`indices have per-sample shape [${idx.shape.join(', ')}]; their last dim must be 1 … ${x.shape.length} (data's per-sample rank)`);
  const lead = idx.shape.slice(0, -1);
  const [m, width] = [count(lead), count(x.shape.slice(q))];
  const strides = rowMajorStrides(x.shape.slice(0, q));
  const part = (what: string): string => n.imp.fresh(`${n.name}/${what}`);
  const tuples = reshapeTo(n, idx, [m, q], part('tuples'));
  const scalar = (v: number): { c: Const } => ({ c: { kind: 'float', dims: [], data: Float32Array.of(v) } });
  let row: Value | null = null;
  for (let t = 0; t < q; t++) {
    const col = part(`coordinate${t}`);
    n.imp.emit({ kind: 'gather', name: `${n.name}/coordinate${t}`, inputs: [tuples.name], output: col, axis: 1, indices: Int32Array.of(t), indicesShape: [], inShape: [m, q], outShape: [m] }, [m], idx.dtype);
    // i + d·(i < 0): a negative coordinate counts from the end of its axis.
    const negative = part(`negative${t}`);
    emitBinary(n, 'less', { v: n.imp.valueOf(col)! }, scalar(0), negative, `${n.name}/negative${t}`);
    const wrap = part(`wrap${t}`);
    emitBinary(n, 'mul', { v: n.imp.valueOf(negative)! }, scalar(x.shape[t]), wrap, `${n.name}/wrap${t}`);
    const coord = part(`coord${t}`);
    emitBinary(n, 'add', { v: n.imp.valueOf(col)! }, { v: n.imp.valueOf(wrap)! }, coord, `${n.name}/coord${t}`);
    const scaled = part(`scaled${t}`);
    emitBinary(n, 'mul', { v: n.imp.valueOf(coord)! }, scalar(strides[t]), scaled, `${n.name}/scaled${t}`);
    if (!row) row = n.imp.valueOf(scaled)!;
    else {
      const sum = part(`row${t}`);
      emitBinary(n, 'add', { v: row }, { v: n.imp.valueOf(scaled)! }, sum, `${n.name}/row${t}`);
      row = n.imp.valueOf(sum)!;
    }
  }
  const rows = reshapeTo(n, x, [count(x.shape.slice(0, q)), width], part('rows'));
  reshapeTo(n, gatherAlong(n, rows, row!, 0, 'picked'), [...lead, ...x.shape.slice(q)], n.out);
}

/** The kept positions of Compress's condition (constant: a condition from the data would size the output by the data). */
function compressIndices(n: NodeContext, extent: number): Const {
  const c = n.constAt(1);
  if (!c) throw new NodeError(`condition ${quote(n.ins[1])} comes from the data; Compress with a computed condition sizes its output by the data, which is not supported (a constant condition is)`);
  if (c.dims.length !== 1) throw new NodeError(`condition has dims [${c.dims.join(', ')}]; it must be 1-D`);
  const keep = floatsOf(c, 'condition');
  if (keep.length > extent) throw new NodeError(`condition has ${keep.length} entries for an axis of ${extent}`);
  const idx: number[] = [];
  keep.forEach((v, i) => v !== 0 && idx.push(i));
  return { kind: 'int', dims: [idx.length], data: idx };
}

/** Compress along `axis` with a constant condition: the Gather of the kept indices (tf2onnx's boolean_mask). */
function compress(n: NodeContext): void {
  const axis = n.a.int('axis', Number.NaN);
  if (Number.isNaN(axis)) throw new NodeError('has no "axis": it would flatten the input, across samples; only Compress along an axis is supported');
  const x = n.value(0, 'input');
  const a = normAxis(axis, x.shape.length + (n.imp.batched ? 1 : 0));
  if (n.imp.batched && a === 0) throw new NodeError(`axis ${axis} is the batch dimension; Compress across samples is not supported`);
  const extent = n.imp.batched ? x.shape[a - 1] : x.shape[a];
  const e = new Expansion(n);
  e.finish([e.op('Gather', [n.ins[0], e.const(compressIndices(n, extent), 'kept')], 'compressed', [intAttr('axis', axis)])]);
}

function foldCompress(n: NodeContext): Const | null {
  const x = n.constIn(0, 'input');
  const axis = n.a.int('axis', Number.NaN);
  const flat = Number.isNaN(axis);
  const data = flat ? { ...x, dims: [count(x.dims)] } as Const : x;
  const a = flat ? 0 : normAxis(axis, x.dims.length);
  return foldGather(data, compressIndices(n, data.dims[a]), a);
}

export const GATHER_OPS: OpTable = {
  Compress: { activation: compress, fold: foldCompress },
  Slice: { activation: slice, fold: foldSliceNode },
  Gather: { activation: gather, fold: (n) => foldGather(n.constIn(0, 'input 0'), n.constIn(1, 'input 1'), n.a.int('axis', 0)) },
  Expand: { activation: expand, fold: foldExpandNode, constInputs: true },
  Pad: { activation: pad },
  NonZero: { fold: foldNonZero },
  Trilu: { activation: trilu, fold: foldTrilu },
  GatherElements: { activation: gatherElements, fold: foldGatherElements },
  GatherND: { activation: gatherND },
};
