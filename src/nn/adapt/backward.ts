/**
 * The CPU oracle of adapter gradients (issue 17): reverse-mode through the network IR from the
 * values a forward pass kept (NetworkRunner.forward with `keep`), f64 accumulation. Analog layers are
 * crossed with the straight-through estimate: their backward uses the effective weights of the
 * programmed chip (src/nn/adapt/effective.ts), as if the forward had been x·W_eff + b, so noise and
 * quantization stay in the forward only.
 */
import { UsageError } from '../../errors.ts';
import type { AffineOp, ConcatOp, ConvOp, GatherOp, PadOp, PoolOp, ReduceOp, SliceOp } from '../../ir/graph.ts';
import { sizeOf, type BinaryOp, type LayerNormOp, type LinearOp, type MatMulOp, type Network, type NetOp, type SoftmaxOp, type TransposeOp, type UnaryOp } from '../../ir/graph.ts';
import { padSource } from '../../reference/tensor-ops.ts';
import { convTaps, forEachPoolWindow } from '../../reference/ops.ts';
import { adapterBranchRef, type AdapterLayer } from '../../adapters/set.ts';
import { rowMajorStrides } from '../../ir/tensor.ts';

/** Gradients of one adapter: dA [r, K], dB [N, r]. */
export interface AdapterGrad {
  dA: Float64Array;
  dB: Float64Array;
}

/** What the backward pass needs besides the kept values. */
export interface BackwardContext {
  /**
   * The weights the backward of a matrix layer uses: the chip's effective weights, or the f32 weights
   * of a digital layer; a linear layer's as W [K, N], a conv's in the ONNX layout [cout, cin/group, kh, kw].
   */
  weights(op: LinearOp | ConvOp): ArrayLike<number>;
  /** Trainable adapters by layer name with their f32 up-projections (α/r)·B. */
  adapters: ReadonlyMap<string, { a: AdapterLayer; up: Float32Array }>;
  /**
   * --full (hardware-aware training of the weights): linear and conv layers whose weight and bias get
   * a gradient (straight-through: dW = xᵀ·g as if the forward had been x·W + b), and constant-operand
   * Add ops whose constant does (the bias Add that follows a MatMul in PyTorch's exports).
   */
  params?: ReadonlySet<string>;
}

/** Gradient of one trained layer: dW (a linear layer's [K, N], a conv's [cout, cin/group, kh, kw]) and db (null without a bias), or of an Add's constant (dW only). */
export interface ParamGrad {
  dW: Float64Array;
  db: Float64Array | null;
}

const UNARY_BACKWARD = ['relu', 'leaky-relu', 'clip', 'tanh', 'sigmoid', 'gelu', 'erf', 'neg'] as const;
const BINARY_BACKWARD = ['add', 'sub', 'mul', 'div'] as const;
/** The op kinds (and functions) adapter training differentiates through. */
export const BACKWARD_OPS = `linear, conv, pool (max, avg), affine, reshape, transpose, slice, gather, concat, pad, constant, reduce (sum, mean), softmax, layernorm, matmul, unary (${UNARY_BACKWARD.join(', ')}), binary (${BINARY_BACKWARD.join(', ')})`;

/** The first op a backward pass must not need to cross, or null when every op from `from` on is supported. */
export function unsupportedOp(net: Network, from: number): NetOp | null {
  for (let i = from; i < net.ops.length; i++) {
    const op = net.ops[i];
    const ok =
      op.kind === 'linear' || op.kind === 'conv' || op.kind === 'pool' || op.kind === 'affine' || op.kind === 'reshape' || op.kind === 'transpose' || op.kind === 'softmax' ||
      op.kind === 'layernorm' || op.kind === 'matmul' || op.kind === 'slice' || op.kind === 'gather' || op.kind === 'concat' || op.kind === 'pad' || op.kind === 'constant' || (op.kind === 'reduce' && (op.fn === 'sum' || op.fn === 'mean')) ||
      (op.kind === 'unary' && (UNARY_BACKWARD as readonly string[]).includes(op.fn)) ||
      (op.kind === 'binary' && (BINARY_BACKWARD as readonly string[]).includes(op.fn));
    if (!ok) return op;
  }
  return null;
}

