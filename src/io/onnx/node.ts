/**
 * What an op importer sees of one ONNX node and of the graph imported so far: typed inputs
 * (activations with their per-sample shapes, constants), attributes, and the ways to emit IR ops or
 * fold into earlier ones. The op table (ops/index.ts) maps each ONNX op type to functions of it.
 *
 * ONNX axes count the batch dimension in a batched import and not in a whole-tensor one
 * (src/ir/graph.ts `Network.batched`): `lead` is 1 or 0, and `sampleAxis` maps between the two.
 */
import type { onnx } from 'onnx-proto';
import type { ConvOp, LinearOp, NetOp } from '../../ir/graph.ts';
import { Attrs } from './attrs.ts';
import { count, finiteData, floatsOf, normAxis, plainIntsOf, uniformAlong } from './consts.ts';
import type { Const } from './consts.ts';
import { quote } from './proto.ts';
import { UsageError } from '../../errors.ts';

/** Thrown by an op importer; the importer turns it into a UsageError naming the file and node. */
export class NodeError extends Error {}

/** A matrix op that BatchNormalization and bias Adds may fold into. */
export type MatrixOp = LinearOp | ConvOp;

/**
 * What a per-channel affine map can fold into: one matrix op, or the per-depth convs of a 3-D
 * convolution (one weight read at every output depth) whose planes a concat stacks along depth.
 */
export interface FoldTarget {
  /** The value folded into: the matrix op's output or the stack's. */
  value: string;
  /** The matrix ops whose weights and biases change; a stack's share one weight. */
  layers: readonly MatrixOp[];
  /** Per-sample rank of the folded value, whose channels are the layers' outputs (axis 0 of a conv, the last of a linear layer). */
  rank: number;
}

/** What a value holds; the IR carries all three as f32. */
export type DType = 'float' | 'int' | 'bool';

/** An activation as op importers see it. */
export interface Value {
  /** Its name in the IR (after Identity/Dropout aliasing). */
  name: string;
  /** Per-sample shape. */
  shape: number[];
  dtype: DType;
  /**
   * Where the batch axis sits among the ONNX dims, when not first: a Transpose may move it (the timm
   * attention's [3, batch, heads, tokens, dims]), and axes are read around it. Data stay batch-first
   * (per-sample shape = the other dims in order), so ops that are not told otherwise refuse it.
   */
  batchAt?: number;
  /**
   * The batch shares ONNX axis `batchAt` with per-sample axis `batchAt` (PyTorch's attention views
   * [T, batch, D] as [T, batch·heads, d]): 'major' = ONNX index b·k + i, 'minor' = i·batch + b, k the
   * per-sample size. The ONNX rank is then the per-sample rank. Only ops that opt in accept it.
   */
  merged?: BatchMerge;
  /**
   * The ONNX value is this one plus k·(the sample's index): per-sample row indices with
   * torch.arange(batch)·k added, to pick rows of a batch-merged [batch·k, …] view
   * (`h[torch.arange(batch), idx]`). Only Gather of such a view reads it.
   */
  sampleOffset?: number;
}

/** How a merged batch shares its ONNX axis (Value.merged). */
export type BatchMerge = 'major' | 'minor';

/**
 * Ops that may read a constant holding ±Inf: an attention mask is added, selected or clamped, and
 * reshaped on its way there; its infinities become ±the largest float32 in the IR (finiteData).
 */
const MASK_OPS: ReadonlySet<string> = new Set(['Add', 'Sub', 'Where', 'Max', 'Min', 'Unsqueeze', 'Squeeze', 'Reshape', 'Expand', 'Slice', 'Transpose', 'Concat', 'Cast', 'CastLike', 'Gather', 'Identity', 'Tile', 'Flatten', 'Attention']);

