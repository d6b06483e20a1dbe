/**
 * The network IR: what ONNX import produces and what the executor runs (DESIGN.md section 6).
 *
 * Every value is a dense f32 tensor in row-major order whose first dimension is the batch. Shapes in
 * the IR are per sample (batch dimension left out) and fully static: import resolves every
 * Shape/Gather/Unsqueeze/Concat shape computation and every Reshape target to constants.
 * Ops are listed in an order where every input is produced before it is used.
 */
import type { ConvGeometry, PoolGeometry } from './geometry.ts';

/** Per-sample shape (batch dimension excluded). */
export type Shape = readonly number[];

/** A constant f32 tensor (weights, biases, broadcast operands). */
export interface ConstTensor {
  dims: readonly number[];
  data: Float32Array;
}

interface OpBase {
  /** ONNX node name (or `<op_type>_<node index>` when the node has none): used in errors and `layers` overrides. */
  name: string;
  /** Names of the values this op reads (usually one) and writes. */
  inputs: readonly string[];
  output: string;
}

/**
 * Fully connected layer `Y[b, n] = Σ_k X[b, k]·W[k, n] + bias[n]`, on a crossbar unless kept digital.
 * From Gemm (transB, alpha and beta folded), MatMul with a constant right operand, a following
 * constant Add folded into the bias, and BatchNormalization folded in.
 */
export interface LinearOp extends OpBase {
  kind: 'linear';
  /** Position among the network's linear and conv layers, from 0: the `layers` override index. */
  layerIndex: number;
  K: number;
  N: number;
  /**
   * Row-major [K, N]. Float64Array only for `xbarsim vmm`'s one-layer network, whose float64 .npy
   * weights are quantized in f64 as DESIGN.md section 3 says; ONNX import always gives f32.
   */
  weight: Float32Array | Float64Array;
  /** [N], or null. */
  bias: Float32Array | null;
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
}

/** Elementwise function of one input. */
export interface UnaryOp extends OpBase {
  kind: 'unary';
  fn: 'relu' | 'leaky-relu' | 'clip' | 'sigmoid' | 'tanh';
  /** leaky-relu slope. */
  alpha: number;
  /** clip bounds (±Infinity when absent). */
  min: number;
  max: number;
}

/**
 * Elementwise binary op with numpy broadcasting. Either both operands are values (inputs[0], inputs[1]),
 * or the second is the constant `b` (inputs has one entry). `aShape`/`bShape` are the per-sample shapes
 * of the two operands as broadcast sees them (a constant's leading batch dimension is dropped: it is 1).
 */
export interface BinaryOp extends OpBase {
  kind: 'binary';
  fn: 'add' | 'sub' | 'mul' | 'div';
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

export type NetOp = LinearOp | ConvOp | UnaryOp | BinaryOp | AffineOp | SoftmaxOp | PoolOp | ReshapeOp | TransposeOp | ConcatOp;

/** A network ready to run. */
export interface Network {
  /** The single graph input and its per-sample shape. */
  input: { name: string; shape: Shape };
  /** The graph output value. */
  output: string;
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
