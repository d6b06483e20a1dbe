/**
 * The network IR: what ONNX import produces and what the executor runs (DESIGN.md section 6).
 *
 * Every value is a dense f32 tensor in row-major order whose first dimension is the batch. Shapes in
 * the IR are per sample (batch dimension left out) and fully static: import resolves every
 * Shape/Gather/Unsqueeze/Concat shape computation and every Reshape target to constants, with the
 * batch size as a symbol, so one network runs at any batch size. Integer and boolean tensors (indices,
 * masks, comparison results) are f32 values too, exact up to 2^24; booleans are 0 and 1.
 * Ops are listed in an order where every input is produced before it is used; every op computes each
 * sample from that sample alone, so results never depend on the batch size.
 *
 * Op types beyond the original CNN set live in ops-math.ts (matmul of activations, reductions,
 * normalizations) and ops-tensor.ts (slicing, padding, gathering, resizing, constants).
 */
import type { ConvGeometry, PoolGeometry } from './geometry.ts';
import type { ConstTensor, OpBase, Shape } from './op-base.ts';
import type { ArgMaxOp, CumSumOp, InstanceNormOp, LayerNormOp, LogSoftmaxOp, LrnOp, MatMulOp, ReduceOp, TopKOp } from './ops-math.ts';
import type { Col2ImOp, ConstantOp, ExpandOp, GatherElementsOp, GatherOp, LookupOp, PadOp, RandomOp, ResizeOp, SliceOp, WhereOp } from './ops-tensor.ts';

export type { ArgMaxOp, CumSumOp, InstanceNormOp, LayerNormOp, LogSoftmaxOp, LrnOp, MatMulOp, ReduceOp, TopKOp } from './ops-math.ts';
export type { Col2ImOp, ConstantOp, ExpandOp, GatherElementsOp, GatherOp, LookupOp, PadOp, RandomOp, ResizeOp, SliceOp, WhereOp } from './ops-tensor.ts';

export type { ConstTensor, OpBase, Shape } from './op-base.ts';

/**
 * Fully connected layer `Y[b, r, n] = Σ_k X[b, r, k]·W[k, n] + bias[n]`, on a crossbar unless kept
 * digital: each of the `rows = sizeOf(inShape) / K` vectors of a sample (one for a plain layer; one
 * per token of a transformer, per pixel of a ConvTranspose) is a crossbar input vector. From Gemm
 * (transB, alpha and beta folded), MatMul with a constant 2-D right operand, a following constant Add
 * folded into the bias, and BatchNormalization folded in.
 */
export interface LinearOp extends OpBase {
  kind: 'linear';
  /** Position among the network's linear and conv layers, from 0: the `layers` override index. */
  layerIndex: number;
  K: number;
  N: number;
  /** Per-sample input shape; its last dim is K ([K] for a plain layer). The output is `[...inShape[:-1], N]`. */
  inShape: Shape;
  /**
   * Row-major [K, N]. Float64Array only for `xbarsim vmm`'s one-layer network, whose float64 .npy
   * weights are quantized in f64 as DESIGN.md section 3 says; ONNX import always gives f32.
   */
  weight: Float32Array | Float64Array;
  /** [N], or null. */
  bias: Float32Array | null;
  /**
   * Ops with the same tie are one physical crossbar layer used several times (an RNN's recurrent
   * weights, once per time step; a module called again): one layerIndex, one programmed chip, one
   * calibration, its arrays counted once; each use draws its own per-read noise. They share name,
   * weight, bias, K, N and inShape.
   */
  tie?: string;
}

/**
 * 2-D convolution on NCHW inputs, through im2col on a crossbar: group g is its own matrix with rows
 * ordered (cin, kh, kw) (DESIGN.md section 6).
 */
export interface ConvOp extends OpBase, ConvGeometry {
  kind: 'conv';
  layerIndex: number;
  /** Row-major [cout, cin/group, kh, kw] (ONNX layout), BatchNormalization folded in. */
  weight: Float32Array;
  bias: Float32Array | null;
  /** As LinearOp.tie: one physical layer used several times (a shared encoder); same name, weight, bias and geometry. */
  tie?: string;
}

