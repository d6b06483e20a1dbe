/**
 * Ops imported by expanding them into the ONNX nodes they are defined by (a function op's body, with
 * its shapes known): the node list with fresh value names, constants set directly, and the import of
 * the list in the node's place.
 */
import type { onnx } from 'onnx-proto';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext } from '../node.ts';
import { AttrType } from '../proto.ts';

/** ONNX dims of input `i`, the batch as null in a batched import. */
export function dimsOf(n: NodeContext, i: number, what: string): (number | null)[] {
  const c = n.constAt(i);
  if (c) return [...c.dims];
  const v = n.value(i, what);
  return n.imp.batched ? [null, ...v.shape] : [...v.shape];
}

/** A static dim (every dim but the batch is). */
export function dim(d: (number | null)[], axis: number, what: string): number {
  const v = d[axis];
  if (v === null || v === undefined) throw new NodeError(`${what} has no static size`);
  return v;
}

/** An INT attribute, and a FLOAT one, for a node of an expansion. */
export const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: AttrType.INT, i });
export const floatAttr = (name: string, f: number): onnx.IAttributeProto => ({ name, type: AttrType.FLOAT, f });

/** The attributes a Conv takes, which ops that wrap one (QLinearConv, ConvInteger, FusedConv) pass on. */
export const CONV_ATTRIBUTES: readonly string[] = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

/** The node's own attributes of these names, where given, to pass on to a node of its expansion. */
export function copied(n: NodeContext, names: readonly string[]): onnx.IAttributeProto[] {
  return names.flatMap((a) => n.a.raw(a) ?? []);
}

/** The node list being built, with fresh names for its values and constants. */
export class Expansion {
  readonly nodes: onnx.INodeProto[] = [];
  constructor(private readonly n: NodeContext) {}

  /** Adds a node and returns its (fresh) output. */
  op(opType: string, inputs: string[], what: string, attrs: onnx.IAttributeProto[] = []): string {
    return this.ops(opType, inputs, what, [''], attrs)[0];
  }

  /** Adds a node (of `domain`, default the ONNX one) with one output per entry of `outputs` (suffixes of `what`) and returns them. */
  ops(opType: string, inputs: string[], what: string, outputs: string[], attrs: onnx.IAttributeProto[] = [], domain = ''): string[] {
    const outs = outputs.map((o) => this.n.imp.fresh(`${this.n.out}/${what}${o ? `/${o}` : ''}`));
    this.nodes.push({ opType, name: `${this.n.name}/${what}`, input: inputs, output: outs, attribute: attrs, ...(domain ? { domain } : {}) });
    return outs;
  }

  const(c: Const, what: string): string {
    const name = this.n.imp.fresh(`${this.n.name}/${what}`);
    this.n.imp.setConst(name, c);
    return name;
  }

  ints(data: number[], what: string): string {
    return this.const({ kind: 'int', dims: [data.length], data }, what);
  }

  scalar(v: number, what: string): string {
    return this.const({ kind: 'float', dims: [], data: Float32Array.of(v) }, what);
  }

  transpose(x: string, perm: number[], what: string): string {
    return this.op('Transpose', [x], what, [{ name: 'perm', type: AttrType.INTS, ints: perm }]);
  }

  /** `x[..., start:end:step]` along `axis`: the bounds inputs from opset 10 on, attributes (and no step) before. */
  slice(x: string, axis: number, start: number, end: number, what: string, step = 1): string {
    if (this.n.opset < 10) {
      if (step !== 1) throw new NodeError(`needs a strided Slice, which opset ${this.n.opset} lacks (Slice has steps from opset 10)`);
      return this.op('Slice', [x], what, [{ name: 'starts', type: AttrType.INTS, ints: [start] }, { name: 'ends', type: AttrType.INTS, ints: [end] }, { name: 'axes', type: AttrType.INTS, ints: [axis] }]);
    }
    return this.op('Slice', [x, this.ints([start], `${what}/start`), this.ints([end], `${what}/end`), this.ints([axis], `${what}/axis`), this.ints([step], `${what}/step`)], what);
  }

  /** Unsqueeze at `axes`, the axes an input from opset 13 on and an attribute before. */
  unsqueeze(x: string, axes: number[], what: string): string {
    return this.n.opset >= 13 ? this.op('Unsqueeze', [x, this.ints(axes, `${what}/axes`)], what) : this.op('Unsqueeze', [x], what, [{ name: 'axes', type: AttrType.INTS, ints: axes }]);
  }

  /** A reduction over `axes`, the axes an input from the opset that made them one (13 for ReduceSum, 18 for the others). */
  reduce(op: string, x: string, axes: number[], keepDims: boolean, what: string): string {
    const keep = intAttr('keepdims', keepDims ? 1 : 0);
    return this.n.opset >= (op === 'ReduceSum' ? 13 : 18)
      ? this.op(op, [x, this.ints(axes, `${what}/axes`)], what, [keep])
      : this.op(op, [x], what, [{ name: 'axes', type: AttrType.INTS, ints: axes }, keep]);
  }

  /** Clip to [lo, hi], the bounds inputs from opset 11 on and attributes before. */
  clip(x: string, lo: number, hi: number, what: string): string {
    return this.n.opset >= 11
      ? this.op('Clip', [x, this.scalar(lo, `${what}/min`), this.scalar(hi, `${what}/max`)], what)
      : this.op('Clip', [x], what, [floatAttr('min', lo), floatAttr('max', hi)]);
  }

  concat(parts: string[], axis: number, what: string): string {
    return this.op('Concat', parts, what, [intAttr('axis', axis)]);
  }

  /** Imports the nodes in place of the node, its outputs the values `results` names (null: an output left undefined, which nothing may read). */
  finish(results: readonly (string | null)[]): void {
    const pairs = this.n.outs.map((o, i) => [results[i] ?? null, o] as const).filter((p): p is readonly [string, string] => p[0] !== null);
    this.n.imp.inline({ node: this.nodes, output: pairs.map(([name]) => ({ name })) }, pairs.map(([, o]) => o), this.n.where, `${this.n.name}/`, true);
  }
}