/** Softmax cross-entropy of logits [B, C] against labels: mean loss, gradient of the mean, and correct count. */
export function softmaxCrossEntropy(logits: Float32Array, labels: ArrayLike<number>, B: number): { loss: number; grad: Float64Array; correct: number } {
  const C = logits.length / B;
  const grad = new Float64Array(logits.length);
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const o = b * C;
    let m = -Infinity;
    let best = 0;
    for (let c = 0; c < C; c++) {
      if (logits[o + c] > m) m = logits[o + c];
      if (logits[o + c] > logits[o + best]) best = c;
    }
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[o + c] - m);
    const y = labels[b];
    if (best === y) correct++;
    loss += Math.log(z) + m - logits[o + y];
    for (let c = 0; c < C; c++) grad[o + c] = (Math.exp(logits[o + c] - m) / z - (c === y ? 1 : 0)) / B;
  }
  return { loss: loss / B, grad, correct };
}

function unaryBackward(op: UnaryOp, x: Float32Array, g: Float64Array): Float64Array {
  const dx = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const v = x[i];
    let d: number;
    switch (op.fn) {
      case 'relu': d = v > 0 ? 1 : 0; break;
      case 'leaky-relu': d = v >= 0 ? 1 : op.alpha; break;
      // torch.clamp's convention: the bounds themselves pass the gradient.
      case 'clip': d = v >= op.min && v <= op.max ? 1 : 0; break;
      case 'tanh': d = 1 - Math.tanh(v) ** 2; break;
      case 'sigmoid': { const s = 1 / (1 + Math.exp(-v)); d = s * (1 - s); break; }
      case 'gelu': d = 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI); break;
      case 'erf': d = (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v); break;
      default: d = -1; // neg
    }
    dx[i] = g[i] * d;
  }
  return dx;
}

/** erf by Abramowitz–Stegun 7.1.26 refined: |error| < 1.5e-7, ample for a gradient. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** Broadcast strides of an operand of per-sample shape `s` against output dims [B, ...out] (0 along broadcast dims). */
export function operandStrides(s: readonly number[], out: readonly number[], batched: boolean): number[] {
  const full = [1, ...new Array<number>(out.length - s.length).fill(1), ...s];
  const st = rowMajorStrides(full);
  return full.map((d, i) => (i === 0 ? (batched ? st[0] : 0) : d === 1 && out[i - 1] !== 1 ? 0 : st[i]));
}

function binaryBackward(op: BinaryOp, ins: Float32Array[], g: Float64Array, B: number): { dx: (Float64Array | null)[]; dConst: Float64Array | null } {
  const dims = [B, ...op.outShape];
  const n = g.length;
  const swap = op.b !== null && op.constFirst;
  const other = op.b ? op.b.data : ins[1];
  // Left and right operands as the op computes them (a constant may come first: Sub(c, x)).
  const left = swap ? other : ins[0];
  const right = swap ? ins[0] : other;
  const lShape = swap ? op.bShape : op.aShape;
  const rShape = swap ? op.aShape : op.bShape;
  const lBatched = !swap;
  const rBatched = swap || op.b === null;
  const ls = operandStrides([...lShape], op.outShape, lBatched);
  const rs = operandStrides([...rShape], op.outShape, rBatched);
  const dl = new Float64Array(left.length);
  const dr = new Float64Array(right.length);
  const os = rowMajorStrides(dims);
  for (let i = 0; i < n; i++) {
    let li = 0;
    let ri = 0;
    let rem = i;
    for (let d = 0; d < dims.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      li += c * ls[d];
      ri += c * rs[d];
    }
    if (op.fn === 'add') {
      dl[li] += g[i];
      dr[ri] += g[i];
    } else if (op.fn === 'sub') {
      dl[li] += g[i];
      dr[ri] -= g[i];
    } else if (op.fn === 'mul') {
      dl[li] += g[i] * right[ri];
      dr[ri] += g[i] * left[li];
    } else {
      dl[li] += g[i] / right[ri];
      dr[ri] -= (g[i] * left[li]) / (right[ri] * right[ri]);
    }
  }
  // Gradients of the value inputs in op.inputs order, and of the constant operand apart.
  if (op.b) return op.constFirst ? { dx: [dr], dConst: dl } : { dx: [dl], dConst: dr };
  return { dx: [dl, dr], dConst: null };
}