/** The graph state an op importer reads and extends (implemented by the importer). */
export interface ImportState {
  /** Opset of the default ONNX domain. */
  readonly opset: number;
  /** False when each graph input is one whole sample (no batch dimension). */
  readonly batched: boolean;
  /** The graph inputs' first dim when it is a number: a Reshape target may spell the batch that way. */
  readonly declaredBatch: number | null;
  constOf(name: string): Const | undefined;
  /**
   * A constant, or a value whose fold waited for the batch size (probe.ts), at batch size `batch`.
   * For importers with `batchProbe`; refuses with the deferred node's message if it cannot fold there.
   */
  probe(name: string, batch: number): Const;
  /** A value whose fold waited for the batch size, made a constant when it is a shape with the batch in it; else the refusal its node gave. */
  settle(name: string): void;
  /** Marks activation `name` as holding sample offsets (Value.sampleOffset). */
  markSampleOffset(name: string, k: number): void;
  /** The refusal for a constant holding ±Inf read by an op other than a mask's, or undefined. */
  infiniteOf(name: string): string | undefined;
  setConst(name: string, c: Const): void;
  /** An activation by (unaliased) name; undefined for constants and unknown names. */
  valueOf(name: string): Value | undefined;
  /** How many node inputs and graph outputs read the value. */
  usesOf(name: string): number;
  /** Decodes a TensorProto read from the file; `where` prefixes errors. */
  tensor(t: onnx.ITensorProto, where: string): Const;
  /** Adds an op; its output gets `shape`, `dtype` (default float) and the batch position (default 0). */
  emit(op: NetOp, shape: number[], dtype?: DType, batchAt?: number, merged?: BatchMerge): void;
  /** A value name used nowhere in the graph, for ops that a node expands into. */
  fresh(base: string): string;
  /** The IR op that writes `value` (after aliasing), if one does. */
  producerOf(value: string): NetOp | undefined;
  /**
   * Records what a crossbar layer was made from (`key`: its weight's source, canonicalName, and the
   * attributes that shape it). Once the graph is imported, layers of one source whose final weights,
   * biases and shapes are equal are tied: a module called again (an nn.LSTMCell loop, a Siamese
   * encoder, an nn.LSTM applied twice) is one crossbar.
   */
  noteSource(op: MatrixOp, key: string): void;
  /** The name a value is known by after Identity aliases (PyTorch routes a reused or equal initializer through Identity). */
  canonicalName(name: string): string;
  /** The crossbar layer producing `value` when only one reader (the folding node) sees it. */
  foldTarget(value: string): FoldTarget | null;
  /** Folds `change` into a target's weight and bias (once for the convs of a stack, which share them) and makes it write `to`. */
  foldInto(t: FoldTarget, to: string, change: (op: MatrixOp) => void): void;
  /** Records that `value` stacks the outputs of `convs` along depth, one 3-D convolution's planes, so a per-channel map after it folds into them. */
  noteStack(value: string, convs: readonly MatrixOp[]): void;
  /**
   * Imports a subgraph's initializers and nodes in place (If's chosen branch), its nodes reading the
   * outer values by name, and binds its outputs to `outputs` (the If node's). `where` names the branch
   * in messages; `prefix` starts the names of its unnamed nodes. `unseen`: nodes made during import
   * (an unrolled Loop iteration), which the prepass has not counted.
   */
  inline(g: onnx.IGraphProto, outputs: readonly string[], where: string, prefix: string, unseen?: boolean): void;
  /** Makes `dst` another name of `src` (a Loop's final values, a sequence's element): its readers read `src`. */
  bind(dst: string, src: string): void;
  /** The tensor names a sequence holds, or undefined when `name` is not a sequence. */
  seqOf(name: string): readonly string[] | undefined;
  /** Makes `name` a sequence of these tensors (sequences exist at import only). */
  setSeq(name: string, items: readonly string[]): void;
}

