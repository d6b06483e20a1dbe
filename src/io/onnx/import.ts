/**
 * ONNX ModelProto → network IR (src/ir/graph.ts; DESIGN.md section 6).
 *
 * One pass over the (topologically sorted) nodes: constants and shape computations are folded (the
 * batch size a symbol), BatchNormalization and bias Adds are folded into the preceding Conv/Gemm/
 * MatMul when nothing else reads that layer's output, Identity/Dropout become aliases, and every
 * activation gets a static per-sample shape. Ops that do not reach an output are dropped, graph
 * inputs and outputs are packed when there are several (graph.ts `Network.input`), and layer indices
 * are assigned at the end. What each op type becomes is in the op table (ops/index.ts, one file per
 * op family); this file walks the graph.
 */
import type { onnx } from 'onnx-proto';
import { UsageError, messageOf } from '../../errors.ts';
import { isMatrixOp, matrixLayerOf, sameShape, type GraphDType, type GraphValue, type NetOp, type Network, type Shape } from '../../ir/graph.ts';
import { FoldError, count, floatsOf, isBatchDim, nonFinite } from './consts.ts';
import type { Const } from './consts.ts';
import { dataTypeName, decodeModel, decodeSparseTensor, decodeTensor } from './decode.ts';
import type { DecodedModel } from './decode.ts';
import type { ExternalDataReader } from './external.ts';
import { inlineFunctions } from './functions.ts';
import { NodeContext, NodeError } from './node.ts';
import type { BatchMerge, DType, FoldTarget, ImportState, MatrixOp, OpImporter, Value } from './node.ts';
import { CONTRIB_DOMAIN, CONTRIB_IMPORTERS, OP_IMPORTERS, importersOf } from './ops/index.ts';
import { holdsBatch, probeState, shapeOver, type Deferred } from './probe.ts';
import { DataType, bare, int64ToNumber, quote } from './proto.ts';

/**
 * Oldest and newest default-domain opsets accepted (the newest is the newest in ONNX's own node
 * tests). Opsets 7 and 8 (the ONNX Model Zoo's older files, PyTorch's opset 7/8 exports) read as 9
 * does but for Upsample's scales attribute, BatchNormalization's spatial and the former
 * experimental ops; before 7, Add and its kin broadcast only by a `broadcast` attribute.
 */
export const MIN_OPSET = 7;
export const MAX_OPSET = 27;

/** Op types the importer understands, from the op table (error messages list them). */
export const SUPPORTED_OPS: readonly string[] = [...OP_IMPORTERS.keys()].sort();

/** ONNX Runtime contrib op types (domain com.microsoft) the importer understands. */
export const SUPPORTED_CONTRIB_OPS: readonly string[] = [...CONTRIB_IMPORTERS.keys()].sort();

/** Per-sample graph-input shapes (no batch dim in a batched import) by ONNX name, '' for a model's only input. */
export type InputShapes = Readonly<Record<string, readonly number[]>>;

/**
 * Gives the shapes from the graph inputs' declared per-sample dims, by name (null: symbolic), so that
 * a caller whose shapes may or may not hold the batch, or may be laid out two ways, can tell which.
 */
export type InputShapesFor = (declared: Readonly<Record<string, readonly (number | null)[]>>) => InputShapes;

/** How to read the graph inputs. */
export interface ImportOptions {
  /**
   * True (the default): the first dim of every graph input is the batch. False: each graph input's
   * whole tensor is one sample and the network runs with a batch of 1 (ONNX node tests).
   */
  batched?: boolean;
  /** Reads the files externally stored tensors name (ONNX external data); without it such a model is refused. */
  externalData?: ExternalDataReader;
  /**
   * The per-sample shapes the graph inputs are to run at: they fix the symbolic dims (an export's
   * dynamic height, width or sequence length). Static dims are the file's; a shape that disagrees
   * with one is refused where the data is read. A function is called only if the model has a
   * symbolic per-sample dim, so that a data file is read (and its problems reported) only for a
   * model that needs it.
   */
  inputShapes?: InputShapes | InputShapesFor;
}

/** Parses ONNX bytes into a Network; every problem with the file is a one-line UsageError naming `fileLabel`. */
export function importOnnx(bytes: Uint8Array, fileLabel: string, options: ImportOptions = {}): Network {
  const model = decodeModel(bytes, fileLabel, options.externalData);
  inlineFunctions(model, bytes, fileLabel);
  return new Importer(model, fileLabel, options.batched ?? true, options.inputShapes ?? {}).run();
}

