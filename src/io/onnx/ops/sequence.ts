/**
 * ONNX sequences (SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase, SequenceAt,
 * SequenceLength, SplitToSequence, ConcatFromSequence): PyTorch exports a list built in a loop
 * (torch.tensor_split, a scripted `outs.append(h)`) as one. A sequence exists at import only, as the
 * list of its tensors' names, so every position must be a constant; the tensors themselves are
 * activations or constants like any other, and ConcatFromSequence or SplitToSequence expand into
 * the Concat, Unsqueeze, Split and Squeeze nodes they are defined by.
 */
import type { onnx } from 'onnx-proto';
import { normAxis, plainIntsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { AttrType, quote } from '../proto.ts';

/** Input `i` as a sequence. */
function seqIn(n: NodeContext, i: number): readonly string[] {
  const s = n.imp.seqOf(n.ins[i] ?? '');
  if (!s) throw new NodeError(`input ${quote(n.ins[i])} is not a sequence (SequenceEmpty, SequenceConstruct, SplitToSequence or a Loop makes one)`);
  return s;
}

/** Constant position input `i` in [−length − extra, length + extra − 1], made non-negative; `def` when absent. */
function position(n: NodeContext, i: number, length: number, extra: number, def: number): number {
  const c = n.optConst(i, 'position');
  if (!c) return def;
  const [p] = plainIntsOf(c, 'position');
  const hi = length + extra;
  if (!(p >= -hi && p < hi)) throw new NodeError(`position ${p} is outside [${-hi}, ${hi - 1}] for a sequence of ${length}`);
  return p < 0 ? p + hi : p;
}

function insert(n: NodeContext): void {
  const s = seqIn(n, 0);
  if (!n.ins[1]) throw new NodeError('tensor (input 1) is missing');
  const at = position(n, 2, s.length, 1, s.length);
  n.imp.setSeq(n.out, [...s.slice(0, at), n.ins[1], ...s.slice(at)]);
}

function erase(n: NodeContext): void {
  const s = seqIn(n, 0);
  if (s.length === 0) throw new NodeError('erases from an empty sequence');
  const at = position(n, 1, s.length, 0, s.length - 1);
  n.imp.setSeq(n.out, s.filter((_, i) => i !== at));
}

function at(n: NodeContext): void {
  const s = seqIn(n, 0);
  if (s.length === 0) throw new NodeError('reads from an empty sequence');
  if (!n.ins[1]) throw new NodeError('position (input 1) is missing');
  n.imp.bind(n.out, s[position(n, 1, s.length, 0, 0)]);
}

/** Imports `nodes` (made here, not read from the file) in place of node `n`; `outs[i]` becomes a name of `results[i]`. */
function expand(n: NodeContext, nodes: onnx.INodeProto[], results: readonly string[], outs: readonly string[]): void {
  n.imp.inline({ node: nodes, output: results.map((name) => ({ name })) }, outs, n.where, `${n.name}/`, true);
}

/** An axes operand of Unsqueeze or Squeeze: an input from opset 13, an attribute before. */
function withAxes(n: NodeContext, op: string, name: string, x: string, out: string, axes: number[]): onnx.INodeProto {
  if (n.opset < 13) return { opType: op, name, input: [x], output: [out], attribute: [{ name: 'axes', type: AttrType.INTS, ints: axes }] };
  const c = n.imp.fresh(`${name}/axes`);
  n.imp.setConst(c, { kind: 'int', dims: [axes.length], data: axes });
  return { opType: op, name, input: [x, c], output: [out] };
}

/**
 * Writes to `out` the tensors `items` concatenated along `axis`, or stacked along a new axis
 * there (ConcatFromSequence's new_axis; a Loop's scan outputs): Concat of the Unsqueezed tensors.
 */
export function concatItems(n: NodeContext, items: readonly string[], axis: number, newAxis: boolean, out: string): void {
  if (items.length === 0) throw new NodeError('concatenates an empty sequence, whose shape is unknown');
  const nodes: onnx.INodeProto[] = [];
  const parts = newAxis
    ? items.map((x, i) => {
        const u = n.imp.fresh(`${n.name}/unsqueeze${i}`);
        nodes.push(withAxes(n, 'Unsqueeze', `${n.name}/unsqueeze${i}`, x, u, [axis]));
        return u;
      })
    : items;
  const result = n.imp.fresh(`${n.name}/concat`);
  nodes.push({ opType: 'Concat', name: `${n.name}/concat`, input: [...parts], output: [result], attribute: [{ name: 'axis', type: AttrType.INT, i: axis }] });
  expand(n, nodes, [result], [out]);
}

function concatFromSequence(n: NodeContext): void {
  if (!n.a.has('axis')) throw new NodeError('attribute "axis" is missing');
  const newAxis = n.a.int('new_axis', 0);
  if (newAxis !== 0 && newAxis !== 1) throw new NodeError(`new_axis is ${newAxis}; 0 or 1 is allowed`);
  concatItems(n, seqIn(n, 0), n.a.int('axis', 0), newAxis === 1, n.out);
}

/** The extent of input 0 along ONNX `axis`, with the axis made non-negative. */
function extent(n: NodeContext, axis: number): { axis: number; size: number } {
  const c = n.constAt(0);
  if (c) {
    const ax = normAxis(axis, c.dims.length);
    return { axis: ax, size: c.dims[ax] };
  }
  const v = n.valueAnyBatch(0, 'input');
  const ax = normAxis(axis, n.rankOf(v));
  return { axis: ax, size: v.shape[n.axisOf(v, ax)] };
}

/** SplitToSequence: parts of the given sizes, of one size (the last smaller), or of 1 (squeezed unless keepdims). */
function splitToSequence(n: NodeContext): void {
  const { axis, size } = extent(n, n.a.int('axis', 0));
  const given = n.optConst(1, 'split');
  let sizes: number[];
  if (!given) sizes = new Array<number>(size).fill(1);
  else if (given.dims.length === 0) {
    const [k] = plainIntsOf(given, 'split');
    if (!(k > 0)) throw new NodeError(`split ${k} must be positive`);
    sizes = Array.from({ length: Math.ceil(size / k) }, (_, i) => Math.min(k, size - i * k));
  } else {
    sizes = plainIntsOf(given, 'split');
    if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== size) throw new NodeError(`split [${sizes.join(', ')}] does not cut an axis of ${size}`);
  }
  if (sizes.length === 0) return n.imp.setSeq(n.out, []);
  // keepdims counts without a split list, as in onnxruntime (which PyTorch's unbind export, a scalar
  // split of 1 with keepdims 0, relies on); the spec says a split input of any kind overrides it.
  const squeeze = given?.dims.length !== 1 && n.a.int('keepdims', 1) === 0;
  if (squeeze && sizes.some((s) => s !== 1)) throw new NodeError(`keepdims 0 drops the split axis, which needs parts of 1, but they are [${sizes.join(', ')}]`);
  const parts = sizes.map((_, i) => n.imp.fresh(`${n.name}/part${i}`));
  const attribute = [{ name: 'axis', type: AttrType.INT, i: axis }];
  let split: onnx.INodeProto;
  if (n.opset < 13) split = { opType: 'Split', name: `${n.name}/split`, input: [n.ins[0]], output: parts, attribute: [...attribute, { name: 'split', type: AttrType.INTS, ints: sizes }] };
  else {
    const c = n.imp.fresh(`${n.name}/sizes`);
    n.imp.setConst(c, { kind: 'int', dims: [sizes.length], data: sizes });
    split = { opType: 'Split', name: `${n.name}/split`, input: [n.ins[0], c], output: parts, attribute };
  }
  const nodes = [split];
  const items = squeeze
    ? parts.map((p, i) => {
        const q = n.imp.fresh(`${n.name}/squeeze${i}`);
        nodes.push(withAxes(n, 'Squeeze', `${n.name}/squeeze${i}`, p, q, [axis]));
        return q;
      })
    : parts;
  expand(n, nodes, [], []);
  n.imp.setSeq(n.out, items);
}

/** Sequence ops by ONNX op type. */
export const SEQUENCE_OPS: OpTable = {
  SequenceEmpty: { always: (n) => n.imp.setSeq(n.out, []) },
  SequenceConstruct: { always: (n) => n.imp.setSeq(n.out, n.ins.filter((x) => x)) },
  SequenceInsert: { always: insert },
  SequenceErase: { always: erase },
  SequenceAt: { always: at },
  SequenceLength: { always: (n) => n.imp.setConst(n.out, { kind: 'int', dims: [], data: [seqIn(n, 0).length] }) },
  SplitToSequence: { always: splitToSequence },
  ConcatFromSequence: { always: concatFromSequence },
};
