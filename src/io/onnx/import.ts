/**
 * ONNX ModelProto → network IR (src/nn/graph.ts; DESIGN.md section 6).
 *
 * One pass over the (topologically sorted) nodes: constants and shape computations are folded,
 * BatchNormalization and bias Adds are folded into the preceding Conv/Gemm/MatMul when nothing else
 * reads that layer's output, Identity/Dropout become aliases, and every activation gets a static
 * per-sample shape. Unused ops are dropped and layer indices are assigned at the end.
 */
import type { onnx } from 'onnx-proto';
import { UsageError, messageOf } from '../../errors.ts';
import type {
  AffineOp,
  BinaryOp,
  ConvOp,
  LinearOp,
  NetOp,
  Network,
  PoolOp,
  ReshapeOp,
  Shape,
  UnaryOp,
} from '../../ir/graph.ts';
import { Attrs } from './attrs.ts';
import {
  BATCH,
  FoldError,
  broadcastShapes,
  count,
  floatsOf,
  foldBinary,
  foldConcat,
  foldGather,
  foldSlice,
  foldTranspose,
  intsOf,
  normAxis,
  plainIntsOf,
  reshapeDims,
  withDims,
} from './consts.ts';
import type { BinaryFn, Const, Dim } from './consts.ts';
import { dataTypeName, decodeModel, decodeTensor } from './decode.ts';
import type { DecodedModel } from './decode.ts';
import { DataType, bare, int64ToNumber, quote } from './proto.ts';

/** Oldest and newest default-domain opsets accepted. */
export const MIN_OPSET = 9;
export const MAX_OPSET = 21;

/** Largest constant that folding may create from a shape (ConstantOfShape): guards against corrupt files. */
const MAX_FOLDED_ELEMENTS = 1 << 26;

/** Op types the importer understands (error messages list them). */
export const SUPPORTED_OPS: readonly string[] = [
  'Add', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv',
  'Div', 'Dropout', 'Flatten', 'Gather', 'Gemm', 'GlobalAveragePool', 'GlobalMaxPool', 'Identity', 'LeakyRelu',
  'MatMul', 'MaxPool', 'Mul', 'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Squeeze', 'Sub', 'Tanh',
  'Transpose', 'Unsqueeze',
];

/** Parses ONNX bytes into a Network; every problem with the file is a one-line UsageError naming `fileLabel`. */
export function importOnnx(bytes: Uint8Array, fileLabel: string): Network {
  const model = decodeModel(bytes, fileLabel);
  return new Importer(model, fileLabel).run();
}

/** Thrown inside a node handler; turned into a UsageError naming the node. */
class NodeError extends Error {}

type MatrixOp = LinearOp | ConvOp;

class Importer {
  private readonly graph: onnx.IGraphProto;
  private readonly opset: number;
  private readonly consts = new Map<string, Const>();
  /** Per-sample shape of every activation seen so far (also of values later renamed by folding). */
  private readonly shapes = new Map<string, number[]>();
  /** Identity/Dropout outputs → the value they pass through. */
  private readonly alias = new Map<string, string>();
  /** How many node inputs (Shape excluded: it reads no data) and graph outputs read each value. */
  private readonly uses = new Map<string, number>();
  private readonly producer = new Map<string, NetOp>();
  /** Node index that produces each name, to tell "defined later" from "never defined". */
  private readonly producedAt = new Map<string, number>();
  private readonly defined = new Set<string>();
  private readonly ops: NetOp[] = [];
  private inputName = '';
  /** The graph input's first dim when it is a number: a Reshape target may spell the batch that way. */
  private declaredBatch: number | null = null;

  constructor(
    private readonly model: DecodedModel,
    private readonly file: string,
  ) {
    this.graph = model.graph;
    this.opset = this.defaultOpset();
  }

  run(): Network {
    const g = this.graph;
    for (const t of g.initializer ?? []) {
      this.consts.set(t.name ?? '', this.tensor(t, `${this.file}: initializer`));
      this.defined.add(t.name ?? '');
    }
    if ((g.sparseInitializer ?? []).length > 0) throw new UsageError(`${this.file}: sparse initializers are not supported`);
    this.readInput();
    const outputs = g.output ?? [];
    if (outputs.length !== 1) {
      throw new UsageError(`${this.file}: the graph has ${outputs.length} outputs (${outputs.map((o) => `${quote(o.name)}`).join(', ')}); exactly one is supported`);
    }
    const nodes = g.node ?? [];
    this.prepass(nodes, outputs[0].name ?? '');
    nodes.forEach((node, i) => this.node(node, i));

    const outName = this.resolve(outputs[0].name ?? '');
    if (!this.defined.has(outputs[0].name ?? '')) {
      throw new UsageError(`${this.file}: graph output ${quote(outputs[0].name)} is not produced by any node`);
    }
    if (this.consts.has(outName)) throw new UsageError(`${this.file}: graph output ${quote(outputs[0].name)} is a constant`);
    return this.finish(outName);
  }

  /** The default-domain opset, range-checked. */
  private defaultOpset(): number {
    const imports = this.model.opsetImport ?? [];
    const def = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
    if (!def) {
      const list = imports.map((o) => `${quote(o.domain)} v${int64ToNumber(o.version)}`).join(', ') || 'none';
      throw new UsageError(`${this.file}: the model imports no opset of the default ONNX domain (imports: ${list})`);
    }
    const v = int64ToNumber(def.version);
    if (v < MIN_OPSET || v > MAX_OPSET) {
      throw new UsageError(`${this.file}: opset ${v} of the default ONNX domain is not supported (${MIN_OPSET}–${MAX_OPSET} are)`);
    }
    return v;
  }

