/**
 * The CPU oracle of adapter gradients (issue 17): reverse-mode through the network IR from the
 * values a forward pass kept (NetworkRunner.forward with `keep`), f64 accumulation. Analog layers are
 * crossed with the straight-through estimate: their backward uses the effective weights of the
 * programmed chip (src/nn/adapt/effective.ts), as if the forward had been x·W_eff + b, so noise and
 * quantization stay in the forward only.
 */
import { UsageError } from '../../errors.ts';
import type { GatherOp, ReduceOp, SliceOp } from '../../ir/graph.ts';
import { sizeOf, type BinaryOp, type LayerNormOp, type LinearOp, type MatMulOp, type Network, type NetOp, type SoftmaxOp, type TransposeOp, type UnaryOp } from '../../ir/graph.ts';
import { adapterBranchRef, type AdapterLayer } from '../../adapters/set.ts';
import { rowMajorStrides } from '../../ir/tensor.ts';

/** Gradients of one adapter: dA [r, K], dB [N, r]. */
export interface AdapterGrad {
  dA: Float64Array;
  dB: Float64Array;
}

/** What the backward pass needs besides the kept values. */
export interface BackwardContext {
  /** W [K, N] the backward of a linear layer uses: the chip's effective weights, or the f32 weights of a digital layer. */
  weights(op: LinearOp): ArrayLike<number>;
  /** Trainable adapters by layer name with their f32 up-projections (α/r)·B. */
  adapters: ReadonlyMap<string, { a: AdapterLayer; up: Float32Array }>;
  /**
   * --full (hardware-aware training of the weights): linear layers whose weight and bias get a
   * gradient (straight-through: dW = xᵀ·g as if the forward had been x·W + b), and constant-operand
   * Add ops whose constant does (the bias Add that follows a MatMul in PyTorch's exports).
   */
  params?: ReadonlySet<string>;
}

/** Gradient of one trained layer: dW [K, N] and db [N] (null without a bias), or of an Add's constant (dW only). */
export interface ParamGrad {
  dW: Float64Array;
  db: Float64Array | null;
}

const UNARY_BACKWARD = ['relu', 'leaky-relu', 'tanh', 'sigmoid', 'gelu', 'erf', 'neg'] as const;
const BINARY_BACKWARD = ['add', 'sub', 'mul', 'div'] as const;
/** The op kinds (and functions) adapter training differentiates through. */
export const BACKWARD_OPS = `linear, reshape, transpose, slice, gather, reduce (sum, mean), softmax, layernorm, matmul, unary (${UNARY_BACKWARD.join(', ')}), binary (${BINARY_BACKWARD.join(', ')})`;

/** The first op a backward pass must not need to cross, or null when every op from `from` on is supported. */
export function unsupportedOp(net: Network, from: number): NetOp | null {
  for (let i = from; i < net.ops.length; i++) {
    const op = net.ops[i];
    const ok =
      op.kind === 'linear' || op.kind === 'reshape' || op.kind === 'transpose' || op.kind === 'softmax' || op.kind === 'layernorm' || op.kind === 'matmul' ||
      op.kind === 'slice' || op.kind === 'gather' || (op.kind === 'reduce' && (op.fn === 'sum' || op.fn === 'mean')) ||
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

function transposeBackward(op: TransposeOp, g: Float64Array, B: number): Float64Array {
  const inDims = [B, ...op.inShape];
  const perm = [0, ...op.perm.map((p) => p + 1)];
  const outDims = perm.map((p) => inDims[p]);
  const is = rowMajorStrides(inDims);
  const os = rowMajorStrides(outDims);
  const dx = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    let rem = i;
    let src = 0;
    for (let d = 0; d < outDims.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      src += c * is[perm[d]];
    }
    dx[src] = g[i];
  }
  return dx;
}

/** Scatters g of the output back through an index map: out element i reads input element `src(coords of i)`. */
function scatterBack(outDims: readonly number[], inLen: number, g: Float64Array, src: (c: number[]) => number): Float64Array {
  const os = rowMajorStrides(outDims);
  const dx = new Float64Array(inLen);
  const c = new Array<number>(outDims.length);
  for (let i = 0; i < g.length; i++) {
    let rem = i;
    for (let d = 0; d < outDims.length; d++) {
      c[d] = Math.floor(rem / os[d]);
      rem -= c[d] * os[d];
    }
    dx[src(c)] += g[i];
  }
  return dx;
}

function sliceBackward(op: SliceOp, g: Float64Array, B: number): Float64Array {
  const is = rowMajorStrides([B, ...op.inShape]);
  return scatterBack([B, ...op.outShape], B * sizeOf(op.inShape), g, (c) => {
    let at = c[0] * is[0];
    for (let d = 1; d < c.length; d++) at += (op.starts[d - 1] + c[d] * op.steps[d - 1]) * is[d];
    return at;
  });
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

function gatherBackward(op: GatherOp, g: Float64Array, B: number): Float64Array {
  return scatterBack([B, ...op.outShape], B * sizeOf(op.inShape), g, gatherSource(op, B));
}

function reduceBackward(op: ReduceOp, g: Float64Array, B: number): Float64Array {
  const inDims = [B, ...op.inShape];
  const axes = new Set(op.axes.map((a) => a + 1));
  const count = op.axes.reduce((p, a) => p * op.inShape[a], 1);
  const scale = op.fn === 'mean' ? 1 / count : 1;
  // The kept dims of the input in order are the output's (reduced dims dropped or kept as 1).
  const keptDims = inDims.map((d, i) => (axes.has(i) ? 1 : d));
  const ks = rowMajorStrides(keptDims);
  const is = rowMajorStrides(inDims);
  const dx = new Float64Array(B * sizeOf(op.inShape));
  for (let i = 0; i < dx.length; i++) {
    let rem = i;
    let o = 0;
    for (let d = 0; d < inDims.length; d++) {
      const c = Math.floor(rem / is[d]);
      rem -= c * is[d];
      if (!axes.has(d)) o += c * ks[d];
    }
    dx[i] = g[o] * scale;
  }
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
  const first = net.ops.findIndex((op) => (op.kind === 'linear' && ctx.adapters.has(op.name)) || ctx.params?.has(op.name));
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
      case 'transpose': add(op.inputs[0], transposeBackward(op, go, B)); break;
      case 'slice': add(op.inputs[0], sliceBackward(op, go, B)); break;
      case 'gather': add(op.inputs[0], gatherBackward(op, go, B)); break;
      case 'reduce': add(op.inputs[0], reduceBackward(op, go, B)); break;
      default: throw new Error(`adapt: no backward for ${op.kind}`);
    }
    // Grads of values no later op reads are dropped as soon as they are used.
    g.delete(op.output);
  }
  return { adapters: grads, params: pgrads };
}