function softmaxBackward(op: SoftmaxOp, y: Float32Array, g: Float64Array, B: number): Float64Array {
  const dims = [B, ...op.inShape];
  const ax = op.axis + 1;
  const len = dims[ax];
  const inner = sizeOf(dims.slice(ax + 1));
  const outer = sizeOf(dims.slice(0, ax));
  const dx = new Float64Array(g.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let c = 0; c < len; c++) {
        const i = (o * len + c) * inner + j;
        s += g[i] * y[i];
      }
      for (let c = 0; c < len; c++) {
        const i = (o * len + c) * inner + j;
        dx[i] = y[i] * (g[i] - s);
      }
    }
  }
  return dx;
}

function layerNormBackward(op: LayerNormOp, x: Float32Array, g: Float64Array): Float64Array {
  const n = sizeOf(op.inShape.slice(op.axis));
  const dx = new Float64Array(g.length);
  for (let o = 0; o < x.length; o += n) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += x[o + j];
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (x[o + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + op.epsilon);
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < n; j++) {
      const gj = g[o + j] * (op.scale ? op.scale[j] : 1);
      const xh = (x[o + j] - mean) * inv;
      sg += gj;
      sgx += gj * xh;
    }
    for (let j = 0; j < n; j++) {
      const gj = g[o + j] * (op.scale ? op.scale[j] : 1);
      const xh = (x[o + j] - mean) * inv;
      dx[o + j] = (inv / n) * (n * gj - sg - xh * sgx);
    }
  }
  return dx;
}

function matmulBackward(op: MatMulOp, a: Float32Array, b: Float32Array, g: Float64Array, B: number): Float64Array[] {
  // [..., M, K]·[..., K, N] with equal leading dims (attention's Q·Kᵀ and P·V).
  const M = op.aShape[op.aShape.length - 2];
  const K = op.aShape[op.aShape.length - 1];
  const N = op.bShape[op.bShape.length - 1];
  const batches = (B * sizeOf(op.outShape)) / (M * N);
  if (a.length !== batches * M * K || b.length !== batches * K * N) throw new UsageError(`${op.name}: adapter training differentiates MatMul only with equal leading dims`);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  for (let t = 0; t < batches; t++) {
    const ao = t * M * K;
    const bo = t * K * N;
    const go = t * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const gij = g[go + i * N + j];
        if (gij === 0) continue;
        for (let k = 0; k < K; k++) {
          da[ao + i * K + k] += gij * b[bo + k * N + j];
          db[bo + k * N + j] += gij * a[ao + i * K + k];
        }
      }
    }
  }
  return [da, db];
}

/** For each element of an output of `dims` (row-major), the flat index `at(coords)` it reads (−1: none): an index map's table, CPU and GPU. */
export function indexMap(dims: readonly number[], at: (c: readonly number[]) => number): Int32Array {
  const os = rowMajorStrides(dims);
  const n = sizeOf(dims);
  const out = new Int32Array(n);
  const c = new Array<number>(dims.length);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = 0; d < dims.length; d++) {
      c[d] = Math.floor(rem / os[d]);
      rem -= c[d] * os[d];
    }
    out[i] = at(c);
  }
  return out;
}

