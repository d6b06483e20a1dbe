/**
 * IR ops that compute across elements of a sample: products of two activations, reductions,
 * normalizations (issue 12). Shapes are per sample; each sample is computed from itself alone.
 * Arithmetic as in ONNX's definitions; the CPU oracle accumulates in f64 and rounds to f32 once.
 */
import type { OpBase, Shape } from './op-base.ts';

/**
 * Matrix product of two activations, ONNX MatMul (numpy matmul) semantics on per-sample operands of
 * rank ≥ 2: `aShape = [...batchA, M, K]`, `bShape = [...batchB, K, N]`, the leading dims broadcast
 * (numpy rules, right-aligned) to `outShape = [...batch, M, N]`. inputs = [a, b]. Always digital: on
 * analog in-memory hardware both operands change with every input (attention scores, attention ×
 * values), so neither can be programmed into a crossbar. (1-D operands are reshaped at import.)
 */
export interface MatMulOp extends OpBase {
  kind: 'matmul';
  aShape: Shape;
  bShape: Shape;
  outShape: Shape;
}

/**
 * ReduceSum / ReduceMean / ReduceMax / ReduceMin over the per-sample `axes` (sorted, distinct,
 * non-empty). With keepDims the reduced axes stay as 1s, else they are dropped (`outShape` says
 * which). Max and min of a NaN-free input are exact; sum and mean accumulate in f64.
 */
export interface ReduceOp extends OpBase {
  kind: 'reduce';
  fn: 'sum' | 'mean' | 'max' | 'min' | 'prod';
  axes: readonly number[];
  keepDims: boolean;
  inShape: Shape;
  outShape: Shape;
}

/**
 * ONNX ArgMax along a per-sample `axis`: the index (as an f32 value) of the largest element, the
 * first one on ties, or the last with `selectLastIndex`. keepDims keeps the axis as a 1.
 */
export interface ArgMaxOp extends OpBase {
  kind: 'argmax';
  axis: number;
  keepDims: boolean;
  selectLastIndex: boolean;
  inShape: Shape;
  outShape: Shape;
}

/**
 * ONNX CumSum along a per-sample `axis`: each element the sum of those before it along the axis and
 * itself (not itself with `exclusive`), counted from the end with `reverse`. Position ids from an
 * attention mask (`torch.cumsum(mask, 1)`) are its common use.
 */
export interface CumSumOp extends OpBase {
  kind: 'cumsum';
  axis: number;
  exclusive: boolean;
  reverse: boolean;
  inShape: Shape;
}

/**
 * One output of ONNX TopK along a per-sample `axis`: the k largest (or smallest) elements, in order,
 * ties to the lower index and NaN above every number (as PyTorch's topk), or their indices. The two
 * outputs of a TopK node are two ops.
 */
export interface TopKOp extends OpBase {
  kind: 'topk';
  axis: number;
  k: number;
  largest: boolean;
  /** Which output: the elements, or their indices along the axis (f32-carried integers). */
  gives: 'values' | 'indices';
  inShape: Shape;
  outShape: Shape;
}

/** LogSoftmax over one per-sample axis: x − max − log Σ exp(x − max) (opset < 13 coercion resolved at import). */
export interface LogSoftmaxOp extends OpBase {
  kind: 'log-softmax';
  axis: number;
  inShape: Shape;
}

/**
 * ONNX LayerNormalization: each sample is normalized over its trailing axes from `axis` on,
 * `y = (x − mean) / sqrt(var + epsilon) · scale + bias`, var the population variance. `scale` and
 * `bias` hold one value per element of `inShape[axis:]` (broadcast at import); null means 1 and 0.
 * Mean and InvStdDev outputs, when a graph reads them, are computed by other ops at import.
 */
export interface LayerNormOp extends OpBase {
  kind: 'layernorm';
  axis: number;
  epsilon: number;
  scale: Float32Array | null;
  bias: Float32Array | null;
  inShape: Shape;
}

/**
 * ONNX InstanceNormalization on a sample `[C, ...spatial]`: each channel is normalized over its
 * spatial elements, `y = scale[c] · (x − mean_c) / sqrt(var_c + epsilon) + bias[c]`.
 */
export interface InstanceNormOp extends OpBase {
  kind: 'instancenorm';
  epsilon: number;
  scale: Float32Array;
  bias: Float32Array;
  inShape: Shape;
}

/**
 * ONNX LRN across channels of a sample `[C, ...spatial]`: with
 * `s = Σ x[c']²` over c' ∈ [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉] ∩ [0, C),
 * `y = x / (bias + alpha/size · s)^beta`.
 */
export interface LrnOp extends OpBase {
  kind: 'lrn';
  size: number;
  alpha: number;
  beta: number;
  bias: number;
  inShape: Shape;
}
