/**
 * Re-programming a trained model (issue 17 item 3, `adapt --full`): the same ONNX file with the
 * trained layers' weight and bias tensors replaced and nothing else changed. Only tensors the importer
 * reads unchanged can be written back exactly (an initializer or Constant node read by one node, float32,
 * Gemm with alpha = beta = 1, a Conv without a BatchNormalization folded into it), so each is checked against the imported layer before training starts.
 */
import type { onnx } from 'onnx-proto';
import { UsageError } from '../../errors.ts';
import type { BinaryOp, ConvOp, LinearOp } from '../../ir/graph.ts';
import { decodeModel, decodeTensor, type DecodedModel, type DecodedNode } from './decode.ts';
import type { ExternalDataReader } from './external.ts';
import { inlineFunctions } from './functions.ts';
import { DataType, proto, quote } from './proto.ts';

/** How one IR array maps onto an ONNX tensor: element i of the IR array is tensor element `index(i)`. */
interface Target {
  tensor: onnx.TensorProto;
  /** Tensor element of each IR element (null: the same order). */
  index: Int32Array | null;
}

/** The model's tensors the trained parameters of linear layers and bias Adds live in. */
export class OnnxParamWriter {
  private readonly model: DecodedModel;
  private readonly targets = new Map<Float32Array, Target>();

  /**
   * `externalData` reads the files of externally stored tensors. The encoded model embeds them, and
   * has its local functions inlined as the importer inlines them (so the layers' nodes are found).
   */
  constructor(bytes: Uint8Array, private readonly file: string, externalData?: ExternalDataReader) {
    this.model = decodeModel(bytes, file, externalData);
    inlineFunctions(this.model, bytes, file);
  }

  /** Registers a linear layer's weight (and bias): refused on one line when they are not plain tensors of its node. */
  addLinear(op: LinearOp): void {
    const node = this.node(op.name, op);
    const what = `${this.file}: layer ${quote(op.name)}`;
    const { K, N } = op;
    const weight = op.weight;
    if (!(weight instanceof Float32Array)) throw new UsageError(`${what}: float64 weights cannot be written back`);
    if (node.opType === 'Gemm') {
      for (const a of node.attribute) {
        if ((a.name === 'alpha' || a.name === 'beta') && a.f !== 1) throw new UsageError(`${what}: Gemm ${a.name} = ${a.f}; --full writes weights back only for alpha = beta = 1`);
        if (a.name === 'transA' && Number(a.i) !== 0) throw new UsageError(`${what}: Gemm transA = 1 is not supported by --full`);
      }
      const transB = node.attribute.some((a) => a.name === 'transB' && Number(a.i) !== 0);
      const index = transB ? Int32Array.from({ length: K * N }, (_, i) => (i % N) * K + Math.floor(i / N)) : null;
      this.register(weight, this.tensorOf(node, 1, what, 'weight B'), index, what, 'weight');
      if (op.bias) {
        if (node.input.length < 3 || !node.input[2]) throw new UsageError(`${what}: its bias does not come from Gemm's C`);
        this.register(op.bias, this.tensorOf(node, 2, what, 'bias C'), null, what, 'bias');
      }
    } else if (node.opType === 'MatMul') {
      this.register(weight, this.tensorOf(node, 1, what, 'weight B'), null, what, 'weight');
      if (op.bias) {
        // The importer folds the constant Add after a MatMul (PyTorch's Linear on tokens) into its bias.
        const adds = this.model.graph.node.filter((n) => n.opType === 'Add' && n.input.includes(node.output[0]));
        const c = adds.length === 1 ? adds[0].input.findIndex((x) => x !== node.output[0] && this.isConstant(x)) : -1;
        if (c < 0) throw new UsageError(`${what}: its bias is not the constant of one Add after the MatMul; --full cannot write it back`);
        this.register(op.bias, this.tensorOf(adds[0], c, `${what} (Add ${quote(adds[0].name)})`, 'bias'), null, what, 'bias');
      }
    } else {
      throw new UsageError(`${what}: node type ${node.opType}; --full writes back Gemm and MatMul weights only`);
    }
  }