/** A string attribute's value checked against the allowed ones, the refusal naming them. */
export function oneOf<T extends string>(n: NodeContext, attr: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new NodeError(`attribute ${quote(attr)} is ${quote(value)}; allowed: ${allowed.map((a) => quote(a)).join(', ')}`);
  }
  return value as T;
}

/** One node being imported. */
export class NodeContext {
  readonly a: Attrs;
  readonly op: string;
  /** True while the importer folds the node (every input a constant). */
  folding = false;
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

  /** ONNX axes minus per-sample axes: 1 in a batched import (axis 0 is the batch), else 0. */
  get lead(): number {
    return this.imp.batched ? 1 : 0;
  }

  /** The node's first output. */
  get out(): string {
    const o = this.outs[0];
    if (!o) throw new NodeError('has no output');
    return o;
  }

  /** An activation input with its batch axis first. */
  value(i: number, what = 'input'): Value {
    const v = this.valueAnyBatch(i, what);
    if (v.batchAt) throw new NodeError(`${what} ${quote(this.ins[i])} has the batch dimension at axis ${v.batchAt}; ${this.op} needs it first`);
    return v;
  }

  /** An activation input wherever its batch axis is (for ops that read axes around it); a merged batch only with `merged`. */
  valueAnyBatch(i: number, what = 'input', merged = false): Value {
    const x = this.ins[i];
    if (!x) throw new NodeError(`${what} ${i} is missing`);
    const v = this.imp.valueOf(x);
    if (!v && this.imp.seqOf(x)) throw new NodeError(`${what} ${quote(x)} is a sequence; ${this.op} takes a tensor`);
    if (!v) throw new NodeError(`${what} ${quote(x)} must be an activation, not a constant`);
    if (v.sampleOffset && this.op !== 'Shape' && this.op !== 'Size') {
      throw new NodeError(`${what} ${quote(x)} holds row indices plus torch.arange(batch)·${v.sampleOffset}; only a Gather of a [batch·${v.sampleOffset}, …] view takes it`);
    }
    if (v.merged && !merged) throw new NodeError(`${what} ${quote(x)} has the batch merged with another dim into axis ${v.batchAt ?? 0} (a view like PyTorch attention's [T, batch·heads, d]); ${this.op} needs a separate batch dimension`);
    return v;
  }

  /** ONNX rank of `v`: its per-sample rank, plus the batch axis unless that is merged into another. */
  rankOf(v: Value): number {
    return v.shape.length + (v.merged ? 0 : this.lead);
  }

  /** The batch axis's ONNX position in `v` (0 in a batched import unless moved; −1 without a batch). */
  batchAxis(v: Value): number {
    return this.imp.batched ? (v.batchAt ?? 0) : -1;
  }

  /** The per-sample axis of ONNX `axis` on `v`, whose batch may sit anywhere (merged or not); the batch axis is refused. */
  axisOf(v: Value, axis: number, what = 'axis'): number {
    const a = normAxis(axis, this.rankOf(v), what);
    const b = this.batchAxis(v);
    if (a === b) throw new NodeError(`${what} ${axis} is the batch dimension; ${this.op} across samples is not supported`);
    return b >= 0 && a > b && !v.merged ? a - 1 : a;
  }

  /** The constant at input `i`, if that input is present and constant (one holding ±Inf only for MASK_OPS). */
  constAt(i: number): Const | undefined {
    const name = this.ins[i] ?? '';
    const c = this.imp.constOf(name);
    // A fold may carry an infinity on (T5's log of a zero distance, masked by a later Where); its
    // result is checked again when it is set.
    const inf = c && !this.folding ? this.imp.infiniteOf(name) : undefined;
    if (inf && !MASK_OPS.has(this.op)) throw new UsageError(inf);
    return c;
  }

