/**
 * Matrix ops (Gemm, MatMul) → the IR's crossbar layers where the weight is a constant (issue 12
 * item 4), `matmul` of two activations otherwise; and the folding of per-channel affine maps
 * (BatchNormalization, bias Adds) into crossbar layers (Conv and ConvTranspose: conv.ts).
 */
import type { LinearOp } from '../../../ir/graph.ts';
import { floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { foldBinary, foldMatMul, foldTranspose } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { BatchMerge, FoldTarget, MatrixOp, NodeContext, OpTable, Value } from '../node.ts';

/** Largest product of constants MatMul folds (elements): VGG's 25088×4096 weight times a small matrix. */
const MAX_FOLDED_PRODUCT = 1 << 26;

/** Emits a reshape of `x` to `shape` into a fresh value (or `out`), returning it. */
export function reshapeTo(n: NodeContext, x: Value, shape: number[], out?: string, batchAt = 0, merged?: BatchMerge): Value {
  const name = out ?? n.imp.fresh(`${n.name}/reshape`);
  n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: name, outShape: shape }, shape, x.dtype, batchAt, merged);
  return n.imp.valueOf(name)!;
}

/** emitLinear of a layer made from a weight source (`key`, see ImportState.noteSource): a module called again ties to it. */
function emitSourced(n: NodeContext, key: string, x: Value, K: number, N: number, weight: Float32Array, bias: Float32Array | null, out: string): Value {
  const y = emitLinear(n, x, K, N, weight, bias, out);
  n.imp.noteSource(n.imp.producerOf(out) as LinearOp, key);
  return y;
}

/**
 * Emits a crossbar linear layer over the last axis of `x` (weight row-major [K, N]) into `out`; ops
 * emitted with the same `tie` (and the same weight, bias and name) are one layer used several times.
 */
export function emitLinear(n: NodeContext, x: Value, K: number, N: number, weight: Float32Array, bias: Float32Array | null, out: string, name = n.name, tie?: string): Value {
  if (x.shape[x.shape.length - 1] !== K) throw new NodeError(`input has ${x.shape[x.shape.length - 1]} features but the weight has ${K} rows`);
  const op: LinearOp = { kind: 'linear', name, inputs: [x.name], output: out, layerIndex: -1, K, N, inShape: x.shape, weight, bias, ...(tie === undefined ? {} : { tie }) };
  // Samples stay whole in memory wherever the batch sits among the ONNX axes, so the batch keeps its place.
  n.imp.emit(op, [...x.shape.slice(0, -1), N], 'float', x.batchAt ?? 0, x.merged);
  return n.imp.valueOf(out)!;
}

function gemm(n: NodeContext): void {
  let x = n.valueAnyBatch(0, 'A', true);
  // PyTorch's attention output [T·batch, D]: the batch merged into the rows, each row a vector.
  const rowsMerged = !!x.merged && (x.batchAt ?? 0) === 0 && x.shape.length === 2;
  if (!rowsMerged) x = n.value(0, 'A');
  const rank = n.imp.batched && !rowsMerged ? 1 : 2;
  if (x.shape.length !== rank) throw new NodeError(`input A has per-sample shape [${x.shape.join(', ')}]; Gemm needs [batch, K]`);
  if (n.a.int('transA', 0) !== 0) {
    if (n.imp.batched) throw new NodeError('transA = 1 is not supported (A is the batch of activations)');
    const t = n.imp.fresh(`${n.name}/transA`);
    n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: t, perm: [1, 0], inShape: x.shape }, [x.shape[1], x.shape[0]]);
    x = n.imp.valueOf(t)!;
  }
  const b = n.constIn(1, 'B (weight)');
  if (b.dims.length !== 2) throw new NodeError(`weight B has dims [${b.dims.join(', ')}]; Gemm needs a 2-D B`);
  const transB = n.a.int('transB', 0) !== 0;
  const alpha = n.a.float('alpha', 1);
  const beta = n.a.float('beta', 1);
  const [K, N] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  const features = x.shape[x.shape.length - 1];
  if (K !== features) throw new NodeError(`input has ${features} features but weight B${transB ? 'ᵀ' : ''} has ${K} rows`);
  const weight = (): Float32Array => gemmWeight(floatsOf(b, 'weight B'), K, N, transB, alpha);
  const c = n.optConst(2, 'C (bias)');
  const per = c && beta !== 0 ? perOutput(c.dims, N) : null;
  if (c && beta !== 0 && !per && n.imp.batched) {
    throw new NodeError(`bias C has dims [${c.dims.join(', ')}]; it must broadcast to [${N}] (a per-batch bias is not supported)`);
  }
  const bias = (): Float32Array | null => {
    if (!c || !per) return null;
    const cv = floatsOf(c, 'bias C');
    return Float32Array.from({ length: N }, (_, j) => beta * cv[per === 'scalar' ? 0 : j]);
  };
  // The bias is compared by value when tying, so the weight's source and shaping attributes suffice.
  const key = `Gemm\u0000${n.imp.canonicalName(n.ins[1])}\u0000${transB}\u0000${alpha}`;
  if (!c || beta === 0 || per) {
    emitSourced(n, key, x, K, N, weight(), bias(), n.out);
    return;
  }
  // A whole-sample Gemm's C may vary along M too: add beta·C after the layer.
  const y = emitSourced(n, key, x, K, N, weight(), null, n.imp.fresh(`${n.name}/AB`));
  const bc = Float32Array.from(floatsOf(c, 'bias C'), (v) => beta * v);
  n.imp.emit({ kind: 'binary', name: `${n.name}/C`, inputs: [y.name], output: n.out, fn: 'add', b: { dims: c.dims, data: bc }, constFirst: false, aShape: y.shape, bShape: c.dims, outShape: y.shape }, [...y.shape]);
}