/**
 * The index maps of the ops whose outputs read their input elements one for one (transpose, slice,
 * gather, pad, concat) or whose input elements each feed one output element (reduce): `dims` are
 * the dims the map runs over and `at` gives, per element of them, the flat index on the other side
 * (−1: a padded element that reads none). The CPU backward scatters through them, the GPU backward
 * builds its index lists from the same tables.
 */
export interface IndexMapSpec {
  dims: number[];
  at: (c: readonly number[]) => number;
}

/** Transpose: output coords → the input element they read. */
export function transposeSource(op: TransposeOp, B: number): IndexMapSpec {
  const inDims = [B, ...op.inShape];
  const perm = [0, ...op.perm.map((p) => p + 1)];
  const is = rowMajorStrides(inDims);
  return { dims: perm.map((p) => inDims[p]), at: (c) => c.reduce((a, x, d) => a + x * is[perm[d]], 0) };
}

/** Slice: output coords → the input element they read. */
export function sliceSource(op: SliceOp, B: number): IndexMapSpec {
  const is = rowMajorStrides([B, ...op.inShape]);
  return { dims: [B, ...op.outShape], at: (c) => c.reduce((a, x, d) => a + (d === 0 ? x : op.starts[d - 1] + x * op.steps[d - 1]) * is[d], 0) };
}

/** Where Gather read each output element of a batch of B: its coordinates c → the flat input index (the backward's scatter map, CPU and GPU). */
export function gatherSource(op: GatherOp, B: number): (c: readonly number[]) => number {
  const inDims = [B, ...op.inShape];
  const is = rowMajorStrides(inDims);
  const ax = op.axis + 1;
  const ni = op.indicesShape.length;
  const ids = rowMajorStrides([...op.indicesShape]);
  return (c) => {
    let at = 0;
    for (let d = 0; d < ax; d++) at += c[d] * is[d];
    let j = 0;
    for (let d = 0; d < ni; d++) j += c[ax + d] * ids[d];
    at += op.indices[j] * is[ax];
    for (let d = ax + 1; d < inDims.length; d++) at += c[d + ni - 1] * is[d];
    return at;
  };
}

/** Pad: output coords → the input element they read, or −1 for the constant value (edge, reflect and wrap read one element many times). */
export function padSourceMap(op: PadOp, B: number): IndexMapSpec {
  const is = rowMajorStrides([B, ...op.inShape]);
  return {
    dims: [B, ...op.outShape],
    at: (c) => {
      let at = c[0] * is[0];
      for (let d = 1; d < c.length; d++) {
        const s = padSource(op.mode, c[d] - op.pads[d - 1], op.inShape[d - 1]);
        if (s < 0) return -1;
        at += s * is[d];
      }
      return at;
    },
  };
}

/** Concat: coords of input k → the output element it is copied to. */
export function concatTarget(op: ConcatOp, B: number, k: number): IndexMapSpec {
  const ax = op.axis + 1;
  const outDims = [B, ...op.inShapes[0]];
  outDims[ax] = op.inShapes.reduce((a, s) => a + s[op.axis], 0);
  const start = op.inShapes.slice(0, k).reduce((a, s) => a + s[op.axis], 0);
  const os = rowMajorStrides(outDims);
  return { dims: [B, ...op.inShapes[k]], at: (c) => c.reduce((a, x, d) => a + (d === ax ? x + start : x) * os[d], 0) };
}

/** Reduce sum/mean: input coords → the output element they feed (reduced dims dropped or kept as 1), and the gradient's scale. */
export function reduceTarget(op: ReduceOp, B: number): IndexMapSpec & { scale: number } {
  const inDims = [B, ...op.inShape];
  const axes = new Set(op.axes.map((a) => a + 1));
  const count = op.axes.reduce((p, a) => p * op.inShape[a], 1);
  const ks = rowMajorStrides(inDims.map((d, i) => (axes.has(i) ? 1 : d)));
  return { dims: inDims, at: (c) => c.reduce((a, x, d) => a + (axes.has(d) ? 0 : x * ks[d]), 0), scale: op.fn === 'mean' ? 1 / count : 1 };
}