const GRAPH_DTYPES: Readonly<Record<number, GraphDType>> = {
  [DataType.FLOAT]: 'float32', [DataType.FLOAT16]: 'float16', [DataType.BFLOAT16]: 'bfloat16', [DataType.DOUBLE]: 'float64',
  [DataType.INT32]: 'int32', [DataType.INT64]: 'int64', [DataType.BOOL]: 'bool',
};

/** A dim whose size the file does not state: a dim_param, or no value (or a negative one). */
function isSymbolic(d: onnx.TensorShapeProto.IDimension): boolean {
  const n = int64ToNumber(d.dimValue);
  return !!d.dimParam || !(n >= 0) || (n === 0 && !d.dimValue && d.dimValue !== 0);
}

class Importer implements ImportState {
  private readonly graph: onnx.IGraphProto;
  readonly opset: number;
  private readonly consts = new Map<string, Const>();
  /** Constants holding ±Inf, with the refusal an op other than a mask's reading them gives. */
  private readonly infinite = new Map<string, string>();
  /** Every activation seen so far (also values later renamed by folding). */
  private readonly values = new Map<string, Value>();
  /** Identity/Dropout outputs → the value they pass through. */
  private readonly alias = new Map<string, string>();
  /** How many node inputs (Shape excluded: it reads no data) and graph outputs read each value. */
  private readonly uses = new Map<string, number>();
  private readonly producer = new Map<string, NetOp>();
  /** Node index that produces each name, to tell "defined later" from "never defined". */
  private readonly producedAt = new Map<string, number>();
  private readonly defined = new Set<string>();
  /** Every name the file uses, so that names made up for expanded ops never collide. */
  private readonly taken = new Set<string>();
  private readonly ops: NetOp[] = [];
  private readonly graphInputs: { name: string; dtype: GraphDType }[] = [];
  declaredBatch: number | null = null;
  /** `file: node "name" (Op)` of the node being imported, for messages about the constants it makes. */
  private where = '';
  /** Outputs of nodes whose fold waits for a batch size (probe.ts), by name. */
  private readonly deferred = new Map<string, Deferred>();
  /** Deferred values evaluated at a batch size, by batch size. */
  private readonly probed = new Map<number, Map<string, Const>>();
  /** ONNX sequences, which exist at import only: each is the list of its tensors' names. */
  private readonly sequences = new Map<string, readonly string[]>();
  /** Top-level index of the node being imported (a subgraph's nodes take their node's). */
  private at = 0;

  constructor(
    private readonly model: DecodedModel,
    private readonly file: string,
    readonly batched: boolean,
    private readonly shapesGiven: InputShapes | InputShapesFor,
  ) {
    this.graph = model.graph;
    this.opset = this.defaultOpset();
  }

