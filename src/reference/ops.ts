/**
 * Plain-TS oracle of the digital (non-crossbar) ops, written straight from the ONNX definitions
 * (coordinates, not the GPU kernels' stride tables) so it can check them. Arithmetic in f64, results
 * rounded to f32 once.
 */
import { roundHalfEven } from '../crossbar/rounding.ts';
import type { BinaryFn, ConvOp, PoolOp, UnaryOp } from '../ir/graph.ts';
import { gemmRef } from './gemm.ts';

/** Product of dims. */
export function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Calls f with every coordinate of `dims` in row-major order. */
export function forEachIndex(dims: readonly number[], f: (coord: readonly number[], flat: number) => void): void {
  const n = count(dims);
  const c = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    f(c, i);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++c[d] < dims[d]) break;
      c[d] = 0;
    }
  }
}

/** ONNX's elementwise functions of one input (src/ir/graph.ts UnaryFn), in f64. */
export function unaryRef(op: Pick<UnaryOp, 'fn' | 'alpha' | 'beta' | 'min' | 'max'>, x: Float32Array): Float32Array {
  return x.map(unaryFnRef(op));
}

/** The scalar function of a unary op. */
export function unaryFnRef(op: Pick<UnaryOp, 'fn' | 'alpha' | 'beta' | 'min' | 'max'>): (v: number) => number {
  const alpha = op.alpha;
  const beta = op.beta ?? 0;
  switch (op.fn) {
    case 'relu': return (v) => Math.max(v, 0);
    case 'leaky-relu': return (v) => (v >= 0 ? v : alpha * v);
    case 'clip': return (v) => Math.min(Math.max(v, op.min), op.max);
    case 'sigmoid': return (v) => 1 / (1 + Math.exp(-v));
    case 'tanh': return Math.tanh;
    case 'gelu': return (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2));
    case 'gelu-tanh': return (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    case 'hard-sigmoid': return (v) => Math.max(0, Math.min(1, alpha * v + beta));
    case 'hard-swish': return (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5));
    case 'elu': return (v) => (v >= 0 ? v : alpha * Math.expm1(v));
    case 'celu': return (v) => Math.max(0, v) + Math.min(0, alpha * Math.expm1(v / alpha));
    case 'selu': return (v) => beta * (v > 0 ? v : alpha * Math.expm1(v));
    case 'softplus': return softplusRef;
    case 'softsign': return (v) => v / (1 + Math.abs(v));
    case 'mish': return (v) => v * Math.tanh(softplusRef(v));
    case 'sign': return (v) => (v > 0 ? 1 : v < 0 ? -1 : 0);
    case 'sin': return Math.sin;
    case 'cos': return Math.cos;
    case 'floor': return Math.floor;
    case 'ceil': return Math.ceil;
    case 'round': return roundHalfEven;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'neg': return (v) => -v;
    case 'abs': return Math.abs;
    case 'reciprocal': return (v) => 1 / v;
    case 'sqrt': return Math.sqrt;
    case 'erf': return erfRef;
    case 'trunc': return Math.trunc;
    case 'bool': return (v) => (v !== 0 ? 1 : 0);
    case 'not': return (v) => (v === 0 ? 1 : 0);
    case 'is-nan': return (v) => (Number.isNaN(v) ? 1 : 0);
    case 'is-inf': return (v) => (v === Infinity || v === -Infinity ? 1 : 0);
    case 'tan': return Math.tan;
    case 'asin': return Math.asin;
    case 'acos': return Math.acos;
    case 'atan': return Math.atan;
    case 'sinh': return Math.sinh;
    case 'cosh': return Math.cosh;
    case 'asinh': return Math.asinh;
    case 'acosh': return Math.acosh;
    case 'atanh': return Math.atanh;
    case 'thresholded-relu': return (v) => (v > alpha ? v : 0);
    case 'shrink': return (v) => (v < -alpha ? v + beta : v > alpha ? v - beta : 0);
  }
}