/** dx of an op whose output element i reads input element src[i] (−1: none): the sum over the readers. */
function scatterBack(src: Int32Array, inLen: number, g: Float64Array): Float64Array {
  const dx = new Float64Array(inLen);
  for (let i = 0; i < g.length; i++) if (src[i] >= 0) dx[src[i]] += g[i];
  return dx;
}

/** dx of an op whose input element j feeds output element dst[j] alone, times `scale`. */
function gatherBack(dst: Int32Array, g: Float64Array, scale: number): Float64Array {
  const dx = new Float64Array(dst.length);
  for (let j = 0; j < dst.length; j++) dx[j] = g[dst[j]] * scale;
  return dx;
}

/**
 * Pooling's backward as (output, input, weight) triples over a batch of B: a max pool passes each
 * output's gradient to its window's first largest input (the kept input `x` decides it), an average
 * pool spreads it over the window's taps divided by the forward's divisor.
 */
export function poolTaps(op: PoolOp, x: Float32Array, B: number): { out: Int32Array; inp: Int32Array; w: Float64Array } {
  const out: number[] = [];
  const inp: number[] = [];
  const w: number[] = [];
  forEachPoolWindow(op, B, (o, taps, padTaps) => {
    if (taps.length === 0) return;
    if (op.mode === 'max') {
      let best = taps[0];
      for (const t of taps) if (x[t] > x[best]) best = t;
      out.push(o);
      inp.push(best);
      w.push(1);
    } else {
      const n = taps.length + (op.countIncludePad ? padTaps : 0);
      for (const t of taps) {
        out.push(o);
        inp.push(t);
        w.push(1 / n);
      }
    }
  });
  return { out: Int32Array.from(out), inp: Int32Array.from(inp), w: Float64Array.from(w) };
}

function poolBackward(op: PoolOp, x: Float32Array, g: Float64Array, B: number): Float64Array {
  const t = poolTaps(op, x, B);
  const dx = new Float64Array(x.length);
  for (let i = 0; i < t.out.length; i++) dx[t.inp[i]] += t.w[i] * g[t.out[i]];
  return dx;
}

function affineBackward(op: AffineOp, g: Float64Array): Float64Array {
  const inner = sizeOf(op.inShape.slice(1));
  const C = op.inShape[0];
  const dx = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) dx[i] = g[i] * op.scale[Math.floor(i / inner) % C];
  return dx;
}


/** A conv's sizes as its backward uses them: input H×Wd, output OH×OW = P positions, per group cinG inputs, Kg = cinG·kh·kw taps and Ng outputs. */
export function convDims(op: ConvOp): { H: number; Wd: number; OH: number; OW: number; P: number; cinG: number; Kg: number; Ng: number } {
  const [, H, Wd] = op.inShape;
  const [, OH, OW] = op.outShape;
  const cinG = op.cin / op.group;
  return { H, Wd, OH, OW, P: OH * OW, cinG, Kg: cinG * op.kh * op.kw, Ng: op.cout / op.group };
}

/** A conv layer's dW, db when trained and dx (through W, the chip's effective weights) when an earlier op needs it. */
function convBackward(op: ConvOp, x: Float32Array, g: Float64Array, B: number, ctx: BackwardContext, pgrads: Map<string, ParamGrad>, needDx: boolean): Float64Array | null {
  const { H, Wd, P, cinG, Kg, Ng } = convDims(op);
  const taps = convTaps(op);
  const trained = ctx.params?.has(op.name) ?? false;
  const dW = trained ? new Float64Array(op.weight.length) : null;
  const db = trained && op.bias ? new Float64Array(op.cout) : null;
  const W = needDx ? ctx.weights(op) : null;
  const dx = needDx ? new Float64Array(x.length) : null;
  for (let b = 0; b < B; b++) {
    for (let grp = 0; grp < op.group; grp++) {
      const xo = (b * op.cin + grp * cinG) * H * Wd;
      for (let n = 0; n < Ng; n++) {
        const co = grp * Ng + n;
        const go = (b * op.cout + co) * P;
        const wo = co * Kg;
        for (let p = 0; p < P; p++) {
          const gv = g[go + p];
          if (gv === 0) continue;
          if (db) db[co] += gv;
          const to = p * Kg;
          for (let k = 0; k < Kg; k++) {
            const t = taps[to + k];
            if (t < 0) continue;
            if (dW) dW[wo + k] += gv * x[xo + t];
            if (dx) dx[xo + t] += gv * W![wo + k];
          }
        }
      }
    }
  }
  if (dW) pgrads.set(op.name, { dW, db });
  return dx;
}

