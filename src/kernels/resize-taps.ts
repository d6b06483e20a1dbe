/**
 * Host side of the resize kernel: for each output coordinate of an axis, the input indices and
 * weights it reads, from the ONNX Resize definition (coordinate transforms, nearest rounding, the
 * linear triangle filter, widened by antialias when downsampling). Written apart from the CPU oracle
 * (src/reference/tensor-ops.ts) so the conformance suite checks both against ONNX's outputs.
 */
import type { ResizeOp } from '../ir/graph.ts';
import type { ResizeAxisTaps } from './tensor.ts';

/** ONNX's input coordinate of output coordinate x on axis d, in f64. */
function sourceCoordinate(op: ResizeOp, d: number, x: number): number {
  const s = op.scales[d];
  const lenIn = op.inShape[d];
  const lenOut = s * lenIn; // ONNX's float output length
  switch (op.coordinateTransform) {
    case 'asymmetric': return x / s;
    case 'half_pixel': return (x + 0.5) / s - 0.5;
    case 'pytorch_half_pixel': return lenOut > 1 ? (x + 0.5) / s - 0.5 : 0;
    case 'tf_half_pixel_for_nn': return (x + 0.5) / s;
    case 'align_corners': return lenOut === 1 ? 0 : (x * (lenIn - 1)) / (lenOut - 1);
    case 'half_pixel_symmetric': {
      const adjustment = op.outShape[d] / lenOut;
      return (lenIn / 2) * (1 - adjustment) + (x + 0.5) / s - 0.5;
    }
    case 'tf_crop_and_resize': {
      const r = op.inShape.length;
      const [start, end] = [op.roi![d], op.roi![r + d]];
      return lenOut > 1 ? start * (lenIn - 1) + (x * (end - start) * (lenIn - 1)) / (lenOut - 1) : 0.5 * (start + end) * (lenIn - 1);
    }
  }
}

/** The nearest index to v by ONNX's nearest_mode (whole v is itself). */
function rounded(mode: ResizeOp['nearestMode'], v: number): number {
  switch (mode) {
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
    case 'round_prefer_floor': return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil': return v - Math.floor(v) === 0.5 ? Math.ceil(v) : Math.round(v);
  }
}

/** Keys' cubic convolution kernel at distance t ≥ 0 with parameter A. */
function cubicWeight(t: number, A: number): number {
  return t <= 1 ? (A + 2) * t ** 3 - (A + 3) * t ** 2 + 1 : t < 2 ? A * t ** 3 - 5 * A * t ** 2 + 8 * A * t - 4 * A : 0;
}

/**
 * The taps of every output coordinate of axis d: one for nearest; for linear (cubic) every index i
 * with |i − v|·f < 1 (< 2) (f = 1, or min(scale, 1) with antialias) weighted by the triangle (Keys'
 * cubic with cubic_coeff_a) at (i − v)·f and normalized, indices clamped into the axis (cubic with
 * exclude_outside drops those outside instead). Outside tf_crop_and_resize's crop every tap's index is −1.
 */
export function resizeAxisTaps(op: ResizeOp, d: number): ResizeAxisTaps {
  const lenIn = op.inShape[d];
  const clamp = (i: number): number => Math.min(Math.max(i, 0), lenIn - 1);
  const f = op.antialias ? Math.min(op.scales[d], 1) : 1;
  const per: { idx: number[]; w: number[] }[] = [];
  for (let x = 0; x < op.outShape[d]; x++) {
    const v = sourceCoordinate(op, d, x);
    if (op.coordinateTransform === 'tf_crop_and_resize' && (v < 0 || v > lenIn - 1)) {
      per.push({ idx: [-1], w: [0] });
    } else if (op.mode === 'nearest') {
      per.push({ idx: [clamp(rounded(op.nearestMode, v))], w: [1] });
    } else {
      const idx: number[] = [];
      const w: number[] = [];
      const reach = op.mode === 'cubic' ? 2 : 1;
      for (let i = Math.floor(v - reach / f); i <= Math.ceil(v + reach / f); i++) {
        const dist = Math.abs(i - v) * f;
        if (dist >= reach) continue;
        const t = op.mode === 'cubic' ? (op.excludeOutside && (i < 0 || i >= lenIn) ? 0 : cubicWeight(dist, op.cubicCoeffA)) : 1 - dist;
        // Cubic weights are negative between 1 and 2; only the triangle's zero ends are dropped.
        if (op.mode === 'cubic' || t > 0) {
          idx.push(clamp(i));
          w.push(t);
        }
      }
      const sum = w.reduce((a, b) => a + b, 0);
      per.push({ idx, w: w.map((t) => t / sum) });
    }
  }
  const count = Math.max(1, ...per.map((p) => p.idx.length));
  const idx: number[] = [];
  const w: number[] = [];
  for (const p of per) {
    for (let k = 0; k < count; k++) {
      // Padding taps read index 0 with weight 0; a crop miss stays −1 in every tap.
      idx.push(k < p.idx.length ? p.idx[k] : p.idx[0] < 0 ? -1 : 0);
      w.push(k < p.w.length ? p.w[k] : 0);
    }
  }
  return { count, idx, w };
}