/** ln(1 + eˣ) without overflow for large x or loss for very negative x. */
function softplusRef(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/**
 * The error function to ~1e-12: its Maclaurin series below |x| = 4 (the alternating terms lose at
 * most e^16 ≈ 1e7 of f64's 1e16), and 1 − erfc by the asymptotic series beyond, where erfc < 2e-8.
 */
export function erfRef(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return x;
  let r: number;
  if (a < 4) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    const t = 1 / (2 * a * a);
    r = 1 - (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * (1 - t + 3 * t * t - 15 * t * t * t);
  }
  return x < 0 ? -r : r;
}

/** numpy broadcasting of a and b (full shapes, right-aligned) with fn. */
export function binaryRef(
  fn: BinaryFn,
  a: Float32Array,
  aDims: readonly number[],
  b: Float32Array,
  bDims: readonly number[],
): { data: Float32Array; dims: number[] } {
  const rank = Math.max(aDims.length, bDims.length);
  const pa = [...new Array<number>(rank - aDims.length).fill(1), ...aDims];
  const pb = [...new Array<number>(rank - bDims.length).fill(1), ...bDims];
  const dims = pa.map((d, k) => {
    if (d !== pb[k] && d !== 1 && pb[k] !== 1) throw new Error(`cannot broadcast [${aDims.join(', ')}] with [${bDims.join(', ')}]`);
    return d === 1 ? pb[k] : d;
  });
  const index = (p: readonly number[], c: readonly number[]): number => {
    let i = 0;
    for (let d = 0; d < rank; d++) i = i * p[d] + (p[d] === 1 ? 0 : c[d]);
    return i;
  };
  const op = binaryFnRef(fn);
  const out = new Float32Array(count(dims));
  forEachIndex(dims, (c, i) => {
    out[i] = op(a[index(pa, c)], b[index(pb, c)]);
  });
  return { data: out, dims };
}

/** The scalar function of a binary op (comparisons give 1 or 0). */
export function binaryFnRef(fn: BinaryFn): (x: number, y: number) => number {
  switch (fn) {
    case 'add': return (x, y) => x + y;
    case 'sub': return (x, y) => x - y;
    case 'mul': return (x, y) => x * y;
    case 'div': return (x, y) => x / y;
    case 'pow': return Math.pow;
    case 'max': return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y));
    case 'min': return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y));
    case 'equal': return (x, y) => (x === y ? 1 : 0);
    case 'less': return (x, y) => (x < y ? 1 : 0);
    case 'greater': return (x, y) => (x > y ? 1 : 0);
  }
}

/** y = x·scale[c] + shift[c] along axis 1 of a full shape. */
export function affineRef(x: Float32Array, dims: readonly number[], scale: Float32Array, shift: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  forEachIndex(dims, (c, i) => {
    out[i] = x[i] * scale[c[1]] + shift[c[1]];
  });
  return out;
}

/** Softmax along `axis` of a full shape: exp(x − max) / Σ exp(x − max). */
export function softmaxRef(x: Float32Array, dims: readonly number[], axis: number): Float32Array {
  const out = new Float32Array(x.length);
  const L = dims[axis];
  const inner = count(dims.slice(axis + 1));
  const outer = count(dims.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (k: number): number => (o * L + k) * inner + j;
      let m = -Infinity;
      for (let k = 0; k < L; k++) m = Math.max(m, x[at(k)]);
      let sum = 0;
      for (let k = 0; k < L; k++) sum += Math.exp(x[at(k)] - m);
      for (let k = 0; k < L; k++) out[at(k)] = Math.exp(x[at(k)] - m) / sum;
    }
  }
  return out;
}

/** -FLT_MAX: a max-pool window with no tap inside the input (ONNX Runtime's initial value). */
export const POOL_LOWEST = -3.4028234663852886e38;

type PoolWindowOp = Pick<PoolOp, 'kernel' | 'strides' | 'pads' | 'dilations' | 'inShape' | 'outShape'>;

/**
 * Visits every pooling window in output order: its output index, the input indices it covers in
 * kernel order (`taps`, reused between calls) and how many of its positions fall in the padding.
 * The forward pooling and its backward (src/nn/adapt) read the same windows.
 */