function linearBackward(op: LinearOp, x: Float32Array, g: Float64Array, B: number, ctx: BackwardContext, grads: Map<string, AdapterGrad>, pgrads: Map<string, ParamGrad>, needDx: boolean): Float64Array | null {
  const { K, N } = op;
  const n = (B * sizeOf(op.inShape)) / K;
  if (ctx.params?.has(op.name)) {
    const dW = new Float64Array(K * N);
    const db = op.bias ? new Float64Array(N) : null;
    for (let i = 0; i < n; i++) {
      const go = i * N;
      if (db) for (let j = 0; j < N; j++) db[j] += g[go + j];
      for (let k = 0; k < K; k++) {
        const xv = x[i * K + k];
        if (xv === 0) continue;
        const wo = k * N;
        for (let j = 0; j < N; j++) dW[wo + j] += xv * g[go + j];
      }
    }
    pgrads.set(op.name, { dW, db });
  }
  const ad = ctx.adapters.get(op.name);
  let gh: Float64Array | null = null;
  if (ad) {
    const { a, up } = ad;
    const r = a.rank;
    const s = a.alpha / r;
    const { h } = adapterBranchRef(a, up, x, n);
    const dA = new Float64Array(r * K);
    const dB = new Float64Array(N * r);
    gh = new Float64Array(n * r);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < N; j++) {
        const gij = g[i * N + j];
        if (gij === 0) continue;
        for (let q = 0; q < r; q++) {
          dB[j * r + q] += s * gij * h[i * r + q];
          gh[i * r + q] += s * gij * a.B[j * r + q];
        }
      }
      for (let q = 0; q < r; q++) {
        const v = gh[i * r + q];
        if (v === 0) continue;
        for (let k = 0; k < K; k++) dA[q * K + k] += v * x[i * K + k];
      }
    }
    grads.set(op.name, { dA, dB });
  }
  if (!needDx) return null;
  const W = ctx.weights(op);
  const dx = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      const wo = k * N;
      const go = i * N;
      for (let j = 0; j < N; j++) s += g[go + j] * W[wo + j];
      if (gh && ad) for (let q = 0; q < ad.a.rank; q++) s += gh[i * ad.a.rank + q] * ad.a.A[q * K + k];
      dx[i * K + k] = s;
    }
  }
  return dx;
}

/**
 * Gradients of every adapter in `ctx.adapters` given d(loss)/d(output) `gOut` and the kept values
 * of the forward pass over B samples.
 */
export function adapterGradients(net: Network, values: ReadonlyMap<string, Float32Array>, B: number, gOut: Float64Array, ctx: BackwardContext): Map<string, AdapterGrad> {
  return backwardPass(net, values, B, gOut, ctx).adapters;
}

/** Gradients of the weights and biases named in `ctx.params` (and of any adapters in ctx), as adapterGradients. */
export function parameterGradients(net: Network, values: ReadonlyMap<string, Float32Array>, B: number, gOut: Float64Array, ctx: BackwardContext): Map<string, ParamGrad> {
  return backwardPass(net, values, B, gOut, ctx).params;
}