/** B as the layer's row-major [K, N] weight, times alpha: transposed in tiles (VGG's 25088×4096 in well under a second). */
/**
 * Gemm of constants, α·A'·B' + β·C (a static export's zero RNN state times its recurrent weight,
 * torch.nn.LSTMCell called on torch.zeros(batch, H)).
 */
function foldGemm(n: NodeContext): Const {
  const t = (c: Const, on: boolean): Const => (on ? foldTranspose(c, [1, 0]) : c);
  const a = t(n.constIn(0, 'A'), n.a.int('transA', 0) !== 0);
  const b = t(n.constIn(1, 'B'), n.a.int('transB', 0) !== 0);
  if (a.dims.length !== 2 || b.dims.length !== 2) throw new NodeError(`A and B must be 2-D (dims [${a.dims.join(', ')}] and [${b.dims.join(', ')}])`);
  const scale = (c: Const, k: number): Const => (k === 1 ? c : foldBinary('mul', c, { kind: 'float', dims: [], data: Float32Array.of(k) }));
  const ab = scale(foldMatMul(a, b, MAX_FOLDED_PRODUCT), n.a.float('alpha', 1));
  const c = n.optConst(2, 'C');
  const beta = n.a.float('beta', 1);
  return c && beta !== 0 ? foldBinary('add', ab, scale(c, beta)) : ab;
}

function gemmWeight(bw: Float32Array, K: number, N: number, transB: boolean, alpha: number): Float32Array {
  let w: Float32Array;
  if (!transB) w = Float32Array.from(bw);
  else {
    w = new Float32Array(K * N);
    const T = 64;
    for (let j0 = 0; j0 < N; j0 += T) {
      for (let k0 = 0; k0 < K; k0 += T) {
        for (let j = j0; j < Math.min(j0 + T, N); j++) for (let k = k0; k < Math.min(k0 + T, K); k++) w[k * N + j] = bw[j * K + k];
      }
    }
  }
  if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] *= alpha;
  return w;
}

function matmul(n: NodeContext): void {
  const w = n.constAt(1);
  if (w && !n.constAt(0) && (w.dims.length === 2 || w.dims.length === 1)) return matmulWeight(n, n.valueAnyBatch(0, 'A', true), w);
  const left = n.constAt(0);
  if (left && !w && left.dims.length === 2 && n.imp.batched) return matmulLeftWeight(n, left, n.value(1, 'B'));
  // Attention's [batch·heads, T, d] products: two activations with a merged batch (a constant operand refuses it).
  const acts = [0, 1].map((i) => (n.constAt(i) ? undefined : n.valueAnyBatch(i, i === 0 ? 'A' : 'B', true)));
  if (acts.some((v) => v?.merged)) {
    if (acts[0] && !acts[1]) return matmulMergedRows(n, acts[0], n.constAt(1)!);
    if (!acts[0] || !acts[1]) throw new NodeError('constant A times B with the batch merged with another dim is not supported; only A may have it');
    return matmulActivations(n, acts[0], acts[1]);
  }
  const full = Math.max(...[0, 1].map((i) => (n.constAt(i)?.dims.length ?? n.value(i).shape.length + n.lead)));
  const a = n.constAt(0) ? n.operand(0, full, 'A') : n.value(0, 'A');
  const b = n.constAt(1) ? n.operand(1, full, 'B') : n.value(1, 'B');
  matmulActivations(n, a, b);
}