export function forEachPoolWindow(op: PoolWindowOp, B: number, visit: (o: number, taps: readonly number[], padTaps: number) => void): void {
  const [C, H, W] = op.inShape;
  const [, OH, OW] = op.outShape;
  const [pt, pl, pb, pr] = op.pads;
  const taps: number[] = [];
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        taps.length = 0;
        let padTaps = 0;
        for (let ki = 0; ki < op.kernel[0]; ki++) {
          const ih = oh * op.strides[0] + ki * op.dilations[0] - pt;
          for (let kj = 0; kj < op.kernel[1]; kj++) {
            const iw = ow * op.strides[1] + kj * op.dilations[1] - pl;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) taps.push((bc * H + ih) * W + iw);
            else if (ih >= -pt && ih < H + pb && iw >= -pl && iw < W + pr) padTaps++;
          }
        }
        visit((bc * OH + oh) * OW + ow, taps, padTaps);
      }
    }
  }
}

/**
 * Max / average pooling of B samples (ONNX MaxPool / AveragePool). Taps outside the input are
 * ignored; with countIncludePad the average's divisor also counts taps inside the declared pads, not
 * those in the ceil_mode overhang beyond them.
 */
export function poolRef(op: PoolWindowOp & Pick<PoolOp, 'mode' | 'countIncludePad'>, x: Float32Array, B: number): Float32Array {
  const [C] = op.inShape;
  const [, OH, OW] = op.outShape;
  const out = new Float32Array(B * C * OH * OW);
  forEachPoolWindow(op, B, (o, taps, padTaps) => {
    let acc = op.mode === 'max' ? POOL_LOWEST : 0;
    for (const t of taps) acc = op.mode === 'max' ? Math.max(acc, x[t]) : acc + x[t];
    const n = taps.length + (op.countIncludePad ? padTaps : 0);
    out[o] = op.mode === 'max' ? acc : n > 0 ? acc / n : 0;
  });
  return out;
}

/** Permutes the axes of a full shape: out dim d is input dim perm[d]. */
export function transposeRef(x: Float32Array, dims: readonly number[], perm: readonly number[]): { data: Float32Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]);
  const out = new Float32Array(x.length);
  forEachIndex(outDims, (c, i) => {
    let src = 0;
    for (let d = 0; d < dims.length; d++) src = src * dims[d] + c[perm.indexOf(d)];
    out[i] = x[src];
  });
  return { data: out, dims: outDims };
}

/** Concatenates tensors (full shapes equal except along `axis`) along `axis`. */
export function concatRef(xs: readonly { data: Float32Array; dims: readonly number[] }[], axis: number): { data: Float32Array; dims: number[] } {
  const dims = [...xs[0].dims];
  dims[axis] = xs.reduce((a, x) => a + x.dims[axis], 0);
  const out = new Float32Array(count(dims));
  let start = 0;
  for (const x of xs) {
    forEachIndex(x.dims, (c, i) => {
      let dst = 0;
      for (let d = 0; d < dims.length; d++) dst = dst * dims[d] + (d === axis ? c[d] + start : c[d]);
      out[dst] = x.data[i];
    });
    start += x.dims[axis];
  }
  return { data: out, dims };
}

type ConvGeom = Pick<ConvOp, 'cin' | 'cout' | 'group' | 'kh' | 'kw' | 'strides' | 'pads' | 'dilations' | 'inShape' | 'outShape'>;

/** Each conv op's taps (convTaps), computed once: the CPU executor's im2col reads them every batch. */
const TAPS = new WeakMap<ConvGeom, Int32Array>();

/**
 * A conv's im2col taps of group 0: for output pixel p and weight row k = (ci, ki, kj), the flat index
 * into one sample's input [cin, H, W] it reads, or −1 in the padding ([P, Kg], P = OH·OW). Group g
 * reads g·(cin/group)·H·W further. im2col and the conv backward read the same taps; cached per op.
 */
