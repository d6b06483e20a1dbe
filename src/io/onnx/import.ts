/**
 * ONNX ModelProto → network IR (src/ir/graph.ts; DESIGN.md section 6).
 *
 * One pass over the (topologically sorted) nodes: constants and shape computations are folded,
 * BatchNormalization and bias Adds are folded into the preceding Conv/Gemm/MatMul when nothing else
 * reads that layer's output, Identity/Dropout become aliases, and every activation gets a static
 * per-sample shape. Unused ops are dropped and layer indices are assigned at the end. What each op
 * type becomes is in the op table (ops/index.ts, one file per op family); this file walks the graph.
 */
import type { onnx } from 'onnx-proto';
import { UsageError, messageOf } from '../../errors.ts';
import type { NetOp, Network, Shape } from '../../ir/graph.ts';
import { FoldError, checkFiniteConst } from './consts.ts';
import type { Const } from './consts.ts';
import { dataTypeName, decodeModel, decodeTensor } from './decode.ts';
import type { DecodedModel } from './decode.ts';
import { NodeContext, NodeError } from './node.ts';
import type { ImportState, MatrixOp, OpImporter } from './node.ts';
import { OP_IMPORTERS } from './ops/index.ts';
import { DataType, bare, int64ToNumber, quote } from './proto.ts';

/** Oldest and newest default-domain opsets accepted. */
export const MIN_OPSET = 9;
export const MAX_OPSET = 21;

/** Op types the importer understands, from the op table (error messages list them). */
export const SUPPORTED_OPS: readonly string[] = [...OP_IMPORTERS.keys()].sort();

/** Parses ONNX bytes into a Network; every problem with the file is a one-line UsageError naming `fileLabel`. */
export function importOnnx(bytes: Uint8Array, fileLabel: string): Network {
  const model = decodeModel(bytes, fileLabel);
  return new Importer(model, fileLabel).run();
}

class Importer implements ImportState {
  private readonly graph: onnx.IGraphProto;
  readonly opset: number;
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
  /** `file: node "name" (Op)` of the node being imported, for messages about the constants it makes. */
  private where = '';
  declaredBatch: number | null = null;

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
      const c = this.tensor(t, `${this.file}: initializer`);
      checkFiniteConst(c, `${this.file}: initializer ${quote(t.name)}`);
      this.consts.set(t.name ?? '', c);
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
      const reads = OP_IMPORTERS.get(n.opType ?? '')?.reads ?? 'data';
      const ins = n.input ?? [];
      if (reads === 'alias' && ins[0] && n.output?.[0]) {
        const src = this.resolve(ins[0]);
        if (src !== n.output[0]) this.alias.set(n.output[0], src);
        // Dropout's ratio/training_mode inputs are only inspected, never read as data.
        return;
      }
      if (reads === 'shape') return;
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
    const importer = OP_IMPORTERS.get(op);
    if (!importer) {
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
    this.where = where;
    try {
      importNode(importer, new NodeContext(this, node, name, where));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      if (e instanceof NodeError || e instanceof FoldError) throw new UsageError(`${where}: ${e.message}`);
      // Absurd sizes in a corrupt file surface as RangeErrors from array allocation.
      if (e instanceof RangeError) throw new UsageError(`${where}: cannot be imported (${messageOf(e)})`);
      throw e;
    }
    for (const o of node.output ?? []) if (o) this.defined.add(o);
  }

  // ---- ImportState: what op importers see ----

  constOf(name: string): Const | undefined {
    return this.consts.get(this.resolve(name));
  }
  setConst(name: string, c: Const): void {
    // Constant nodes and folded weights are weights too: NaN or Inf in them is refused like in initializers.
    checkFiniteConst(c, `${this.where}: output ${quote(name)}`);
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

  foldTarget(value: string): MatrixOp | null {
    const v = this.resolve(value);
    const p = this.producer.get(v);
    if (!p || (p.kind !== 'linear' && p.kind !== 'conv')) return null;
    if ((this.uses.get(v) ?? 0) !== 1) return null;
    return p;
  }

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

/** Runs a node's importer: `always`, else `fold` when every present input is a constant, else `activation`. */
function importNode(imp: OpImporter, n: NodeContext): void {
  if (imp.always) return imp.always(n);
  const present = n.ins.filter((x) => x);
  if (present.length === 0) throw new NodeError('has no inputs');
  if (present.every((x) => n.imp.constOf(x))) {
    if (!imp.fold) throw new NodeError('has only constant inputs, and folding this op is not supported');
    n.imp.setConst(n.out, imp.fold(n));
    return;
  }
  if (!imp.activation) throw new NodeError('is supported on constants only (shape computations), not on activations');
  imp.activation(n);
}