  private readInput(): void {
    const real = (this.graph.input ?? []).filter((v) => !this.consts.has(v.name ?? ''));
    if (real.length !== 1) {
      throw new UsageError(`${this.file}: the graph has ${real.length} non-initializer inputs (${real.map((v) => `${quote(v.name)}`).join(', ')}); exactly one is supported`);
    }
    const v = real[0];
    const name = v.name ?? '';
    const tt = v.type?.tensorType;
    if (!tt) throw new UsageError(`${this.file}: graph input ${quote(name)} is not a tensor`);
    if (tt.elemType && tt.elemType !== DataType.FLOAT) {
      throw new UsageError(`${this.file}: graph input ${quote(name)} is ${dataTypeName(tt.elemType)}; only float32 inputs are supported`);
    }
    const dims = tt.shape?.dim;
    if (!dims || dims.length === 0) {
      throw new UsageError(`${this.file}: graph input ${quote(name)} has no shape; a [batch, ...] shape with static per-sample dims is needed`);
    }
    const first = dims[0];
    const b = int64ToNumber(first.dimValue);
    this.declaredBatch = !first.dimParam && b > 0 ? b : null;
    const shape = dims.slice(1).map((d, i) => {
      const n = int64ToNumber(d.dimValue);
      if (d.dimParam || !(n > 0)) {
        throw new UsageError(`${this.file}: graph input ${quote(name)} has a symbolic or unknown dim ${i + 1}${d.dimParam ? ` (${quote(d.dimParam)})` : ''}; per-sample dims must be static`);
      }
      return n;
    });
    this.inputName = name;
    this.shapes.set(name, shape);
    this.defined.add(name);
  }

  /** Records aliases and counts readers, so folding can tell whether a layer's output has other uses. */
  private prepass(nodes: onnx.INodeProto[], outName: string): void {
    nodes.forEach((n, i) => {
      for (const o of n.output ?? []) {
        if (!o) continue;
        if (this.producedAt.has(o) || this.defined.has(o)) {
          const nodeName = n.name || `${n.opType ?? ''}_${i}`;
          throw new UsageError(`${this.file}: node ${quote(nodeName)} writes ${quote(o)}, which is already defined (an ONNX graph assigns each value once)`);
        }
        this.producedAt.set(o, i);
      }
      const op = n.opType ?? '';
      const ins = n.input ?? [];
      if ((op === 'Identity' || op === 'Dropout') && ins[0] && n.output?.[0]) {
        const src = this.resolve(ins[0]);
        if (src !== n.output[0]) this.alias.set(n.output[0], src);
        // Dropout's ratio/training_mode inputs are only inspected, never read as data.
        return;
      }
      if (op === 'Shape') return;
      for (const x of ins) if (x) this.use(this.resolve(x));
    });
    this.use(this.resolve(outName));
  }

  private use(name: string): void {
    this.uses.set(name, (this.uses.get(name) ?? 0) + 1);
  }

  private resolve(name: string): string {
    let n = name;
    // Aliases always point at names that were not aliases when recorded, and names are assigned once: no cycles.
    while (this.alias.has(n)) n = this.alias.get(n)!;
    return n;
  }