  run(): Network {
    const g = this.graph;
    for (const t of g.initializer ?? []) {
      const c = this.tensor(t, `${this.file}: initializer`);
      this.noteFinite(t.name ?? '', c, `${this.file}: initializer ${quote(t.name)}`);
      this.consts.set(t.name ?? '', c);
      this.defined.add(t.name ?? '');
      this.taken.add(t.name ?? '');
    }
    for (const t of g.sparseInitializer ?? []) {
      // A pruned weight stored as its nonzeros is programmed as the dense matrix it stands for.
      const { name, ...c } = decodeSparseTensor(t, `${this.file}: sparse initializer`);
      if (this.defined.has(name)) throw new UsageError(`${this.file}: sparse initializer ${quote(name)} is also a dense initializer`);
      this.noteFinite(name, c, `${this.file}: sparse initializer ${quote(name)}`);
      this.consts.set(name, c);
      this.defined.add(name);
      this.taken.add(name);
    }
    this.readInputs();
    const outputs = (g.output ?? []).map((o) => o.name ?? '');
    if (outputs.length === 0) throw new UsageError(`${this.file}: the graph has no outputs`);
    const nodes = g.node ?? [];
    this.prepass(nodes, outputs);
    nodes.forEach((node, i) => this.node(node, i));
    return this.finish(outputs);
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

  /** Every graph input that is not an initializer: a float32 (or int32/int64/bool) tensor with static per-sample dims. */
  private readInputs(): void {
    const real = (this.graph.input ?? []).filter((v) => !this.consts.has(v.name ?? ''));
    const batches = new Set<number | null>();
    const perSample = (v: onnx.IValueInfoProto): onnx.TensorShapeProto.IDimension[] => (v.type?.tensorType?.shape?.dim ?? []).slice(this.batched ? 1 : 0);
    const symbolic = real.some((v) => perSample(v).some(isSymbolic));
    const declared = Object.fromEntries(real.map((v) => [v.name ?? '', perSample(v).map((d) => (isSymbolic(d) ? null : int64ToNumber(d.dimValue)))]));
    const given: InputShapes = !symbolic ? {} : typeof this.shapesGiven === 'function' ? this.shapesGiven(declared) : this.shapesGiven;
    const bound = this.boundDims(real, given);
    for (const v of real) {
      const name = v.name ?? '';
      if (this.defined.has(name)) throw new UsageError(`${this.file}: graph input ${quote(name)} is listed twice`);
      const tt = v.type?.tensorType;
      if (!tt) throw new UsageError(`${this.file}: graph input ${quote(name)} is not a tensor`);
      const dtype = GRAPH_DTYPES[tt.elemType || DataType.FLOAT];
      if (!dtype) {
        throw new UsageError(`${this.file}: graph input ${quote(name)} is ${dataTypeName(tt.elemType ?? 0)}; only float inputs (float32, float16, bfloat16, float64: computed in f32) and int32, int64 or bool ones (carried as exact f32 values) are supported`);
      }
      const dims = tt.shape?.dim;
      if (!dims || (dims.length === 0 && this.batched)) {
        throw new UsageError(`${this.file}: graph input ${quote(name)} has no shape; a [batch, ...] shape with static per-sample dims is needed`);
      }
      if (this.batched) {
        const b = int64ToNumber(dims[0].dimValue);
        batches.add(!dims[0].dimParam && b > 0 ? b : null);
      }
      const fixedBy = this.givenShape(given, name, real.length, dims);
      const shape = dims.slice(this.batched ? 1 : 0).map((d, i) => {
        const n = int64ToNumber(d.dimValue);
        const at = i + (this.batched ? 1 : 0);
        if (!isSymbolic(d)) return n;
        const fixed = fixedBy?.[i] ?? (d.dimParam ? bound.get(d.dimParam) : undefined);
        if (fixed !== undefined) return fixed;
        throw new UsageError(`${this.file}: graph input ${quote(name)} has a symbolic or unknown dim ${at}${d.dimParam ? ` (${quote(d.dimParam)})` : ''}; per-sample dims must be static or fixed by the shape of the inputs (the --inputs file's; energy's --input-shape)`);
      });
      this.values.set(name, { name, shape, dtype: dtype === 'bool' ? 'bool' : dtype === 'int32' || dtype === 'int64' ? 'int' : 'float' });
      this.defined.add(name);
      this.taken.add(name);
      this.graphInputs.push({ name, dtype });
    }
    if (batches.size > 1) {
      throw new UsageError(`${this.file}: the graph inputs declare different batch sizes (${[...batches].map((b) => b ?? 'symbolic').join(', ')}); their first dims must all be the batch`);
    }
    const [b] = [...batches];
    this.declaredBatch = b ?? null;
  }

  /** The per-sample shape the caller gives for graph input `name` (declared as `dims`), or undefined; one of another rank is refused. */
  private givenShape(given: InputShapes, name: string, inputs: number, dims: readonly onnx.TensorShapeProto.IDimension[]): readonly number[] | undefined {
    const s = given[name] ?? (inputs === 1 ? given[''] : undefined);
    const lead = this.batched ? 1 : 0;
    // A static dim the inputs contradict is refused here, in the file's own terms.
    if (!s || (s.length === dims.length - lead && dims.slice(lead).every((d, i) => isSymbolic(d) || int64ToNumber(d.dimValue) === s[i]))) return s;
    const declared = dims.map((d, i) => (i === 0 && this.batched ? 'N' : isSymbolic(d) ? (d.dimParam || '?') : String(int64ToNumber(d.dimValue))));
    const N = this.batched ? 'N, ' : '';
    throw new UsageError(`${this.file}: graph input ${quote(name)} takes [${declared.join(', ')}] but its inputs are [${N}${s.join(', ')}]`);
  }

  /**
   * Named symbolic dims (dim_param) fixed by the given shapes, so that an input given no shape takes
   * them from one that was (an attention mask's "sequence" from the token ids'); one name fixed to
   * two sizes is refused.
   */
  private boundDims(real: readonly onnx.IValueInfoProto[], given: InputShapes): Map<string, number> {
    const bound = new Map<string, { size: number; input: string }>();
    for (const v of real) {
      const name = v.name ?? '';
      const dims = v.type?.tensorType?.shape?.dim ?? [];
      const shape = this.givenShape(given, name, real.length, dims);
      if (!shape) continue;
      dims.slice(this.batched ? 1 : 0).forEach((d, i) => {
        if (!isSymbolic(d) || !d.dimParam) return;
        const had = bound.get(d.dimParam);
        if (had && had.size !== shape[i]) {
          throw new UsageError(`${this.file}: symbolic dim ${quote(d.dimParam)} is ${had.size} in the inputs of ${quote(had.input)} but ${shape[i]} in those of ${quote(name)}`);
        }
        bound.set(d.dimParam, { size: shape[i], input: name });
      });
    }
    return new Map([...bound].map(([k, v]) => [k, v.size]));
  }

  /** Records aliases and counts readers, so folding can tell whether a layer's output has other uses. */
  private prepass(nodes: onnx.INodeProto[], outputs: string[]): void {
    // An op xbarsim cannot run is the first thing to say, before any error the nodes ahead of it raise
    // (a shape computation feeding it, like a constant shaped by the batch, might be refused first).
    nodes.forEach((n, i) => this.importerOf(n, i));
    this.prepassNodes(nodes, (i) => i);
    for (const o of outputs) this.use(this.resolve(o));
  }

  /**
   * The prepass over a graph's nodes (`at` gives each node's top-level index). If's branches are
   * passed over too, whichever one import takes: a value a branch reads has that reader, so no
   * earlier node folds it away, and each branch output counts as one read of its value.
   */
  private prepassNodes(nodes: readonly onnx.INodeProto[], at: (i: number) => number): void {
    nodes.forEach((n, i) => {
      for (const a of n.attribute ?? []) {
        if (!a.g) continue;
        this.prepassNodes(a.g.node ?? [], () => at(i));
        for (const t of a.g.initializer ?? []) this.taken.add(t.name ?? '');
        for (const o of a.g.output ?? []) if (o.name) this.use(this.resolve(o.name));
      }
      for (const o of n.output ?? []) {
        if (!o) continue;
        if (this.producedAt.has(o) || this.defined.has(o)) {
          const nodeName = n.name || `${n.opType ?? ''}_${i}`;
          throw new UsageError(`${this.file}: node ${quote(nodeName)} writes ${quote(o)}, which is already defined (an ONNX graph assigns each value once)`);
        }
        this.producedAt.set(o, at(i));
        this.taken.add(o);
      }
      const reads = importersOf(n.domain)?.get(n.opType ?? '')?.reads ?? 'data';
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

  /** The importer of a node's op, or a one-line refusal naming it. */
  private importerOf(node: onnx.INodeProto, index: number): OpImporter {
    const op = node.opType ?? '';
    const name = node.name || `${op}_${index}`;
    const table = importersOf(node.domain);
    if (!table) {
      throw new UsageError(`${this.file}: node ${quote(name)} (${bare(op)}) is in domain ${quote(node.domain)}; only the default ONNX domain and ${quote(CONTRIB_DOMAIN)} (ONNX Runtime's contrib ops) are supported`);
    }
    const importer = table.get(op);
    if (!importer && table === CONTRIB_IMPORTERS) {
      throw new UsageError(`${this.file}: unsupported op ${quote(op)} of domain ${quote(CONTRIB_DOMAIN)} at node ${quote(name)} (supported there: ${SUPPORTED_CONTRIB_OPS.join(', ')})`);
    }
    if (!importer) {
      throw new UsageError(`${this.file}: unsupported op ${quote(op)} at node ${quote(name)} (opset ${this.opset}; supported: ${SUPPORTED_OPS.join(', ')})`);
    }
    return importer;
  }

  /** Imports one node; `prefix` starts the made-up names of unnamed nodes (a branch's). */
  private node(node: onnx.INodeProto, index: number, prefix = ''): void {
    const op = node.opType ?? '';
    const name = node.name || `${prefix}${op}_${index}`;
    const where = `${this.file}: node ${quote(name)} (${bare(op)})`;
    const importer = this.importerOf(node, index);
    for (const x of node.input ?? []) {
      if (!x || this.defined.has(x)) continue;
      const at = this.producedAt.get(x);
      if (at !== undefined && at >= index) {
        throw new UsageError(`${where} reads ${quote(x)} before node ${at} produces it: the graph is not topologically sorted`);
      }
      throw new UsageError(`${where} reads ${quote(x)}, which is not a graph input, an initializer or the output of an earlier node`);
    }
    this.where = where;
    this.at = index;
    const ins = (node.input ?? []).filter((x) => x);
    const waiting = ins.map((x) => this.deferred.get(this.resolve(x))).find((d) => d);
    if (waiting) {
      // A shape computation on deferred values waits with them. An op that reads them itself
      // (batchProbe) gets them as they are; anything else takes them as constants if they are shapes
      // with the batch in them (a Reshape target [batch, 4] built from the indices).
      const shapeWork = !importer.control && ins.every((x) => this.constOf(x) || this.deferred.has(this.resolve(x))) && (importer.fold || importer.always);
      if (shapeWork) return this.defer(node, name, where, waiting.refusal);
      if (!importer.batchProbe) for (const x of ins) this.settle(x);
    }
    try {
      importNode(importer, new NodeContext(this, node, name, where));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const batchSized = !importer.control && (e instanceof NodeError || e instanceof FoldError) && ins.length > 0 && ins.every((x) => this.constOf(x)) && ins.some((x) => holdsBatch(this.constOf(x)!));
      if (batchSized) return this.defer(node, name, where, `${where}: ${(e as Error).message}`);
      if (e instanceof NodeError || e instanceof FoldError) throw new UsageError(`${where}: ${e.message}`);
      // Absurd sizes in a corrupt file surface as RangeErrors from array allocation.
      if (e instanceof RangeError) throw new UsageError(`${where}: cannot be imported (${messageOf(e)})`);
      throw e;
    }
    for (const o of node.output ?? []) if (o) this.defined.add(o);
  }

  /** Marks a node's outputs as waiting for a batch size (probe.ts). */
  private defer(node: onnx.INodeProto, name: string, where: string, refusal: string): void {
    for (const o of node.output ?? []) {
      if (!o) continue;
      this.deferred.set(o, { node, name, where, refusal });
      this.defined.add(o);
    }
  }

  markSampleOffset(name: string, k: number): void {
    const v = this.values.get(name);
    if (!v) throw new Error(`importer: ${name} is not an activation`);
    v.sampleOffset = k;
  }

  /** Makes a deferred value a constant when it is a shape with the batch in it (probe.ts shapeOver); else refuses with its node's message. */
  settle(name: string): void {
    const r = this.resolve(name);
    if (!this.deferred.has(r)) return;
    const c = shapeOver((batch) => this.probe(r, batch));
    if (!c) throw new UsageError(this.deferred.get(r)!.refusal);
    this.deferred.delete(r);
    this.consts.set(r, c);
  }

  // ---- ImportState: what op importers see ----

  probe(name: string, batch: number): Const {
    const r = this.resolve(name);
    const known = this.probed.get(batch) ?? new Map<string, Const>();
    this.probed.set(batch, known);
    const d = this.deferred.get(r);
    if (!d) {
      const c = this.constOf(r);
      if (!c) throw new NodeError(`${quote(name)} must be known at import (a constant or a shape computation), not an activation`);
      return probeState(this, known, batch).constOf(r)!;
    }
    if (!known.has(r)) {
      for (const x of d.node.input ?? []) if (x && this.deferred.has(this.resolve(x))) this.probe(x, batch);
      try {
        importNode(this.importerOf(d.node, 0), new NodeContext(probeState(this, known, batch), d.node, d.name, d.where));
      } catch (e) {
        if (e instanceof NodeError || e instanceof FoldError) throw new UsageError(d.refusal);
        throw e;
      }
      if (!known.has(r)) throw new UsageError(d.refusal);
    }
    return known.get(r)!;
  }

  inline(g: onnx.IGraphProto, outputs: readonly string[], where: string, prefix: string, unseen = false): void {
    const index = this.at;
    if (unseen) {
      // Nodes made during import (an unrolled iteration, a sequence's concat) were not in the
      // prepass: their reads are counted now, before any of them is imported.
      this.prepassNodes(g.node ?? [], () => index);
      for (const o of g.output ?? []) if (o.name) this.use(this.resolve(o.name));
    }
    const shadow = (name: string): void => {
      if (this.defined.has(name)) throw new UsageError(`${where} defines ${quote(name)}, a name of the outer graph (shadowing is not supported)`);
    };
    for (const t of g.initializer ?? []) {
      const name = t.name ?? '';
      shadow(name);
      const c = this.tensor(t, `${where}: initializer`);
      this.noteFinite(name, c, `${where}: initializer ${quote(name)}`);
      this.consts.set(name, c);
      this.defined.add(name);
    }
    for (const n of g.node ?? []) {
      for (const o of n.output ?? []) if (o) shadow(o);
      this.node(n, index, prefix);
    }
    const outs = (g.output ?? []).map((o) => o.name ?? '');
    if (outs.length !== outputs.length) throw new UsageError(`${where} has ${outs.length} outputs for the node's ${outputs.length}`);
    outs.forEach((src, i) => {
      const dst = outputs[i];
      if (!dst) return;
      if (!this.defined.has(src)) throw new UsageError(`${where}: output ${quote(src)} is never defined`);
      const r = this.resolve(src);
      this.alias.set(dst, r);
      this.defined.add(dst);
      // The node's readers read the branch's value: it had one (the branch output) counted for them.
      this.uses.set(r, (this.uses.get(r) ?? 0) - 1 + (this.uses.get(dst) ?? 0));
    });
  }

  bind(dst: string, src: string): void {
    const r = this.resolve(src);
    if (r === dst) return;
    this.alias.set(dst, r);
    this.defined.add(dst);
    this.uses.set(r, (this.uses.get(r) ?? 0) + (this.uses.get(dst) ?? 0));
  }
  seqOf(name: string): readonly string[] | undefined {
    return this.sequences.get(this.resolve(name));
  }
  setSeq(name: string, items: readonly string[]): void {
    this.sequences.set(name, [...items]);
  }
  constOf(name: string): Const | undefined {
    return this.consts.get(this.resolve(name));
  }
  setConst(name: string, c: Const): void {
    // Constant nodes and folded weights are weights too: NaN or Inf in them is refused like in initializers.
    this.noteFinite(name, c, `${this.where}: output ${quote(name)}`);
    this.consts.set(name, c);
    this.defined.add(name);
  }
  infiniteOf(name: string): string | undefined {
    return this.infinite.get(this.resolve(name));
  }

  /**
   * NaN in a constant is refused at once. ±Inf is refused when an op other than a mask's reads it
   * (NodeContext.constAt): a weight with it gives silently wrong results, while attention masks are
   * written with −Inf (nn.Transformer.generate_square_subsequent_mask).
   */
  private noteFinite(name: string, c: Const, what: string): void {
    const bad = nonFinite(c, what);
    if (!bad) return;
    if (bad.nan) throw new UsageError(bad.message);
    this.infinite.set(name, bad.message);
  }
  valueOf(name: string): Value | undefined {
    const r = this.resolve(name);
    return this.consts.has(r) ? undefined : this.values.get(r);
  }
  usesOf(name: string): number {
    return this.uses.get(this.resolve(name)) ?? 0;
  }
  tensor(t: onnx.ITensorProto, where: string): Const {
    const d = decodeTensor(t, where);
    return d.kind === 'float' ? { kind: 'float', dims: d.dims, data: d.data } : { kind: 'int', dims: d.dims, data: d.data, elem: d.elem };
  }
  emit(op: NetOp, shape: number[], dtype: DType = 'float', batchAt = 0, merged?: BatchMerge): void {
    this.ops.push(op);
    this.producer.set(op.output, op);
    this.values.set(op.output, { name: op.output, shape, dtype, ...(batchAt ? { batchAt } : {}), ...(merged ? { merged } : {}) });
  }
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}:${i}`;
    this.taken.add(name);
    return name;
  }

  noteSource(op: MatrixOp, key: string): void {
    this.sources.set(op, key);
  }

  canonicalName(name: string): string {
    return this.resolve(name);
  }

  private readonly sources = new Map<MatrixOp, string>();

  producerOf(value: string): NetOp | undefined {
    return this.producer.get(this.resolve(value));
  }

  foldTarget(value: string): FoldTarget | null {
    const v = this.resolve(value);
    if ((this.uses.get(v) ?? 0) !== 1) return null;
    const stack = this.stacks.get(v);
    if (stack) return { value: v, layers: stack, rank: this.values.get(v)!.shape.length };
    const p = this.producer.get(v);
    if (!p || (p.kind !== 'linear' && p.kind !== 'conv')) return null;
    // A tied layer's weights serve every use: folding a later op into them would change the others.
    if (p.kind === 'linear' && p.tie !== undefined) return null;
    return { value: v, layers: [p], rank: p.kind === 'linear' ? p.inShape.length : 3 };
  }

  foldInto(t: FoldTarget, to: string, change: (op: MatrixOp) => void): void {
    const [first, ...rest] = t.layers;
    change(first);
    for (const op of rest) Object.assign(op, { weight: first.weight, bias: first.bias });
    const from = t.value;
    const op = this.producer.get(from)!;
    const v = this.values.get(from)!;
    this.producer.delete(from);
    op.output = to;
    this.producer.set(to, op);
    this.values.set(to, { ...v, name: to });
    const stack = this.stacks.get(from);
    if (stack) {
      this.stacks.delete(from);
      this.stacks.set(to, stack);
    }
  }

  noteStack(value: string, convs: readonly MatrixOp[]): void {
    this.stacks.set(value, convs);
  }

  /** Values that stack the per-depth convs of a 3-D convolution (noteStack). */
  private readonly stacks = new Map<string, readonly MatrixOp[]>();

  // ---- the network ----

  /** A graph output's activation; a constant output becomes a `constant` op. */
  private outputValue(name: string): Value {
    const r = this.resolve(name);
    if (!this.defined.has(name)) throw new UsageError(`${this.file}: graph output ${quote(name)} is not produced by any node`);
    const waiting = this.deferred.get(r);
    if (waiting) throw new UsageError(waiting.refusal);
    if (this.sequences.has(r)) throw new UsageError(`${this.file}: graph output ${quote(name)} is a sequence; outputs must be tensors (ConcatFromSequence makes one)`);
    const v = this.valueOf(r);
    if (v?.merged) throw new UsageError(`${this.file}: graph output ${quote(name)} has the batch merged with another dim into axis ${v.batchAt ?? 0}; outputs must have a separate batch dimension first`);
    if (v?.batchAt) throw new UsageError(`${this.file}: graph output ${quote(name)} has the batch dimension at axis ${v.batchAt}; outputs must have it first`);
    if (v?.sampleOffset) throw new UsageError(`${this.file}: graph output ${quote(name)} holds row indices plus torch.arange(batch)·${v.sampleOffset}, which only a Gather of a [batch·${v.sampleOffset}, …] view can read`);
    if (v) return v;
    const c = this.consts.get(r)!;
    const inf = this.infinite.get(r);
    if (inf) throw new UsageError(inf);
    if (c.kind === 'int' && c.data.some(isBatchDim)) {
      throw new UsageError(`${this.file}: graph output ${quote(name)} is a shape that depends on the batch size`);
    }
    // A constant has no batch dimension; only a whole-tensor import (batch 1) can return one.
    if (this.batched) throw new UsageError(`${this.file}: graph output ${quote(name)} is a constant of dims [${c.dims.join(', ')}], which has no batch dimension`);
    const dims = c.dims;
    const out = this.fresh(`${r}:constant`);
    this.where = `${this.file}: graph output ${quote(name)}`;
    this.emit({ kind: 'constant', name: r, inputs: [], output: out, value: { dims, data: Float32Array.from(floatsOf(c, name)) } }, dims, c.kind === 'int' ? 'int' : 'float');
    return this.values.get(out)!;
  }

  private finish(outputNames: string[]): Network {
    const outs = outputNames.map((o) => ({ name: o, v: this.outputValue(o), dtype: this.outputDType(o) }));
    // Drop ops whose results never reach an output (unused branches, folded-away shape paths).
    const live = new Set(outs.map((o) => o.v.name));
    const kept: NetOp[] = [];
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      if (!live.has(op.output)) continue;
      kept.push(op);
      for (const x of op.inputs) live.add(x);
    }
    kept.reverse();
    // Inputs no output depends on are not fed; a network of constant outputs still takes its first input.
    const used = this.graphInputs.filter((x) => live.has(x.name));
    const inputs = this.packed((used.length > 0 ? used : this.graphInputs.slice(0, 1)).map((x) => ({ name: x.name, value: x.name, dtype: x.dtype })));
    const outputs = this.packed(outs.map((o) => ({ name: o.name, value: o.v.name, dtype: o.dtype })));
    // With no graph input at all (a graph of constants), the network takes empty samples.
    const inName = inputs.values.length === 1 ? inputs.values[0].name : this.fresh(inputs.values.length === 0 ? 'inputs:none' : 'inputs:packed');
    const outName = outputs.values.length === 1 ? outputs.values[0].value : this.fresh('outputs:packed');
    const ops = [...unpackOps(inputs, inName), ...kept, ...packOps(outputs, outName, (b) => this.fresh(b))];
    const inShape = inputs.values.length === 1 ? inputs.values[0].shape : [inputs.size];
    const shapes = new Map<string, Shape>([[inName, inShape]]);
    tieReused(ops, this.sources);
    const layers = matrixLayerOf(ops);
    for (const op of ops) {
      if (isMatrixOp(op)) op.layerIndex = layers.get(op)!;
      shapes.set(op.output, this.values.get(op.output)?.shape ?? packingShape(op));
    }
    return { input: { name: inName, shape: inShape }, output: outName, inputs: inputs.values, outputs: outputs.values, batched: this.batched, shapes, ops, opset: this.opset };
  }

  private outputDType(name: string): GraphDType {
    const v = this.valueOf(name);
    const c = this.constOf(name);
    const d: DType = v ? v.dtype : c?.kind === 'int' ? 'int' : 'float';
    return d === 'float' ? 'float32' : d === 'bool' ? 'bool' : 'int64';
  }

  /** Graph values with their shapes and offsets in a packed sample. */
  private packed(vs: { name: string; value: string; dtype: GraphDType }[]): { values: GraphValue[]; size: number } {
    let offset = 0;
    const values = vs.map((v) => {
      const shape = this.values.get(v.value)!.shape;
      const g = { ...v, shape, offset };
      offset += count(shape);
      return g;
    });
    return { values, size: offset };
  }
}

/**
 * Ties the layers a module called again made (noteSource): of one source, a layer whose final
 * weight, bias and shape equal an earlier one's (folds done: a BatchNorm folded into both calls
 * alike) becomes that layer's use, with its name, arrays and tie. Equal values from one source are
 * the test: PyTorch routes equal initializers through Identity, so two separate layers that are
 * exact copies are tied too (they would program the same conductances up to noise).
 */
function tieReused(ops: readonly NetOp[], sources: ReadonlyMap<MatrixOp, string>): void {
  const reps = new Map<string, MatrixOp[]>();
  const equal = (a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean => {
    if (a === b) return true;
    if (!a || !b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  for (const op of ops) {
    if (!isMatrixOp(op)) continue;
    const key = sources.get(op);
    if (key === undefined) continue;
    const seen = reps.get(key) ?? [];
    reps.set(key, seen);
    const rep = seen.find((r) => r.kind === op.kind && sameShape(r, op) && equal(r.weight, op.weight) && equal(r.bias, op.bias));
    if (!rep) {
      seen.push(op);
      continue;
    }
    if (rep === op) continue;
    rep.tie ??= `${rep.name}#reused`;
    Object.assign(op, { tie: rep.tie, name: rep.name, weight: rep.weight, bias: rep.bias });
  }
}

/** The per-sample shape of a packing op's output (those are not importer values). */
function packingShape(op: NetOp): Shape {
  if (op.kind === 'reshape' || op.kind === 'slice') return op.outShape;
  if (op.kind === 'concat') return [op.inShapes.reduce((s, x) => s + x[0], 0)];
  throw new Error(`importer: no shape for ${op.kind} ${op.name}`);
}

/** Slices each graph input out of the packed input `packed` (nothing when there is one input). */
function unpackOps(inputs: { values: GraphValue[]; size: number }, packed: string): NetOp[] {
  if (inputs.values.length < 2) return [];
  return inputs.values.flatMap((v) => {
    const n = count(v.shape);
    const flat = `${packed}/${v.value}`;
    return [
      { kind: 'slice', name: `${v.name}:unpack`, inputs: [packed], output: flat, starts: [v.offset], steps: [1], inShape: [inputs.size], outShape: [n] },
      { kind: 'reshape', name: `${v.name}:unpack`, inputs: [flat], output: v.value, outShape: v.shape },
    ] satisfies NetOp[];
  });
}

/** Flattens each output and concatenates them into `packed`. */
function packOps(outputs: { values: GraphValue[] }, packed: string, fresh: (base: string) => string): NetOp[] {
  if (outputs.values.length < 2) return [];
  const flats = outputs.values.map((v) => ({ v, flat: fresh(`${v.value}:flat`) }));
  return [
    ...flats.map(({ v, flat }) => ({ kind: 'reshape', name: `${v.name}:pack`, inputs: [v.value], output: flat, outShape: [count(v.shape)] }) satisfies NetOp),
    { kind: 'concat', name: 'outputs:pack', inputs: flats.map((f) => f.flat), output: packed, axis: 0, inShapes: flats.map((f) => [count(f.v.shape)]) },
  ];
}

/**
 * Runs a node's importer: `always`, else `fold` when every present input is a constant, else
 * `activation`. An op that cannot fold its constant inputs runs on them at run time when the import
 * has no batch (the constants are then whole samples).
 */
function importNode(imp: OpImporter, n: NodeContext): void {
  if (imp.always) return imp.always(n);
  const present = n.ins.filter((x) => x);
  if (present.length === 0) throw new NodeError('has no inputs');
  if (present.every((x) => n.imp.constOf(x))) {
    n.folding = true;
    const folded = imp.fold?.(n) ?? null;
    n.folding = false;
    if (folded) return n.imp.setConst(n.out, folded);
    if (imp.activation && imp.constInputs) return imp.activation(n);
    if (!imp.activation || n.imp.batched) throw new NodeError('has only constant inputs, and folding this op is not supported');
    const c = n.constAt(0)!;
    n.ins[0] = n.constValue(c, c.dims, 'input').name;
  }
  if (!imp.activation) throw new NodeError('is supported on constants only (shape computations), not on activations');
  imp.activation(n);
}

