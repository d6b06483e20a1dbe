/**
 * IR ops that move, pick or make elements of a sample (issue 12): slicing, gathering, padding,
 * broadcasting, selection, constants, resizing, and ConvTranspose's overlap-add. Shapes are per
 * sample; every index and extent is resolved at import, so each op is a fixed map per sample.
 */
import type { ConstTensor, OpBase, Shape } from './op-base.ts';

/**
 * Strided window of a sample: `out[i₀, …] = in[starts[0] + i₀·steps[0], …]` on every per-sample axis
 * (steps ≠ 0, negative steps walk backwards). From Slice, Split (one op per output) and the unpacking
 * of a multi-input network's packed input. Every index it reads is inside `inShape`.
 */
export interface SliceOp extends OpBase {
  kind: 'slice';
  starts: readonly number[];
  steps: readonly number[];
  inShape: Shape;
  outShape: Shape;
}

/**
 * ONNX Gather with constant indices along a per-sample `axis`:
 * `out[a…, j…, c…] = in[a…, indices[j…], c…]`, so `outShape = inShape[:axis] + indicesShape +
 * inShape[axis+1:]`. Indices are in [0, inShape[axis]) (negative ones resolved at import).
 */
export interface GatherOp extends OpBase {
  kind: 'gather';
  axis: number;
  indices: Int32Array;
  indicesShape: Shape;
  inShape: Shape;
  outShape: Shape;
}

/**
 * Rows of a constant table picked by an activation's values (ONNX Gather of a constant along axis 0
 * with indices from the data: nn.Embedding): `out[j…, c…] = table[idx[j…], c…]`, so `outShape =
 * indicesShape + table.dims[1:]`. An index v in [−V, V) picks row v (v + V when negative); any other
 * value (out of range, not an integer, NaN) gives NaN, on the CPU and the GPU alike.
 */
export interface LookupOp extends OpBase {
  kind: 'lookup';
  table: ConstTensor;
  indicesShape: Shape;
  outShape: Shape;
}

/**
 * ONNX GatherElements with indices from the data (torch.gather, torch.take_along_dim), inputs =
 * [data, indices]: `out[c] = in[c with c[axis] = idx[c]]` per sample, so `outShape` is the indices'
 * per-sample shape, each dim but `axis` at most the input's. An index v in [−L, L) along an axis of L
 * picks v (v + L when negative); any other value gives NaN, as an embedding lookup does.
 */
export interface GatherElementsOp extends OpBase {
  kind: 'gather-elements';
  axis: number;
  inShape: Shape;
  outShape: Shape;
}

/**
 * ONNX Pad of a sample: `pads` holds the begin pad of every per-sample axis, then the end pad
 * (negative pads crop); `outShape[d] = inShape[d] + pads[d] + pads[rank + d]`. New elements are
 * `value` (constant), the mirror image without repeating the edge (reflect, as numpy), the nearest
 * edge element (edge), or the input repeated periodically (wrap).
 */
export interface PadOp extends OpBase {
  kind: 'pad';
  mode: 'constant' | 'reflect' | 'edge' | 'wrap';
  pads: readonly number[];
  value: number;
  inShape: Shape;
  outShape: Shape;
}

/** ONNX Expand: numpy broadcast of a sample of `inShape` (right-aligned) to `outShape`. */
export interface ExpandOp extends OpBase {
  kind: 'expand';
  inShape: Shape;
  outShape: Shape;
}

/**
 * ONNX Where: `out = cond ≠ 0 ? x : y`, the three operands (inputs = [cond, x, y]) broadcast numpy
 * style to `outShape`. Constant operands are `constant` ops.
 */
export interface WhereOp extends OpBase {
  kind: 'where';
  condShape: Shape;
  xShape: Shape;
  yShape: Shape;
  outShape: Shape;
}

/**
 * A constant used where an activation is needed (a Concat or Where operand, a graph output, a
 * tensor whose shape depends on the batch size): every sample of the output is `value`. No inputs.
 */
export interface ConstantOp extends OpBase {
  kind: 'constant';
  value: ConstTensor;
}

/**
 * The model's own random draws (ONNX RandomNormal, RandomUniform, their Like forms, Bernoulli), from
 * Philox (src/random/philox.ts MODEL_KEY) keyed by `seed` (null: the run's config seed), the op's `stream` and, when `perSample`,
 * the sample's position in the whole input set, so that a run gives the same draws at any batch
 * size. Element e of a sample: `normal` a + b·N(0, 1) (mean a, scale b), `uniform` a + (b − a)·U,
 * `bernoulli` 1 where U < p (input 0, per sample [outShape]), else 0.
 */
export interface RandomOp extends OpBase {
  kind: 'random';
  dist: 'normal' | 'uniform' | 'bernoulli';
  a: number;
  b: number;
  seed: number | null;
  stream: number;
  perSample: boolean;
  outShape: number[];
}

/**
 * ONNX Resize (and Upsample) of a sample, separably per axis d. Output coordinate x maps to the input
 * coordinate `v = T(x)` of `coordinateTransform` (ONNX's formulas in f64, with the float output
 * length `scales[d]·inShape[d]` where they use one; tf_crop_and_resize also reads `roi`). `nearest`
 * takes the element at v rounded by `nearestMode`; `linear` weights the indices i near v by the
 * triangle `max(0, 1 − |i − v|·s)`, normalized, with s = 1 or, with `antialias`, min(scale, 1) (a
 * wider filter when downsampling): two neighbours (⌈v⌉ − 1, ⌈v⌉) at s = 1. Indices outside the axis
 * read its edge; under tf_crop_and_resize an output whose v falls outside [0, len − 1] on any axis is
 * `extrapolationValue`. Multi-axis outputs are products of the per-axis weights. Cubic is refused at
 * import.
 */
export interface ResizeOp extends OpBase {
  kind: 'resize';
  mode: 'nearest' | 'linear' | 'cubic';
  /** Cubic's kernel parameter A (ONNX cubic_coeff_a: −0.75, PyTorch's bicubic; −0.5 Keys'/TF's). */
  cubicCoeffA: number;
  /** Cubic: taps outside the input get weight 0 and the rest are renormalized (else the edge repeats). */
  excludeOutside: boolean;
  coordinateTransform: 'half_pixel' | 'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn' | 'tf_crop_and_resize';
  nearestMode: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
  /** Output/input scale per axis as ONNX defines it (from `scales`, or `sizes` / input). */
  scales: readonly number[];
  /** tf_crop_and_resize's region: the start fraction of every axis, then the end fractions; null otherwise. */
  roi: readonly number[] | null;
  extrapolationValue: number;
  antialias: boolean;
  inShape: Shape;
  outShape: Shape;
}

/**
 * ConvTranspose's overlap-add (col2im): a sample `[H·W, cout·kh·kw]` of per-input-pixel columns
 * (row h·W + w, column (c·kh + i)·kw + j; the product of that pixel's channel vector with the
 * weight, a crossbar linear layer) is summed into `[cout, OH, OW]` at
 * `oh = h·sh − pads[0] + i·dh`, `ow = w·sw − pads[1] + j·dw` (positions outside are dropped), then
 * `bias[c]` is added. `OH = (H−1)·sh − pads[0] − pads[2] + dh·(kh−1) + 1 + output_padding`.
 */
export interface Col2ImOp extends OpBase {
  kind: 'col2im';
  cout: number;
  kh: number;
  kw: number;
  strides: readonly [number, number];
  /** [top, left, bottom, right] */
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
  /** Input spatial size [H, W]. */
  inSize: readonly [number, number];
  bias: Float32Array | null;
  outShape: readonly [number, number, number];
}