/**
 * Elementwise function of one input (ONNX definitions): activations `relu`, `leaky-relu`
 * (x < 0 ? alpha·x : x), `clip` (to [min, max]), `sigmoid`, `tanh`, `gelu` (x·Φ(x)), `gelu-tanh`
 * (Gelu approximate="tanh"), `hard-sigmoid` (max(0, min(1, alpha·x + beta))), `hard-swish`
 * (x·max(0, min(1, x/6 + 1/2))), `elu` (x < 0 ? alpha·(eˣ − 1) : x), `celu` (max(0, x) +
 * min(0, alpha·(e^(x/alpha) − 1))), `selu` (beta·(x > 0 ? x : alpha·(eˣ − 1)), beta = ONNX's gamma),
 * `softplus` (ln(1 + eˣ)), `softsign` (x/(1 + |x|)), `mish` (x·tanh(softplus(x))); math `exp`, `log`,
 * `neg`, `abs`, `reciprocal`, `sqrt`, `erf`, `sign` (−1, 0 or 1), `sin`, `cos`, `floor`, `ceil`,
 * `round` (half to even, as ONNX Round), `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`, `asinh`, `acosh`,
 * `atanh` (NaN outside their domains); `thresholded-relu` (x > alpha ? x : 0), `shrink` (x < −alpha ?
 * x + beta : x > alpha ? x − beta : 0; ONNX's lambd and bias);
 * and the casts of f32-carried integers and booleans: `trunc` (Cast to an integer type: toward
 * zero), `bool` (Cast to bool: x ≠ 0 → 1, else 0), `not` (x = 0 → 1, else 0).
 */
export type UnaryFn =
  | 'relu' | 'leaky-relu' | 'clip' | 'sigmoid' | 'tanh'
  | 'gelu' | 'gelu-tanh' | 'hard-sigmoid' | 'hard-swish'
  | 'elu' | 'celu' | 'selu' | 'softplus' | 'softsign' | 'mish' | 'sign'
  | 'exp' | 'log' | 'neg' | 'abs' | 'reciprocal' | 'sqrt' | 'erf'
  | 'sin' | 'cos' | 'floor' | 'ceil' | 'round'
  | 'trunc' | 'bool' | 'not' | 'is-nan' | 'is-inf'
  | 'tan' | 'asin' | 'acos' | 'atan' | 'sinh' | 'cosh' | 'asinh' | 'acosh' | 'atanh'
  | 'thresholded-relu' | 'shrink';

/** Elementwise function of one input (UnaryFn). */
export interface UnaryOp extends OpBase {
  kind: 'unary';
  fn: UnaryFn;
  /** leaky-relu and hard-sigmoid slope; elu, celu and selu alpha; thresholded-relu's threshold and shrink's lambd. */
  alpha: number;
  /** hard-sigmoid offset, selu gamma, shrink bias (absent: 0; no other function reads it). */
  beta?: number;
  /** clip bounds (±Infinity when absent). */
  min: number;
  max: number;
}

/**
 * Elementwise function of two inputs: `add`, `sub`, `mul`, `div`, `pow` (ONNX Pow), `max`, `min`,
 * and comparisons `equal`, `less`, `greater` giving 1 or 0.
 */
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'equal' | 'less' | 'greater';

/**
 * Elementwise binary op with numpy broadcasting. Either both operands are values (inputs[0], inputs[1]),
 * or the second is the constant `b` (inputs has one entry). `aShape`/`bShape` are the per-sample shapes
 * of the two operands as broadcast sees them (a constant's leading batch dimension is dropped: it is 1).
 */
export interface BinaryOp extends OpBase {
  kind: 'binary';
  fn: BinaryFn;
  b: ConstTensor | null;
  /** True when the constant is the left operand (e.g. `Sub(c, x)`). */
  constFirst: boolean;
  aShape: Shape;
  bShape: Shape;
  outShape: Shape;
}

/** Per-channel `y = x·scale[c] + shift[c]` on axis 1 (an unfused BatchNormalization). */
export interface AffineOp extends OpBase {
  kind: 'affine';
  scale: Float32Array;
  shift: Float32Array;
  inShape: Shape;
}

/** Softmax over one per-sample axis (ONNX axis minus 1; opset < 13 semantics are converted at import). */
export interface SoftmaxOp extends OpBase {
  kind: 'softmax';
  axis: number;
  inShape: Shape;
}

/** Max or average pooling over NCHW (GlobalAveragePool is an average pool over the whole plane). */
export interface PoolOp extends OpBase, PoolGeometry {
  kind: 'pool';
}

/** Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout: same data, new per-sample shape. */
export interface ReshapeOp extends OpBase {
  kind: 'reshape';
  outShape: Shape;
}

/** Axis permutation of the per-sample dims (the batch axis must stay first). */
export interface TransposeOp extends OpBase {
  kind: 'transpose';
  /** Permutation of per-sample axes. */
  perm: readonly number[];
  inShape: Shape;
}

/** Concatenation along a per-sample axis. */
export interface ConcatOp extends OpBase {
  kind: 'concat';
  axis: number;
  inShapes: readonly Shape[];
}