/**
 * Activations whose batch is merged into a row or broadcast dim times a batched constant (MViT's
 * relative positions: [T, batch·k, d] · [T, d, T']): each sample's rows meet the same matrices, so
 * the product is per sample and keeps the merge. A digital `matmul`, as one of a stack of weights.
 */
function matmulMergedRows(n: NodeContext, a: Value, c: Const): void {
  const r = a.shape.length;
  const at = a.batchAt ?? 0;
  const over = at - (r - c.dims.length);
  if (at > r - 2 || c.dims.length > r || (at < r - 2 && over >= 0 && c.dims[over] !== 1)) {
    throw new NodeError(`input A [${a.shape.join(', ')}] has the batch merged into axis ${at}, which constant B [${c.dims.join(', ')}] does not broadcast over; a constant multiplies it only through its rows or a dim of 1`);
  }
  const b = n.constValue(c, c.dims, 'B');
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = c.dims.slice(-2);
  if (K !== K2) throw new NodeError(`shapes [${a.shape.join(', ')}] and [${c.dims.join(', ')}] do not multiply (${K} ≠ ${K2})`);
  const lead = broadcastLead(a.shape.slice(0, -2), c.dims.slice(0, -2));
  if (!lead) throw new NodeError(`batch dims of [${a.shape.join(', ')}] and [${c.dims.join(', ')}] do not broadcast`);
  const outShape = [...lead, M, N];
  n.imp.emit({ kind: 'matmul', name: n.name, inputs: [a.name, b.name], output: n.out, aShape: a.shape, bShape: c.dims, outShape }, outShape, 'float', at, a.merged);
}

/**
 * A constant matrix times activations, W [M, K] · X [..., K, N]: on the crossbar as (Xᵀ·Wᵀ)ᵀ, the
 * columns of each sample's X fed as input vectors (a transpose on each side of the layer).
 */
function matmulLeftWeight(n: NodeContext, w: Const, x: Value): void {
  const r = x.shape.length;
  const [M, K] = w.dims;
  if (r < 2) throw new NodeError(`input B has per-sample shape [${x.shape.join(', ')}]; a constant A [${M}, ${K}] times it needs B of at least [batch, ${K}, N]`);
  if (x.shape[r - 2] !== K) throw new NodeError(`constant A has ${K} columns but B has ${x.shape[r - 2]} rows`);
  const swap = (s: number[]): number[] => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
  const perm = swap(x.shape.map((_, i) => i));
  const xt = n.imp.fresh(`${n.name}/Bᵀ`);
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: xt, perm, inShape: x.shape }, swap(x.shape));
  const wt = new Float32Array(K * M);
  const src = floatsOf(w, 'constant A');
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) wt[k * M + m] = src[m * K + k];
  const y = emitLinear(n, n.imp.valueOf(xt)!, K, M, wt, null, n.imp.fresh(`${n.name}/linear`));
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [y.name], output: n.out, perm, inShape: y.shape }, swap(y.shape));
}

/** Activations × a constant 2-D (or 1-D) weight: a crossbar linear layer over the last axis. */
function matmulWeight(n: NodeContext, x: Value, w: Const): void {
  if (x.shape.length === 0) throw new NodeError(`input A has per-sample shape []; MatMul needs at least [batch, K]`);
  // A [T, batch, K] input (PyTorch's attention runs sequence-first) is rows of K like any other; the batch must not be the axis summed over.
  if ((x.batchAt ?? 0) > x.shape.length - (x.merged ? 2 : 1)) throw new NodeError(`input A has the batch dimension in its last axis (${x.batchAt}); the weight would sum across samples`);
  const K = w.dims[0];
  const N = w.dims.length === 2 ? w.dims[1] : 1;
  if (x.shape[x.shape.length - 1] !== K) throw new NodeError(`input has ${x.shape[x.shape.length - 1]} features but weight B has ${K} rows`);
  if (w.dims.length === 2) {
    emitSourced(n, `MatMul\u0000${n.imp.canonicalName(n.ins[1])}`, x, K, N, Float32Array.from(floatsOf(w, 'weight B')), null, n.out);
    return;
  }
  const weight = Float32Array.from(floatsOf(w, 'weight B'));
  // A vector B: the product drops the last axis.
  const y = emitLinear(n, x, K, 1, weight, null, n.imp.fresh(`${n.name}/col`));
  reshapeTo(n, y, x.shape.slice(0, -1), n.out, x.batchAt ?? 0, x.merged);
}