  /** Registers a conv layer's weight [cout, cin/group, kh, kw] (and bias): the Conv node's W and B as stored, nothing folded in. */
  addConv(op: ConvOp): void {
    const node = this.node(op.name, op);
    const what = `${this.file}: layer ${quote(op.name)}`;
    if (node.opType !== 'Conv') throw new UsageError(`${what}: node type ${node.opType}; --full writes back Conv weights only from a Conv node`);
    this.register(op.weight, this.tensorOf(node, 1, what, 'weight W'), null, what, 'weight');
    if (op.bias) {
      if (node.input.length < 3 || !node.input[2]) throw new UsageError(`${what}: its bias does not come from Conv's B (folded at import); --full cannot write it back`);
      this.register(op.bias, this.tensorOf(node, 2, what, 'bias B'), null, what, 'bias');
    }
  }

  /** Registers the constant of an Add that follows a linear layer (PyTorch's MatMul + Add bias). */
  addBiasAdd(op: BinaryOp): void {
    if (!op.b) throw new Error(`${op.name}: not a constant Add`);
    const node = this.node(op.name, op);
    const what = `${this.file}: bias Add ${quote(op.name)}`;
    const i = node.input.findIndex((name) => this.isConstant(name));
    if (node.opType !== 'Add' || i < 0) throw new UsageError(`${what}: not an Add of a constant tensor`);
    this.register(op.b.data, this.tensorOf(node, i, what, 'bias'), null, what, 'constant');
  }

  /** The file's bytes with every registered tensor holding the current values of its IR array. */
  encode(): Uint8Array {
    for (const [data, t] of this.targets) {
      const raw = new Uint8Array(4 * data.length);
      const view = new DataView(raw.buffer);
      for (let i = 0; i < data.length; i++) view.setFloat32(4 * (t.index ? t.index[i] : i), data[i], true);
      t.tensor.rawData = raw;
      t.tensor.floatData = [];
    }
    return proto.ModelProto.encode(this.model as unknown as onnx.ModelProto).finish();
  }

  private node(name: string, op: { kind: string }): DecodedNode {
    // The importer's own naming rule (import.ts): a node without a name is `${opType}_${index}`.
    const nodes = this.model.graph.node.filter((n, i) => (n.name || `${n.opType}_${i}`) === name);
    if (nodes.length !== 1) throw new UsageError(`${this.file}: layer ${quote(name)} (${op.kind}) is not exactly one named node of the file, so --full cannot write it back`);
    return nodes[0];
  }

  private isConstant(name: string): boolean {
    return this.model.graph.initializer.some((t) => t.name === name) || this.model.graph.node.some((n) => n.opType === 'Constant' && n.output[0] === name);
  }

  /** The tensor behind input `i` of `node`: an initializer or a Constant node's value, read by this node only. */
  private tensorOf(node: DecodedNode, i: number, what: string, role: string): onnx.TensorProto {
    const name = node.input[i];
    const g = this.model.graph;
    const readers = g.node.reduce((c, n) => c + n.input.filter((x) => x === name).length, 0);
    if (readers !== 1) throw new UsageError(`${what}: ${role} ${quote(name)} is read by ${readers} inputs; --full writes back only tensors of one layer`);
    const init = g.initializer.find((t) => t.name === name);
    const constant = g.node.find((n) => n.opType === 'Constant' && n.output[0] === name)?.attribute.find((a) => a.name === 'value')?.t;
    const t = init ?? constant;
    if (!t) throw new UsageError(`${what}: ${role} ${quote(name)} is computed by other nodes, not an initializer or Constant; --full cannot write it back`);
    if (t.dataType !== DataType.FLOAT) throw new UsageError(`${what}: ${role} ${quote(name)} is not float32; --full writes back float32 tensors only`);
    return t as onnx.TensorProto;
  }

  /** Checks that the tensor, read through `index`, is exactly what the importer made of it. */
  private register(data: Float32Array, tensor: onnx.TensorProto, index: Int32Array | null, what: string, role: string): void {
    const t = decodeTensor(tensor, this.file);
    const same = t.kind === 'float' && t.data.length === data.length && data.every((v, i) => Object.is(v, t.data[index ? index[i] : i]));
    if (!same) throw new UsageError(`${what}: the imported ${role} is not the file's tensor ${quote(tensor.name)} as stored (folded or broadcast at import); --full cannot write it back`);
    if ([...this.targets.values()].some((x) => x.tensor === tensor)) throw new UsageError(`${what}: ${role} ${quote(tensor.name)} is shared with another layer`);
    this.targets.set(data, { tensor, index });
  }
}