export type NetOp =
  | LinearOp | ConvOp | UnaryOp | BinaryOp | AffineOp | SoftmaxOp | PoolOp | ReshapeOp | TransposeOp | ConcatOp
  | MatMulOp | ReduceOp | ArgMaxOp | CumSumOp | TopKOp | LogSoftmaxOp | LayerNormOp | InstanceNormOp | LrnOp
  | SliceOp | GatherOp | GatherElementsOp | LookupOp | PadOp | ExpandOp | WhereOp | ConstantOp | RandomOp | ResizeOp | Col2ImOp;

/** The element type a graph input or output declares (the IR carries every value as f32). */
export type GraphDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int32' | 'int64' | 'bool';

/** A graph input or output: its value, per-sample shape, and offset in the packed sample. */
export interface GraphValue {
  /** The ONNX name. */
  name: string;
  /** The IR value holding it: the name itself, unless the output is an alias (Identity) or a constant. */
  value: string;
  shape: Shape;
  dtype: GraphDType;
  /** Position of its first element in a sample of `Network.input` (inputs) or `Network.output` (outputs). */
  offset: number;
}

/** A network ready to run. */
export interface Network {
  /**
   * The value the executor feeds and its per-sample shape. With one graph input it is that input;
   * with several, a packed value of shape [Σ sizes] holding each input's sample flattened, in the
   * order of `inputs`, and the network's first ops slice it apart.
   */
  input: { name: string; shape: Shape };
  /** The value the executor returns: the graph output, or with several, their samples flattened and concatenated in the order of `outputs`. */
  output: string;
  /** The graph inputs that the outputs depend on, in graph order. */
  inputs: readonly GraphValue[];
  /** The graph outputs, in graph order. */
  outputs: readonly GraphValue[];
  /**
   * True when the first dim of every graph input is the batch (the default, and what `eval` runs).
   * False when imported with each graph input's whole tensor as one sample (ONNX node tests, whose
   * first dims are not batches): the network then runs with a batch of 1.
   */
  batched: boolean;
  /** Per-sample shape of every value. */
  shapes: ReadonlyMap<string, Shape>;
  ops: readonly NetOp[];
  /** Opset of the default ONNX domain. */
  opset: number;
}

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** True for ops that run on crossbars (unless kept digital). */
export function isMatrixOp(op: NetOp): op is LinearOp | ConvOp {
  return op.kind === 'linear' || op.kind === 'conv';
}

/** Whether two matrix ops have one geometry: K, N and input shape, or every conv dimension. */
export function sameShape(a: LinearOp | ConvOp, b: LinearOp | ConvOp): boolean {
  if (a.kind === 'linear' || b.kind === 'linear') return a.kind === 'linear' && b.kind === 'linear' && a.K === b.K && a.N === b.N && a.inShape.join() === b.inShape.join();
  const geometry = (o: ConvOp) => [o.cin, o.cout, o.group, o.kh, o.kw, ...o.strides, ...o.pads, ...o.dilations, ...o.inShape, ...o.outShape].join();
  return geometry(a) === geometry(b);
}

/**
 * For each tied layer (by layerIndex), the longest chain of its uses each of which reads a value the
 * previous one produced: the uses that must run one after another (an RNN's steps: all of them; a
 * Siamese encoder's two calls: 1). Untied layers are left out (1).
 */
export function sequentialUses(ops: readonly NetOp[]): Map<number, number> {
  const layerOf = matrixLayerOf(ops);
  const tied = new Set<number>();
  for (const [op, i] of layerOf) if (op.tie !== undefined) tied.add(i);
  // Per value: for each tied layer, the longest chain of its uses upstream of the value.
  const chains = new Map<string, ReadonlyMap<number, number>>();
  const longest = new Map<number, number>();
  for (const op of ops) {
    const merged = new Map<number, number>();
    for (const x of op.inputs) for (const [l, c] of chains.get(x) ?? []) merged.set(l, Math.max(merged.get(l) ?? 0, c));
    const l = isMatrixOp(op) ? layerOf.get(op)! : -1;
    if (tied.has(l)) {
      const c = (merged.get(l) ?? 0) + 1;
      merged.set(l, c);
      longest.set(l, Math.max(longest.get(l) ?? 0, c));
    }
    chains.set(op.output, merged);
  }
  return longest;
}

/**
 * Each matrix op's crossbar layer (its layerIndex), numbered in order of first use: an untied op is
 * a layer of its own, and every use of a tied layer (LinearOp.tie) takes its first use's number.
 */
export function matrixLayerOf(ops: readonly NetOp[]): Map<LinearOp | ConvOp, number> {
  const out = new Map<LinearOp | ConvOp, number>();
  const tied = new Map<string, number>();
  let next = 0;
  for (const op of ops) {
    if (!isMatrixOp(op)) continue;
    const tie = op.tie;
    if (tie !== undefined && !tied.has(tie)) tied.set(tie, next++);
    out.set(op, tie === undefined ? next++ : tied.get(tie)!);
  }
  return out;
}