  /** A constant input, or null when the optional input is absent. */
  optConst(i: number, what: string): Const | null {
    const x = this.ins[i];
    if (!x) return null;
    const c = this.constAt(i);
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

  /** Axes from the attribute (before `inputFrom`) or the optional input `index` (from `inputFrom` on). */
  axesArg(inputFrom: number, index = 1): number[] | null {
    if (this.opset >= inputFrom) {
      const c = this.optConst(index, 'axes');
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

  /** The per-sample axis of ONNX `axis` on a value of per-sample rank `rank`; the batch axis is refused. */
  sampleAxis(axis: number, rank: number, what = 'axis'): number {
    const a = normAxis(axis, rank + this.lead, what);
    if (a < this.lead) throw new NodeError(`${what} ${axis} is the batch dimension; ${this.op} across samples is not supported`);
    return a - this.lead;
  }

  /**
   * A constant read where the op needs an activation: a `constant` op (writing `out`), every sample
   * equal to it, the batch at ONNX axis `batchAt` (merged there with dim `batchAt` of `dims` when `merged`).
   */
  constValue(c: Const, dims: number[], what: string, out?: string, dtype: DType = c.kind === 'int' ? 'int' : 'float', batchAt = 0, merged?: BatchMerge): Value {
    const name = out ?? this.imp.fresh(`${this.name}/${what}`);
    this.imp.emit({ kind: 'constant', name: `${this.name}/${what}`, inputs: [], output: name, value: { dims, data: finiteData(Float32Array.from(floatsOf(c, what))) } }, dims, dtype, batchAt, merged);
    return this.imp.valueOf(name)!;
  }

  /**
   * Input `i` as an activation of an elementwise op whose operands broadcast: a constant becomes a
   * `constant` op. In a batched import a constant of the activations' full rank must have a first
   * (batch) dim of 1, which is dropped (or the declared batch with every sample alike, uniformAlong);
   * a lower-rank one broadcasts over the per-sample dims.
   */
  operand(i: number, fullRank: number, what: string): Value {
    const c = this.constAt(i);
    if (!c) return this.value(i, what);
    if (!this.imp.batched) return this.constValue(c, c.dims, what);
    if (c.dims.length > fullRank) throw new NodeError(`constant ${what} has dims [${c.dims.join(', ')}], more than the activations' rank ${fullRank}`);
    if (c.dims.length < fullRank) return this.constValue(c, c.dims, what);
    const one = c.dims[0] === 1 ? c : uniformAlong(c, 0, this.imp.declaredBatch);
    if (!one) throw new NodeError(`constant ${what} has dims [${c.dims.join(', ')}]; its first (batch) dim must be 1, or the declared batch with every sample alike`);
    return this.constValue(one, one.dims.slice(1), what);
  }
}

/**
 * How one ONNX op type is imported. A node whose present inputs are all constants is folded with
 * `fold`; otherwise `activation` imports it; `always` runs instead of both, whatever the inputs.
 */
export interface OpImporter {
  /** Evaluates the op on constant inputs (shape computations, weight preprocessing); null: not foldable here. */
  fold?: (n: NodeContext) => Const | null;
  /** Imports the op on activations: emits IR ops, or folds into earlier ones. */
  activation?: (n: NodeContext) => void;
  /** Runs whatever the inputs are (Constant, Shape, Identity, Dropout). */
  always?: (n: NodeContext) => void;
  /** `activation` also takes constant inputs that `fold` declined (Expand of a constant to the batch). */
  constInputs?: boolean;
  /** `activation` also takes values whose fold waits for the batch size (read with ImportState.probe, or settled). */
  batchProbe?: boolean;
  /** Imports subgraphs (If, Loop): never waits for the batch size (its inputs are settled first, and a refusal stands). */
  control?: boolean;
  /**
   * How the graph prepass reads the node: 'alias' (output 0 is input 0, the other inputs are only
   * inspected), 'shape' (reads its input's shape, not its data), or 'data' (the default).
   */
  reads?: 'alias' | 'shape' | 'data';
}

/** An op family's importers by ONNX op type. */
export type OpTable = Readonly<Record<string, OpImporter>>;