  private node(node: onnx.INodeProto, index: number): void {
    const op = node.opType ?? '';
    const name = node.name || `${op}_${index}`;
    const where = `${this.file}: node ${quote(name)} (${bare(op)})`;
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new UsageError(`${where} is in domain ${quote(node.domain)}; only the default ONNX domain is supported`);
    }
    if (!SUPPORTED_OPS.includes(op)) {
      throw new UsageError(`${this.file}: unsupported op ${quote(op)} at node ${quote(name)} (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
    for (const x of node.input ?? []) {
      if (!x || this.defined.has(x)) continue;
      const at = this.producedAt.get(x);
      if (at !== undefined && at >= index) {
        throw new UsageError(`${where} reads ${quote(x)} before node ${at} produces it: the graph is not topologically sorted`);
      }
      throw new UsageError(`${where} reads ${quote(x)}, which is not a graph input, an initializer or the output of an earlier node`);
    }
    try {
      new NodeImporter(this, node, name, where).run();
    } catch (e) {
      if (e instanceof UsageError) throw e;
      if (e instanceof NodeError || e instanceof FoldError) throw new UsageError(`${where}: ${e.message}`);
      // Absurd sizes in a corrupt file surface as RangeErrors from array allocation.
      if (e instanceof RangeError) throw new UsageError(`${where}: cannot be imported (${messageOf(e)})`);
      throw e;
    }
    for (const o of node.output ?? []) if (o) this.defined.add(o);
  }

  // ---- state used by NodeImporter ----

  getOpset(): number {
    return this.opset;
  }
  getDeclaredBatch(): number | null {
    return this.declaredBatch;
  }
  constOf(name: string): Const | undefined {
    return this.consts.get(this.resolve(name));
  }
  setConst(name: string, c: Const): void {
    this.consts.set(name, c);
  }
  shapeOf(name: string): number[] | undefined {
    return this.consts.has(this.resolve(name)) ? undefined : this.shapes.get(this.resolve(name));
  }
  resolved(name: string): string {
    return this.resolve(name);
  }
  usesOf(name: string): number {
    return this.uses.get(this.resolve(name)) ?? 0;
  }
  tensor(t: onnx.ITensorProto, where: string): Const {
    const d = decodeTensor(t, where);
    return d.kind === 'float' ? { kind: 'float', dims: d.dims, data: d.data } : { kind: 'int', dims: d.dims, data: d.data };
  }

  emit(op: NetOp, shape: number[]): void {
    this.ops.push(op);
    this.producer.set(op.output, op);
    this.shapes.set(op.output, shape);
  }

  /** The matrix op producing `value` when only one reader (the folding node) sees it. */
  foldTarget(value: string): MatrixOp | null {
    const v = this.resolve(value);
    const p = this.producer.get(v);
    if (!p || (p.kind !== 'linear' && p.kind !== 'conv')) return null;
    if ((this.uses.get(v) ?? 0) !== 1) return null;
    return p;
  }

  /** Makes the folded matrix op write the folding node's output instead of its own. */
  renameOutput(op: MatrixOp, to: string): void {
    this.producer.delete(op.output);
    op.output = to;
    this.producer.set(to, op);
    this.shapes.set(to, op.kind === 'linear' ? [op.N] : [...op.outShape]);
  }

  private finish(outName: string): Network {
    // Drop ops whose results never reach the output (unused branches, folded-away shape paths).
    const live = new Set([outName]);
    const kept: NetOp[] = [];
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      if (!live.has(op.output)) continue;
      kept.push(op);
      for (const x of op.inputs) live.add(x);
    }
    kept.reverse();
    let layer = 0;
    const shapes = new Map<string, Shape>([[this.inputName, this.shapes.get(this.inputName)!]]);
    for (const op of kept) {
      if (op.kind === 'linear' || op.kind === 'conv') op.layerIndex = layer++;
      shapes.set(op.output, this.shapes.get(op.output)!);
    }
    if (!shapes.has(outName)) throw new UsageError(`${this.file}: graph output ${quote(outName)} is not computed from the graph input`);
    return { input: { name: this.inputName, shape: this.shapes.get(this.inputName)! }, output: outName, shapes, ops: kept, opset: this.opset };
  }
}

/** Imports one node. */
class NodeImporter {
  private readonly a: Attrs;
  private readonly op: string;
  private readonly ins: string[];
  private readonly outs: string[];

  constructor(
    private readonly imp: Importer,
    private readonly node: onnx.INodeProto,
    private readonly name: string,
    private readonly where: string,
  ) {
    this.a = new Attrs(node, where);
    this.op = node.opType ?? '';
    this.ins = [...(node.input ?? [])];
    this.outs = [...(node.output ?? [])];
  }

  run(): void {
    const op = this.op;
    if (op === 'Identity' || op === 'Dropout') return this.passThrough();
    if (op === 'Constant') return this.constant();
    if (op === 'Shape') return this.shape();
    const present = this.ins.filter((x) => x);
    if (present.length > 0 && present.every((x) => this.imp.constOf(x))) return this.fold();
    switch (op) {
      case 'Gemm': return this.gemm();
      case 'MatMul': return this.matmul();
      case 'Add': return this.binary('add');
      case 'Sub': return this.binary('sub');
      case 'Mul': return this.binary('mul');
      case 'Div': return this.binary('div');
      case 'Conv': return this.conv();
      case 'BatchNormalization': return this.batchNorm();
      case 'Relu': return this.unary('relu');
      case 'LeakyRelu': return this.unary('leaky-relu');
      case 'Sigmoid': return this.unary('sigmoid');
      case 'Tanh': return this.unary('tanh');
      case 'Clip': return this.unary('clip');
      case 'Softmax': return this.softmax();
      case 'MaxPool': return this.pool('max', false);
      case 'AveragePool': return this.pool('avg', false);
      case 'GlobalAveragePool': return this.pool('avg', true);
      case 'GlobalMaxPool': return this.pool('max', true);
      case 'Flatten': return this.flatten();
      case 'Reshape': return this.reshape();
      case 'Squeeze': return this.squeeze();
      case 'Unsqueeze': return this.unsqueeze();
      case 'Transpose': return this.transpose();
      case 'Concat': return this.concat();
      default:
        throw new NodeError('is supported on constants only (shape computations), not on activations');
    }
  }

  // ---- helpers ----

  private get out(): string {
    const o = this.outs[0];
    if (!o) throw new NodeError('has no output');
    return o;
  }

  /** An activation input: its resolved name and per-sample shape. */
  private value(i: number, what = 'input'): { name: string; shape: number[] } {
    const x = this.ins[i];
    if (!x) throw new NodeError(`${what} ${i} is missing`);
    const shape = this.imp.shapeOf(x);
    if (!shape) throw new NodeError(`${what} ${quote(x)} must be an activation, not a constant`);
    return { name: this.imp.resolved(x), shape };
  }

  /** A constant input, or null when the optional input is absent. */
  private optConst(i: number, what: string): Const | null {
    const x = this.ins[i];
    if (!x) return null;
    const c = this.imp.constOf(x);
    if (!c) throw new NodeError(`${what} ${quote(x)} must be a constant (an initializer or Constant output), not an activation`);
    return c;
  }

  private constIn(i: number, what: string): Const {
    const c = this.optConst(i, what);
    if (!c) throw new NodeError(`${what} (input ${i}) is missing`);
    return c;
  }

  /** The op's extra outputs (BatchNorm statistics, MaxPool indices, Dropout mask) must be unused. */
  private requireUnusedExtraOutputs(what: string): void {
    for (const o of this.outs.slice(1)) {
      if (o && this.imp.usesOf(o) > 0) throw new NodeError(`its ${what} output ${quote(o)} is used, which is not supported`);
    }
  }

  private scalar(c: Const, what: string): number {
    if (count(c.dims) !== 1) throw new NodeError(`${what} must be a scalar, has dims [${c.dims.join(', ')}]`);
    return floatsOf(c, what)[0];
  }

  /** Axes from the attribute (before `inputFrom`) or the optional input 1 (from `inputFrom` on). */
  private axesArg(inputFrom: number): number[] | null {
    if (this.imp.getOpset() >= inputFrom) {
      const c = this.optConst(1, 'axes');
      return c ? plainIntsOf(c, 'axes') : null;
    }
    return this.a.ints('axes', null);
  }

  private pair(name: string, def: number): [number, number] {
    const v = this.a.ints(name, [def, def]);
    if (v.length !== 2) throw new NodeError(`attribute ${quote(name)} has ${v.length} entries; only 2-D (NCHW) is supported`);
    return [v[0], v[1]];
  }

  // ---- pass-through, constants, shapes ----

  private passThrough(): void {
    if (this.op === 'Dropout') {
      this.requireUnusedExtraOutputs('mask');
      const mode = this.ins[2] ? this.imp.constOf(this.ins[2]) : undefined;
      if (mode && this.scalar(mode, 'training_mode') !== 0) throw new NodeError('training_mode is true; only inference is supported');
    }
    // The output is already an alias of the input (prepass); a constant stays a constant.
    const x = this.ins[0];
    if (!x) throw new NodeError('input 0 is missing');
  }

  private constant(): void {
    const a = this.a;
    let c: Const;
    const t = a.has('value') ? a.tensor('value') : null;
    if (t) c = this.imp.tensor(t, this.where);
    else if (a.has('value_float')) c = { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
    else if (a.has('value_floats')) {
      const v = a.floats('value_floats', []);
      c = { kind: 'float', dims: [v.length], data: Float32Array.from(v) };
    } else if (a.has('value_int')) c = { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
    else if (a.has('value_ints')) {
      const v = a.ints('value_ints', []);
      c = { kind: 'int', dims: [v.length], data: v };
    } else {
      throw new NodeError(`has no supported value attribute (has: ${a.names().map((n) => quote(n)).join(', ') || 'none'}; value, value_float(s) and value_int(s) are supported)`);
    }
    this.imp.setConst(this.out, c);
  }

  private shape(): void {
    const x = this.ins[0];
    const c = x ? this.imp.constOf(x) : undefined;
    let dims: Dim[];
    if (c) dims = [...c.dims];
    else dims = [BATCH, ...this.value(0).shape];
    const r = dims.length;
    const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const start = clampAxis(this.a.int('start', 0));
    const end = this.a.has('end') ? clampAxis(this.a.int('end', r)) : r;
    const data = dims.slice(start, Math.max(start, end));
    this.imp.setConst(this.out, { kind: 'int', dims: [data.length], data });
  }

  /** Evaluates an op whose inputs are all constants. */
  private fold(): void {
    const c = (i: number): Const => this.constIn(i, `input ${i}`);
    const set = (v: Const): void => this.imp.setConst(this.out, v);
    switch (this.op) {
      case 'Add': return set(foldBinary('add', c(0), c(1)));
      case 'Sub': return set(foldBinary('sub', c(0), c(1)));
      case 'Mul': return set(foldBinary('mul', c(0), c(1)));
      case 'Div': return set(foldBinary('div', c(0), c(1)));
      case 'Gather': return set(foldGather(c(0), c(1), this.a.int('axis', 0)));
      case 'Concat': {
        const parts = this.ins.filter((x) => x).map((x) => this.imp.constOf(x)!);
        return set(foldConcat(parts, this.a.int('axis', 0)));
      }
      case 'Transpose': {
        const x = c(0);
        const perm = this.a.ints('perm', x.dims.map((_, i) => x.dims.length - 1 - i));
        return set(foldTranspose(x, perm));
      }
      case 'Cast': {
        const x = c(0);
        const to = this.a.int('to', DataType.FLOAT);
        if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16) {
          return set({ kind: 'float', dims: x.dims, data: floatsOf(x, 'Cast input') });
        }
        if (to === DataType.BOOL) return set({ kind: 'int', dims: x.dims, data: intsOf(x).map((d) => (d === BATCH ? 1 : d !== 0 ? 1 : 0)) });
        if (to === DataType.STRING) throw new NodeError('Cast to string is not supported');
        return set({ kind: 'int', dims: x.dims, data: intsOf(x) });
      }
      case 'Unsqueeze': {
        const x = c(0);
        const axes = this.axesArg(13);
        if (!axes) throw new NodeError('has no axes');
        const r = x.dims.length + axes.length;
        const norm = new Set(axes.map((ax) => normAxis(ax, r)));
        const dims: number[] = [];
        for (let i = 0, j = 0; i < r; i++) dims.push(norm.has(i) ? 1 : x.dims[j++]);
        return set(withDims(x, dims));
      }
      case 'Squeeze': {
        const x = c(0);
        const axes = this.axesArg(13);
        const norm = axes ? new Set(axes.map((ax) => normAxis(ax, x.dims.length))) : null;
        return set(withDims(x, x.dims.filter((d, i) => (norm ? !norm.has(i) : d !== 1))));
      }
      case 'Reshape': {
        const x = c(0);
        const target = this.opsetReshapeTarget();
        return set(withDims(x, reshapeDims(x.dims, target, this.a.int('allowzero', 0) === 1)));
      }
      case 'Flatten': {
        const x = c(0);
        const ax = this.a.int('axis', 1);
        const axis = ax < 0 ? ax + x.dims.length : ax;
        return set(withDims(x, [count(x.dims.slice(0, axis)), count(x.dims.slice(axis))]));
      }
      case 'Slice': return set(this.foldSliceNode(c(0)));
      case 'ConstantOfShape': {
        const dims = plainIntsOf(c(0), 'ConstantOfShape shape');
        if (dims.some((d) => !Number.isInteger(d) || d < 0) || count(dims) > MAX_FOLDED_ELEMENTS) {
          throw new NodeError(`shape [${dims.join(', ')}] is invalid or too large to fold`);
        }
        const t = this.a.tensor('value');
        const v = t ? this.imp.tensor(t, this.where) : { kind: 'float' as const, dims: [1], data: Float32Array.of(0) };
        const n = count(dims);
        if (v.kind === 'float') return set({ kind: 'float', dims, data: new Float32Array(n).fill(v.data[0]) });
        return set({ kind: 'int', dims, data: new Array<Dim>(n).fill(v.data[0]) });
      }
      default:
        throw new NodeError('has only constant inputs, and folding this op is not supported');
    }
  }

  private opsetReshapeTarget(): number[] {
    return plainIntsOf(this.constIn(1, 'shape'), 'Reshape shape');
  }

  private foldSliceNode(x: Const): Const {
    let starts: number[];
    let ends: number[];
    let axes: number[] | null;
    let steps: number[] | null = null;
    if (this.imp.getOpset() < 10) {
      starts = this.a.ints('starts', []);
      ends = this.a.ints('ends', []);
      axes = this.a.ints('axes', null);
    } else {
      starts = plainIntsOf(this.constIn(1, 'starts'), 'starts');
      ends = plainIntsOf(this.constIn(2, 'ends'), 'ends');
      const ax = this.optConst(3, 'axes');
      axes = ax ? plainIntsOf(ax, 'axes') : null;
      const st = this.optConst(4, 'steps');
      steps = st ? plainIntsOf(st, 'steps') : null;
    }
    const ax = (axes ?? starts.map((_, i) => i)).map((v) => normAxis(v, x.dims.length));
    return foldSlice(x, starts, ends, ax, steps ?? ax.map(() => 1));
  }

  // ---- matrix ops ----

  private gemm(): void {
    const x = this.value(0, 'A');
    if (x.shape.length !== 1) throw new NodeError(`input A has per-sample shape [${x.shape.join(', ')}]; Gemm needs [batch, K]`);
    if (this.a.int('transA', 0) !== 0) throw new NodeError('transA = 1 is not supported (A is the batch of activations)');
    const b = this.constIn(1, 'B (weight)');
    if (b.dims.length !== 2) throw new NodeError(`weight B has dims [${b.dims.join(', ')}]; Gemm needs a 2-D B`);
    const transB = this.a.int('transB', 0) !== 0;
    const alpha = this.a.float('alpha', 1);
    const beta = this.a.float('beta', 1);
    const [K, N] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
    if (K !== x.shape[0]) throw new NodeError(`input has ${x.shape[0]} features but weight B${transB ? 'ᵀ' : ''} has ${K} rows`);
    const bw = floatsOf(b, 'weight B');
    const weight = new Float32Array(K * N);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) weight[k * N + n] = alpha * (transB ? bw[n * K + k] : bw[k * N + n]);
    }
    let bias: Float32Array | null = null;
    const c = this.optConst(2, 'C (bias)');
    if (c && beta !== 0) {
      const v = perOutput(c.dims, N);
      if (!v) throw new NodeError(`bias C has dims [${c.dims.join(', ')}]; it must broadcast to [${N}] (a per-batch bias is not supported)`);
      const cv = floatsOf(c, 'bias C');
      bias = new Float32Array(N);
      for (let n = 0; n < N; n++) bias[n] = beta * cv[v === 'scalar' ? 0 : n];
    }
    this.emitLinear(x.name, K, N, weight, bias);
  }

  private matmul(): void {
    if (!this.imp.constOf(this.ins[1] ?? '') && this.imp.constOf(this.ins[0] ?? '')) {
      throw new NodeError('has a constant left operand; only activations × constant weight is supported');
    }
    const x = this.value(0, 'A');
    const w = this.constIn(1, 'B (weight)');
    if (w.dims.length !== 2) throw new NodeError(`weight B has dims [${w.dims.join(', ')}]; MatMul needs a 2-D constant B`);
    if (x.shape.length !== 1) {
      throw new NodeError(`input A has per-sample shape [${x.shape.join(', ')}]; only [batch, K] × [K, N] is supported`);
    }
    const [K, N] = w.dims;
    if (K !== x.shape[0]) throw new NodeError(`input has ${x.shape[0]} features but weight B has ${K} rows`);
    this.emitLinear(x.name, K, N, Float32Array.from(floatsOf(w, 'weight B')), null);
  }

  private emitLinear(input: string, K: number, N: number, weight: Float32Array, bias: Float32Array | null): void {
    const op: LinearOp = { kind: 'linear', name: this.name, inputs: [input], output: this.out, layerIndex: -1, K, N, weight, bias };
    this.imp.emit(op, [N]);
  }

  private conv(): void {
    const x = this.value(0, 'X');
    if (x.shape.length !== 3) throw new NodeError(`input X has per-sample shape [${x.shape.join(', ')}]; only 2-D convolution on [batch, C, H, W] is supported`);
    const w = this.constIn(1, 'W (weight)');
    if (w.dims.length !== 4) throw new NodeError(`weight W has dims [${w.dims.join(', ')}]; only 2-D convolution is supported`);
    const [cout, cinG, kh, kw] = w.dims;
    const [cin, H, W] = x.shape;
    const group = this.a.int('group', 1);
    if (group < 1 || cin % group !== 0 || cout % group !== 0 || cin / group !== cinG) {
      throw new NodeError(`input has ${cin} channels, weight is [${w.dims.join(', ')}] with group ${group}: inconsistent`);
    }
    const ks = this.a.ints('kernel_shape', null);
    if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) throw new NodeError(`kernel_shape [${ks.join(', ')}] does not match weight [${kh}, ${kw}]`);
    const strides = this.pair('strides', 1);
    const dilations = this.pair('dilations', 1);
    const geo = this.spatial([H, W], [kh, kw], strides, dilations, false);
    const b = this.optConst(2, 'B (bias)');
    let bias: Float32Array | null = null;
    if (b) {
      if (count(b.dims) !== cout) throw new NodeError(`bias B has dims [${b.dims.join(', ')}], expected [${cout}]`);
      bias = Float32Array.from(floatsOf(b, 'bias B'));
    }
    const op: ConvOp = {
      kind: 'conv', name: this.name, inputs: [x.name], output: this.out, layerIndex: -1,
      weight: Float32Array.from(floatsOf(w, 'weight W')), bias, cin, cout, group, kh, kw,
      strides, pads: geo.pads, dilations, inShape: [cin, H, W], outShape: [cout, geo.out[0], geo.out[1]],
    };
    this.imp.emit(op, [...op.outShape]);
  }

  /** Output size and explicit pads of a 2-D window op (Conv, pools), honoring auto_pad and ceil_mode. */
  private spatial(
    size: [number, number],
    kernel: [number, number],
    strides: [number, number],
    dil: [number, number],
    ceilMode: boolean,
  ): { out: [number, number]; pads: [number, number, number, number] } {
    const autoPad = this.a.str('auto_pad', 'NOTSET');
    const pads: [number, number, number, number] = [0, 0, 0, 0];
    const out: [number, number] = [0, 0];
    if (strides.some((s) => s < 1) || dil.some((d) => d < 1)) throw new NodeError('strides and dilations must be ≥ 1');
    if (kernel.some((k) => !(k >= 1))) throw new NodeError(`kernel [${kernel.join(', ')}] must be at least 1x1`);
    for (let i = 0; i < 2; i++) {
      const eff = (kernel[i] - 1) * dil[i] + 1;
      if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        out[i] = Math.ceil(size[i] / strides[i]);
        const total = Math.max(0, (out[i] - 1) * strides[i] + eff - size[i]);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + 2] = total - pads[i];
      } else if (autoPad === 'VALID') {
        out[i] = Math.floor((size[i] - eff) / strides[i]) + 1;
      } else if (autoPad === 'NOTSET' || autoPad === '') {
        const p = this.a.ints('pads', [0, 0, 0, 0]);
        if (p.length !== 4) throw new NodeError(`attribute "pads" has ${p.length} entries; only 2-D (4 pads) is supported`);
        if (p.some((v) => v < 0)) throw new NodeError('negative pads are not supported');
        pads[i] = p[i];
        pads[i + 2] = p[i + 2];
        const span = size[i] + p[i] + p[i + 2] - eff;
        if (ceilMode) {
          out[i] = Math.ceil(span / strides[i]) + 1;
          // As in PyTorch and ONNX Runtime: the last window must start inside the input or its begin padding.
          if ((out[i] - 1) * strides[i] >= size[i] + p[i]) out[i]--;
        } else {
          out[i] = Math.floor(span / strides[i]) + 1;
        }
      } else {
        throw new NodeError(`auto_pad ${quote(autoPad)} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
      }
      if (out[i] < 1 || size[i] + pads[i] + pads[i + 2] < eff) {
        throw new NodeError(`a ${kernel.join('x')} window (dilation ${dil.join('x')}) does not fit the ${size.join('x')} input with pads [${pads.join(', ')}]`);
      }
    }
    return { out, pads };
  }

  private batchNorm(): void {
    this.requireUnusedExtraOutputs('running statistics');
    if (this.a.int('training_mode', 0) !== 0) throw new NodeError('training_mode = 1 is not supported');
    const x = this.value(0, 'X');
    if (x.shape.length < 1) throw new NodeError('input has no channel dimension');
    const C = x.shape[0];
    const vec = (i: number, what: string): Float32Array => {
      const c = this.constIn(i, what);
      if (count(c.dims) !== C) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], expected [${C}]`);
      return floatsOf(c, what);
    };
    const gamma = vec(1, 'scale');
    const beta = vec(2, 'B');
    const mean = vec(3, 'mean');
    const variance = vec(4, 'var');
    const eps = this.a.float('epsilon', 1e-5);
    // f64 per-channel factors: folding is exact math, rounded to f32 once at the end.
    const s = new Float64Array(C);
    const t = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      s[c] = gamma[c] / Math.sqrt(variance[c] + eps);
      t[c] = beta[c] - mean[c] * s[c];
    }
    const target = this.imp.foldTarget(x.name);
    if (target) {
      foldChannelAffine(target, s, t);
      this.imp.renameOutput(target, this.out);
      return;
    }
    const op: AffineOp = {
      kind: 'affine', name: this.name, inputs: [x.name], output: this.out,
      scale: Float32Array.from(s), shift: Float32Array.from(t), inShape: x.shape,
    };
    this.imp.emit(op, [...x.shape]);
  }

  // ---- elementwise ----

  private unary(fn: UnaryOp['fn']): void {
    const x = this.value(0, 'X');
    let alpha = 0;
    let min = -Infinity;
    let max = Infinity;
    if (fn === 'leaky-relu') alpha = this.a.float('alpha', 0.01);
    if (fn === 'clip') {
      if (this.imp.getOpset() < 11) {
        min = this.a.float('min', -Infinity);
        max = this.a.float('max', Infinity);
      } else {
        const lo = this.optConst(1, 'min');
        const hi = this.optConst(2, 'max');
        if (lo) min = this.scalar(lo, 'min');
        if (hi) max = this.scalar(hi, 'max');
      }
    }
    const op: UnaryOp = { kind: 'unary', name: this.name, inputs: [x.name], output: this.out, fn, alpha, min, max };
    this.imp.emit(op, [...x.shape]);
  }

  private binary(fn: BinaryFn): void {
    const c0 = this.imp.constOf(this.ins[0] ?? '');
    const c1 = this.imp.constOf(this.ins[1] ?? '');
    if (!c0 && !c1) {
      const a = this.value(0, 'A');
      const b = this.value(1, 'B');
      if (a.shape.length !== b.shape.length) {
        throw new NodeError(`operands have per-sample shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] of different rank; broadcasting would mix the batch dimension with another`);
      }
      const outShape = broadcastShapes(a.shape, b.shape);
      if (!outShape) throw new NodeError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
      const op: BinaryOp = {
        kind: 'binary', name: this.name, inputs: [a.name, b.name], output: this.out, fn, b: null, constFirst: false,
        aShape: a.shape, bShape: b.shape, outShape,
      };
      this.imp.emit(op, outShape);
      return;
    }
    const constFirst = !!c0;
    const x = this.value(constFirst ? 1 : 0, constFirst ? 'B' : 'A');
    const c = (c0 ?? c1)!;
    const full = x.shape.length + 1;
    if (c.dims.length > full) {
      throw new NodeError(`constant operand has dims [${c.dims.join(', ')}], more than the activation's rank ${full}`);
    }
    if (c.dims.length === full && c.dims[0] !== 1) {
      throw new NodeError(`constant operand has dims [${c.dims.join(', ')}]; its first (batch) dim must be 1`);
    }
    const bShape = c.dims.length === full ? c.dims.slice(1) : [...c.dims];
    const outShape = broadcastShapes(x.shape, bShape);
    if (!outShape) throw new NodeError(`shapes [${x.shape.join(', ')}] and [${bShape.join(', ')}] do not broadcast`);
    const data = floatsOf(c, 'constant operand');

    if ((fn === 'add' || fn === 'sub') && !(constFirst && fn === 'sub')) {
      const target = this.imp.foldTarget(x.name);
      const per = target ? channelVector(target, bShape, data) : null;
      if (target && per) {
        const bias = new Float32Array(per.length);
        for (let i = 0; i < per.length; i++) bias[i] = (target.bias ? target.bias[i] : 0) + (fn === 'add' ? per[i] : -per[i]);
        target.bias = bias;
        this.imp.renameOutput(target, this.out);
        return;
      }
    }
    const commutes = fn === 'add' || fn === 'mul';
    const op: BinaryOp = {
      kind: 'binary', name: this.name, inputs: [x.name], output: this.out, fn,
      b: { dims: bShape, data: Float32Array.from(data) }, constFirst: constFirst && !commutes,
      aShape: x.shape, bShape, outShape,
    };
    this.imp.emit(op, outShape);
  }

  private softmax(): void {
    const x = this.value(0, 'X');
    const full = x.shape.length + 1;
    const legacy = this.imp.getOpset() < 13;
    const axis = normAxis(this.a.int('axis', legacy ? 1 : -1), full);
    if (axis === 0) throw new NodeError('softmax over axis 0 would mix samples of the batch');
    let perSample = axis - 1;
    if (legacy) {
      // Opset < 13 flattens to [prod(dims[:axis]), prod(dims[axis:])]: the same as a one-axis softmax
      // when at most one of the trailing dims is larger than 1.
      const rest = x.shape.slice(perSample);
      const big = rest.map((d, i) => (d > 1 ? i : -1)).filter((i) => i >= 0);
      if (big.length > 1) {
        throw new NodeError(`opset ${this.imp.getOpset()} softmax at axis ${axis} flattens [${rest.join(', ')}] into one axis, which is not supported (export with opset ≥ 13 or softmax over the last axis)`);
      }
      if (big.length === 1) perSample += big[0];
    }
    this.imp.emit({ kind: 'softmax', name: this.name, inputs: [x.name], output: this.out, axis: perSample, inShape: x.shape }, [...x.shape]);
  }

  private pool(mode: 'max' | 'avg', global: boolean): void {
    const x = this.value(0, 'X');
    if (x.shape.length !== 3) throw new NodeError(`input has per-sample shape [${x.shape.join(', ')}]; only 2-D pooling on [batch, C, H, W] is supported`);
    if (mode === 'max') this.requireUnusedExtraOutputs('indices');
    const [C, H, W] = x.shape;
    let kernel: [number, number] = [H, W];
    let strides: [number, number] = [1, 1];
    let dilations: [number, number] = [1, 1];
    let pads: [number, number, number, number] = [0, 0, 0, 0];
    let out: [number, number] = [1, 1];
    let countIncludePad = false;
    if (!global) {
      const ks = this.a.ints('kernel_shape', null);
      if (!ks || ks.length !== 2) throw new NodeError('needs a 2-entry kernel_shape');
      kernel = [ks[0], ks[1]];
      strides = this.pair('strides', 1);
      dilations = this.pair('dilations', 1);
      countIncludePad = mode === 'avg' && this.a.int('count_include_pad', 0) !== 0;
      const geo = this.spatial([H, W], kernel, strides, dilations, this.a.int('ceil_mode', 0) !== 0);
      pads = geo.pads;
      out = geo.out;
    }
    const op: PoolOp = {
      kind: 'pool', name: this.name, inputs: [x.name], output: this.out, mode, kernel, strides, pads, dilations,
      countIncludePad, inShape: [C, H, W], outShape: [C, out[0], out[1]],
    };
    this.imp.emit(op, [...op.outShape]);
  }

  // ---- shape ops on activations ----

  private emitReshape(input: string, outShape: number[]): void {
    const op: ReshapeOp = { kind: 'reshape', name: this.name, inputs: [input], output: this.out, outShape };
    this.imp.emit(op, outShape);
  }

  private flatten(): void {
    const x = this.value(0, 'input');
    const full = x.shape.length + 1;
    const raw = this.a.int('axis', 1);
    const axis = raw < 0 ? raw + full : raw;
    if (axis !== 1) {
      throw new NodeError(`axis ${raw} would ${axis === 0 ? 'flatten the batch dimension into the features' : 'merge the batch dimension with others'}; only axis 1 is supported`);
    }
    this.emitReshape(x.name, [count(x.shape)]);
  }

  private reshape(): void {
    const x = this.value(0, 'data');
    const target = this.opsetReshapeTargetDims();
    const allowZero = this.a.int('allowzero', 0) === 1;
    const show = `[${target.map((d) => (d === BATCH ? 'batch' : d)).join(', ')}]`;
    if (target.length === 0) throw new NodeError(`reshape to a scalar drops the batch dimension`);
    const first = target[0];
    const declared = this.imp.getDeclaredBatch();
    const keepsBatch = first === BATCH || first === -1 || (first === 0 && !allowZero) || (declared !== null && first === declared);
    if (!keepsBatch) {
      throw new NodeError(`target shape ${show} does not keep the batch dimension first (it must start with 0, -1, the batch size from Shape, or the input's declared batch size)`);
    }
    const rest = target.slice(1).map((d) => {
      if (d === BATCH) throw new NodeError(`target shape ${show} moves the batch size away from the first dimension`);
      return d;
    });
    if (first === -1 && rest.includes(-1)) throw new NodeError(`target shape ${show} has more than one -1`);
    const copied = rest.map((d, i) => {
      if (d !== 0 || allowZero) return d;
      if (i >= x.shape.length) throw new NodeError(`target shape ${show} copies dimension ${i + 1}, which the input lacks`);
      return x.shape[i];
    });
    let outShape: number[];
    try {
      outShape = reshapeDims(x.shape, copied, allowZero);
    } catch (e) {
      throw new NodeError(`cannot reshape per-sample [${x.shape.join(', ')}] to ${show}${first === -1 ? ' without changing the batch size' : ''} (${(e as Error).message})`);
    }
    this.emitReshape(x.name, outShape);
  }

  private opsetReshapeTargetDims(): Dim[] {
    return intsOf(this.constIn(1, 'shape'));
  }

  private squeeze(): void {
    const x = this.value(0, 'data');
    const full = x.shape.length + 1;
    const axes = this.axesArg(13);
    let outShape: number[];
    if (axes) {
      const norm = new Set(axes.map((ax) => normAxis(ax, full)));
      if (norm.has(0)) throw new NodeError('cannot squeeze the batch dimension');
      for (const ax of norm) {
        if (x.shape[ax - 1] !== 1) throw new NodeError(`cannot squeeze axis ${ax} of size ${x.shape[ax - 1]}`);
      }
      outShape = x.shape.filter((_, i) => !norm.has(i + 1));
    } else {
      outShape = x.shape.filter((d) => d !== 1);
    }
    this.emitReshape(x.name, outShape);
  }

  private unsqueeze(): void {
    const x = this.value(0, 'data');
    const axes = this.axesArg(13);
    if (!axes) throw new NodeError('has no axes');
    const full = x.shape.length + 1 + axes.length;
    const norm = new Set(axes.map((ax) => normAxis(ax, full)));
    if (norm.size !== axes.length) throw new NodeError(`axes [${axes.join(', ')}] repeat an axis`);
    if (norm.has(0)) throw new NodeError('cannot insert an axis before the batch dimension');
    const outShape: number[] = [];
    for (let i = 1, j = 0; i < full; i++) outShape.push(norm.has(i) ? 1 : x.shape[j++]);
    this.emitReshape(x.name, outShape);
  }

  private transpose(): void {
    const x = this.value(0, 'data');
    const full = x.shape.length + 1;
    const perm = this.a.ints('perm', Array.from({ length: full }, (_, i) => full - 1 - i));
    if (perm.length !== full || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      throw new NodeError(`perm [${perm.join(', ')}] is not a permutation of ${full} axes`);
    }
    if (perm[0] !== 0) throw new NodeError(`perm [${perm.join(', ')}] moves the batch dimension; it must stay first`);
    const ps = perm.slice(1).map((p) => p - 1);
    const outShape = ps.map((p) => x.shape[p]);
    if (ps.every((p, i) => p === i)) return this.emitReshape(x.name, outShape);
    this.imp.emit({ kind: 'transpose', name: this.name, inputs: [x.name], output: this.out, perm: ps, inShape: x.shape }, outShape);
  }

  private concat(): void {
    const present = this.ins.filter((s) => s);
    const vals = present.map((s, i) => {
      if (this.imp.constOf(s)) throw new NodeError(`input ${quote(s)} is a constant; concatenating constants with activations is not supported`);
      return this.value(this.ins.indexOf(s), `input ${i}`);
    });
    const full = vals[0].shape.length + 1;
    const axis = normAxis(this.a.int('axis', 0), full);
    if (axis === 0) throw new NodeError('concatenation along the batch dimension is not supported');
    const ax = axis - 1;
    for (const v of vals) {
      if (v.shape.length !== full - 1 || v.shape.some((d, i) => i !== ax && d !== vals[0].shape[i])) {
        throw new NodeError(`input shapes ${vals.map((q) => `[${q.shape.join(', ')}]`).join(', ')} do not match off axis ${axis}`);
      }
    }
    const outShape = [...vals[0].shape];
    outShape[ax] = vals.reduce((s, v) => s + v.shape[ax], 0);
    this.imp.emit({ kind: 'concat', name: this.name, inputs: vals.map((v) => v.name), output: this.out, axis: ax, inShapes: vals.map((v) => v.shape) }, outShape);
  }
}

