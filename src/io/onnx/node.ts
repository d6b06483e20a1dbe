/**
 * What an op importer sees of one ONNX node and of the graph imported so far: typed inputs
 * (activations with their per-sample shapes, constants), attributes, and the ways to emit IR ops or
 * fold into earlier ones. The op table (ops/index.ts) maps each ONNX op type to functions of it.
 */
import type { onnx } from 'onnx-proto';
import type { ConvOp, LinearOp, NetOp } from '../../ir/graph.ts';
import { Attrs } from './attrs.ts';
import { count, floatsOf, plainIntsOf } from './consts.ts';
import type { Const } from './consts.ts';
import { quote } from './proto.ts';

/** Thrown by an op importer; the importer turns it into a UsageError naming the file and node. */
export class NodeError extends Error {}

/** A matrix op that BatchNormalization and bias Adds may fold into. */
export type MatrixOp = LinearOp | ConvOp;

/** The graph state an op importer reads and extends (implemented by the importer). */
export interface ImportState {
  /** Opset of the default ONNX domain. */
  readonly opset: number;
  /** The graph input's first dim when it is a number: a Reshape target may spell the batch that way. */
  readonly declaredBatch: number | null;
  constOf(name: string): Const | undefined;
  setConst(name: string, c: Const): void;
  /** Per-sample shape of an activation; undefined for constants and unknown names. */
  shapeOf(name: string): number[] | undefined;
  /** The name a value is known by after Identity/Dropout aliasing. */
  resolved(name: string): string;
  /** How many node inputs and graph outputs read the value. */
  usesOf(name: string): number;
  /** Decodes a TensorProto read from the file; `where` prefixes errors. */
  tensor(t: onnx.ITensorProto, where: string): Const;
  emit(op: NetOp, shape: number[]): void;
  /** The matrix op producing `value` when only one reader (the folding node) sees it. */
  foldTarget(value: string): MatrixOp | null;
  /** Makes a folded matrix op write the folding node's output instead of its own. */
  renameOutput(op: MatrixOp, to: string): void;
}

/** One node being imported. */
export class NodeContext {
  readonly a: Attrs;
  readonly op: string;
  readonly ins: string[];
  readonly outs: string[];

  constructor(
    readonly imp: ImportState,
    node: onnx.INodeProto,
    /** Node name (or `<op_type>_<index>`): the IR op's name. */
    readonly name: string,
    /** `file: node "name" (Op)`: prefixes messages that do not go through NodeError. */
    readonly where: string,
  ) {
    this.a = new Attrs(node, where);
    this.op = node.opType ?? '';
    this.ins = [...(node.input ?? [])];
    this.outs = [...(node.output ?? [])];
  }

  get opset(): number {
    return this.imp.opset;
  }

  /** The node's first output. */
  get out(): string {
    const o = this.outs[0];
    if (!o) throw new NodeError('has no output');
    return o;
  }

  /** An activation input: its resolved name and per-sample shape. */
  value(i: number, what = 'input'): { name: string; shape: number[] } {
    const x = this.ins[i];
    if (!x) throw new NodeError(`${what} ${i} is missing`);
    const shape = this.imp.shapeOf(x);
    if (!shape) throw new NodeError(`${what} ${quote(x)} must be an activation, not a constant`);
    return { name: this.imp.resolved(x), shape };
  }

  /** The constant at input `i`, if that input is present and constant. */
  constAt(i: number): Const | undefined {
    return this.imp.constOf(this.ins[i] ?? '');
  }

  /** A constant input, or null when the optional input is absent. */
  optConst(i: number, what: string): Const | null {
    const x = this.ins[i];
    if (!x) return null;
    const c = this.imp.constOf(x);
    if (!c) throw new NodeError(`${what} ${quote(x)} must be a constant (an initializer or Constant output), not an activation`);
    return c;
  }

  /** A required constant input. */
  constIn(i: number, what: string): Const {
    const c = this.optConst(i, what);
    if (!c) throw new NodeError(`${what} (input ${i}) is missing`);
    return c;
  }

  /** The op's extra outputs (BatchNorm statistics, MaxPool indices, Dropout mask) must be unused. */
  requireUnusedExtraOutputs(what: string): void {
    for (const o of this.outs.slice(1)) {
      if (o && this.imp.usesOf(o) > 0) throw new NodeError(`its ${what} output ${quote(o)} is used, which is not supported`);
    }
  }

  /** A one-element constant as a number. */
  scalar(c: Const, what: string): number {
    if (count(c.dims) !== 1) throw new NodeError(`${what} must be a scalar, has dims [${c.dims.join(', ')}]`);
    return floatsOf(c, what)[0];
  }

  /** Axes from the attribute (before `inputFrom`) or the optional input 1 (from `inputFrom` on). */
  axesArg(inputFrom: number): number[] | null {
    if (this.opset >= inputFrom) {
      const c = this.optConst(1, 'axes');
      return c ? plainIntsOf(c, 'axes') : null;
    }
    return this.a.ints('axes', null);
  }

  /** A 2-entry INTS attribute (2-D window ops). */
  pair(name: string, def: number): [number, number] {
    const v = this.a.ints(name, [def, def]);
    if (v.length !== 2) throw new NodeError(`attribute ${quote(name)} has ${v.length} entries; only 2-D (NCHW) is supported`);
    return [v[0], v[1]];
  }
}

/**
 * How one ONNX op type is imported. A node whose present inputs are all constants is folded with
 * `fold`; otherwise `activation` imports it; `always` runs instead of both, whatever the inputs.
 */
export interface OpImporter {
  /** Evaluates the op on constant inputs (shape computations, weight preprocessing). */
  fold?: (n: NodeContext) => Const;
  /** Imports the op on activations: emits IR ops, or folds into earlier ones. */
  activation?: (n: NodeContext) => void;
  /** Runs whatever the inputs are (Constant, Shape, Identity, Dropout). */
  always?: (n: NodeContext) => void;
  /**
   * How the graph prepass reads the node: 'alias' (output 0 is input 0, the other inputs are only
   * inspected), 'shape' (reads its input's shape, not its data), or 'data' (the default).
   */
  reads?: 'alias' | 'shape' | 'data';
}

/** An op family's importers by ONNX op type. */
export type OpTable = Readonly<Record<string, OpImporter>>;