/**
 * Two activations (attention): digital `matmul`, with ONNX's 1-D promotions done by reshapes. Operands
 * whose batch is merged into a dim (PyTorch's [batch·heads, T, d]) must be merged alike, into the same
 * leading dim: the product is then per sample over the other batch dims.
 */
function matmulActivations(n: NodeContext, a: Value, b: Value): void {
  const merged = a.merged ?? b.merged;
  const at = a.batchAt ?? 0;
  if (merged) {
    if (a.merged !== b.merged || at !== (b.batchAt ?? 0) || a.shape.length !== b.shape.length || at >= a.shape.length - 2 || a.shape[at] !== b.shape[at]) {
      throw new NodeError(`operands [${a.shape.join(', ')}] and [${b.shape.join(', ')}] must have the batch merged alike into the same batch dim of the product`);
    }
  } else if (n.imp.batched && (a.shape.length < 2 || b.shape.length < 2 || a.shape.length !== b.shape.length)) {
    throw new NodeError(`operands have per-sample shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]; a MatMul of two activations needs the same per-sample rank of at least 2 on both (batched matrices)`);
  }
  const a2 = a.shape.length === 1 ? reshapeTo(n, a, [1, a.shape[0]]) : a;
  const b2 = b.shape.length === 1 ? reshapeTo(n, b, [b.shape[0], 1]) : b;
  const [M, K] = a2.shape.slice(-2);
  const [K2, N] = b2.shape.slice(-2);
  if (K !== K2) throw new NodeError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not multiply (${K} ≠ ${K2})`);
  const lead = broadcastLead(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  if (!lead) throw new NodeError(`batch dims of [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
  const outShape = [...lead, M, N];
  const final = [...lead, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  const direct = final.length === outShape.length;
  const out = direct ? n.out : n.imp.fresh(`${n.name}/mm`);
  n.imp.emit({ kind: 'matmul', name: n.name, inputs: [a2.name, b2.name], output: out, aShape: a2.shape, bShape: b2.shape, outShape }, outShape, 'float', merged ? at : 0, merged);
  if (!direct) reshapeTo(n, n.imp.valueOf(out)!, final, n.out);
}

function broadcastLead(a: number[], b: number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
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
 * The constant operand (per-sample dims `bShape`) of an Add/Sub after a matrix op as one value per
 * output channel (a linear layer's last axis, a conv's axis 0), or null when it varies along other
 * axes or would broadcast the layer's output to a bigger shape.
 */
export function channelVector(t: FoldTarget, bShape: readonly number[], data: Float32Array): Float32Array | null {
  const op = t.layers[0];
  const C = op.kind === 'linear' ? op.N : op.cout;
  const rank = t.rank;
  if (bShape.length > rank) return null;
  const padded = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  const at = op.kind === 'linear' ? rank - 1 : 0;
  if (padded.some((d, i) => i !== at && d !== 1)) return null;
  if (padded[at] === C) return Float32Array.from(data);
  if (padded[at] === 1) return new Float32Array(C).fill(data[0]);
  return null;
}

/** Folds `y = x·s[c] + t[c]` on the output channels into a matrix op's weight and bias (f64, rounded once). */
export function foldChannelAffine(op: MatrixOp, s: Float64Array, t: Float64Array): void {
  const bias = new Float32Array(s.length);
  for (let c = 0; c < s.length; c++) bias[c] = (op.bias ? op.bias[c] : 0) * s[c] + t[c];
  if (op.kind === 'linear') {
    for (let k = 0; k < op.K; k++) for (let j = 0; j < op.N; j++) op.weight[k * op.N + j] *= s[j];
  } else {
    const per = (op.cin / op.group) * op.kh * op.kw;
    for (let c = 0; c < op.cout; c++) for (let i = 0; i < per; i++) op.weight[c * per + i] *= s[c];
  }
  op.bias = bias;
}

/** Matrix ops by ONNX op type. */
export const MATRIX_OPS: OpTable = {
  Gemm: { activation: gemm, fold: foldGemm },
  // Of two constants (spectral_norm's σ, a weight computed in the graph) it folds.
  MatMul: { activation: matmul, fold: (n) => foldMatMul(n.constIn(0, 'A'), n.constIn(1, 'B'), MAX_FOLDED_PRODUCT) },
};