function backwardPass(net: Network, values: ReadonlyMap<string, Float32Array>, B: number, gOut: Float64Array, ctx: BackwardContext): { adapters: Map<string, AdapterGrad>; params: Map<string, ParamGrad> } {
  const first = net.ops.findIndex((op) => (op.kind === 'linear' && ctx.adapters.has(op.name)) || (ctx.params?.has(op.name) ?? false));
  const grads = new Map<string, AdapterGrad>();
  const pgrads = new Map<string, ParamGrad>();
  if (first < 0) return { adapters: grads, params: pgrads };
  const bad = unsupportedOp(net, first);
  if (bad) throw new UsageError(`adapt: cannot differentiate ${bad.kind} op "${bad.name}" after the first adapted layer (supported: ${BACKWARD_OPS}); adapt later layers with --layers`);
  const g = new Map<string, Float64Array>([[net.output, gOut]]);
  const add = (name: string, d: Float64Array | null): void => {
    if (!d) return;
    const prev = g.get(name);
    if (!prev) g.set(name, d);
    else for (let i = 0; i < d.length; i++) prev[i] += d[i];
  };
  const val = (name: string): Float32Array => {
    const v = values.get(name);
    if (!v) throw new Error(`adapt: value "${name}" was not kept by the forward pass`);
    return v;
  };
  for (let i = net.ops.length - 1; i >= first; i--) {
    const op = net.ops[i];
    const go = g.get(op.output);
    if (!go) continue;
    const needDx = i > first;
    switch (op.kind) {
      case 'linear': add(op.inputs[0], linearBackward(op, val(op.inputs[0]), go, B, ctx, grads, pgrads, needDx)); break;
      case 'reshape': add(op.inputs[0], go); break;
      case 'unary': add(op.inputs[0], unaryBackward(op, val(op.inputs[0]), go)); break;
      case 'binary': {
        const r = binaryBackward(op, op.inputs.map(val), go, B);
        r.dx.forEach((d, k) => add(op.inputs[k], d));
        if (r.dConst && ctx.params?.has(op.name)) pgrads.set(op.name, { dW: r.dConst, db: null });
        break;
      }
      case 'softmax': add(op.inputs[0], softmaxBackward(op, val(op.output), go, B)); break;
      case 'layernorm': add(op.inputs[0], layerNormBackward(op, val(op.inputs[0]), go)); break;
      case 'matmul': matmulBackward(op, val(op.inputs[0]), val(op.inputs[1]), go, B).forEach((d, k) => add(op.inputs[k], d)); break;
      case 'conv': add(op.inputs[0], convBackward(op, val(op.inputs[0]), go, B, ctx, pgrads, needDx)); break;
      case 'pool': add(op.inputs[0], poolBackward(op, val(op.inputs[0]), go, B)); break;
      case 'affine': add(op.inputs[0], affineBackward(op, go)); break;
      case 'transpose': { const m = transposeSource(op, B); add(op.inputs[0], scatterBack(indexMap(m.dims, m.at), go.length, go)); break; }
      case 'slice': { const m = sliceSource(op, B); add(op.inputs[0], scatterBack(indexMap(m.dims, m.at), B * sizeOf(op.inShape), go)); break; }
      case 'gather': add(op.inputs[0], scatterBack(indexMap([B, ...op.outShape], gatherSource(op, B)), B * sizeOf(op.inShape), go)); break;
      case 'pad': { const m = padSourceMap(op, B); add(op.inputs[0], scatterBack(indexMap(m.dims, m.at), B * sizeOf(op.inShape), go)); break; }
      case 'concat': op.inputs.forEach((name, k) => { const m = concatTarget(op, B, k); add(name, gatherBack(indexMap(m.dims, m.at), go, 1)); }); break;
      case 'constant': break;
      case 'reduce': { const m = reduceTarget(op, B); add(op.inputs[0], gatherBack(indexMap(m.dims, m.at), go, m.scale)); break; }
      default: throw new Error(`adapt: no backward for ${op.kind}`);
    }
    // Grads of values no later op reads are dropped as soon as they are used.
    g.delete(op.output);
  }
  return { adapters: grads, params: pgrads };
}