export function convTaps(op: ConvGeom): Int32Array {
  const cached = TAPS.get(op);
  if (cached) return cached;
  const [, H, W] = op.inShape;
  const [, OH, OW] = op.outShape;
  const cinG = op.cin / op.group;
  const Kg = cinG * op.kh * op.kw;
  const t = new Int32Array(OH * OW * Kg);
  let i = 0;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      for (let ci = 0; ci < cinG; ci++) {
        for (let ki = 0; ki < op.kh; ki++) {
          const ih = oh * op.strides[0] + ki * op.dilations[0] - op.pads[0];
          for (let kj = 0; kj < op.kw; kj++) {
            const iw = ow * op.strides[1] + kj * op.dilations[1] - op.pads[1];
            t[i++] = ih >= 0 && ih < H && iw >= 0 && iw < W ? (ci * H + ih) * W + iw : -1;
          }
        }
      }
    }
  }
  TAPS.set(op, t);
  return t;
}

/** im2col of group g: [B·OH·OW, (cin/g)·kh·kw], rows (b, oh, ow), columns (ci, ki, kj), zero padding. */
export function im2colRef(op: ConvGeom, x: Float32Array, B: number, g: number): Float32Array {
  const [, H, W] = op.inShape;
  const taps = convTaps(op);
  const out = new Float32Array(B * taps.length);
  for (let b = 0; b < B; b++) {
    const base = (b * op.cin + g * (op.cin / op.group)) * H * W;
    const o = b * taps.length;
    for (let i = 0; i < taps.length; i++) out[o + i] = taps[i] < 0 ? 0 : x[base + taps[i]];
  }
  return out;
}

/** Scatters cols [B·OH·OW, cout/g] of group g into channels g·cout/g… of NCHW `out`, adding that slice of the bias. */
export function colsToNchwRef(op: Pick<ConvOp, 'cout' | 'group' | 'bias' | 'outShape'>, cols: ArrayLike<number>, out: Float32Array, B: number, g: number): void {
  const [, OH, OW] = op.outShape;
  const P = OH * OW;
  const cg = op.cout / op.group;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      for (let c = 0; c < cg; c++) {
        const ch = g * cg + c;
        out[(b * op.cout + ch) * P + p] = cols[(b * P + p) * cg + c] + (op.bias ? op.bias[ch] : 0);
      }
    }
  }
}

/** Group g's [(cin/g)·kh·kw, cout/g] matrix of an ONNX conv weight [cout, cin/g, kh, kw]. */
export function convGroupMatrixRef(op: Pick<ConvOp, 'weight' | 'cin' | 'cout' | 'group' | 'kh' | 'kw'>, g: number): Float64Array {
  const cg = op.cout / op.group;
  const kc = (op.cin / op.group) * op.kh * op.kw;
  const m = new Float64Array(kc * cg);
  for (let c = 0; c < cg; c++) for (let k = 0; k < kc; k++) m[k * cg + c] = op.weight[(g * cg + c) * kc + k];
  return m;
}

/** Convolution through im2col and an f64 GEMM per group (the crossbar path's arithmetic, in f32 out). */
export function convRef(op: ConvGeom & Pick<ConvOp, 'weight' | 'bias'>, x: Float32Array, B: number): Float32Array {
  const [, OH, OW] = op.outShape;
  const out = new Float32Array(B * op.cout * OH * OW);
  const cg = op.cout / op.group;
  const kc = (op.cin / op.group) * op.kh * op.kw;
  for (let g = 0; g < op.group; g++) {
    const y = gemmRef(im2colRef(op, x, B, g), convGroupMatrixRef(op, g), B * OH * OW, kc, cg);
    colsToNchwRef(op, y, out, B, g);
  }
  return out;
}

/** Y[B, N] = X[B, K]·W[K, N] + bias, in f64. */
export function linearRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, B: number, K: number, N: number): Float32Array {
  const y = gemmRef(x, w, B, K, N);
  const out = new Float32Array(B * N);
  for (let i = 0; i < B * N; i++) out[i] = y[i] + (bias ? bias[i % N] : 0);
  return out;
}