/** How a bias of `dims` broadcasts onto N outputs: 'scalar', 'vector', or null when it does not. */
function perOutput(dims: readonly number[], N: number): 'scalar' | 'vector' | null {
  const core = stripLeadingOnes(dims);
  if (core.length === 0 || (core.length === 1 && core[0] === 1)) return 'scalar';
  if (core.length === 1 && core[0] === N) return 'vector';
  return null;
}

function stripLeadingOnes(dims: readonly number[]): number[] {
  let i = 0;
  while (i < dims.length && dims[i] === 1) i++;
  return dims.slice(i);
}

/**
 * The constant operand of an Add/Sub after a matrix op as one value per output channel, or null when
 * it varies along other axes (or would broadcast the layer's output to a bigger shape).
 */
function channelVector(op: MatrixOp, bShape: readonly number[], data: Float32Array): Float32Array | null {
  const C = op.kind === 'linear' ? op.N : op.cout;
  const rank = op.kind === 'linear' ? 1 : 3;
  if (bShape.length > rank) return null;
  const padded = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  if (padded.slice(1).some((d) => d !== 1)) return null;
  if (padded[0] === C) return Float32Array.from(data);
  if (padded[0] === 1) return new Float32Array(C).fill(data[0]);
  return null;
}

/** Folds `y = x·s[c] + t[c]` on the output channels into a matrix op's weight and bias (f64, rounded once). */
function foldChannelAffine(op: MatrixOp, s: Float64Array, t: Float64Array): void {
  const bias = new Float32Array(s.length);
  for (let c = 0; c < s.length; c++) bias[c] = (op.bias ? op.bias[c] : 0) * s[c] + t[c];
  if (op.kind === 'linear') {
    for (let k = 0; k < op.K; k++) for (let n = 0; n < op.N; n++) op.weight[k * op.N + n] *= s[n];
  } else {
    const per = (op.cin / op.group) * op.kh * op.kw;
    for (let c = 0; c < op.cout; c++) for (let i = 0; i < per; i++) op.weight[c * per + i] *= s[c];
  }
  op.bias = bias;
}
