/**
 * Small ONNX test models (built with src/io/onnx/build.ts, seeded weights) and, for each, a plain f32
 * forward pass written from the ONNX operator definitions on the model's own tensors: an oracle for
 * the importer and for any executor of the imported network. Nothing here uses the network IR.
 * When written, every model at opsets 9–21 passed onnx.checker (full_check) and its forward matched
 * onnxruntime 1.30 to 4e-7, ceil_mode and count_include_pad edge cases of the pools included.
 */
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { AttrValue, BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { randomArray } from './random.ts';

export interface TestModel {
  name: string;
  bytes: Uint8Array;
  /** Per-sample input shape (batch excluded). */
  inputShape: number[];
  /** The model's output for a batch of inputs, [batch, ...inputShape] row-major. */
  forward(x: Float32Array, batch: number): Float32Array;
}

/**
 * How float initializers are stored: raw_data f32 (default), float_data, or float64 raw/typed. The
 * float64 forms exercise the importer's conversion; strict checkers reject them (mixed types).
 */
export type Storage = 'raw' | 'typed' | 'float64' | 'float64-typed';

export interface ModelOptions {
  /** Default-domain opset (default 13). */
  opset?: number;
  storage?: Storage;
  /** Seed of the weights (default depends on the model). */
  seed?: number;
}

// ---------------------------------------------------------------------------------------------
// Reference kernels (ONNX semantics, NCHW, f64 accumulation, f32 results)
// ---------------------------------------------------------------------------------------------

/** A batch of tensors: data [batch, ...shape]. */
export interface Batch {
  data: Float32Array;
  batch: number;
  shape: number[];
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface ConvParams {
  group?: number;
  strides?: [number, number];
  /** [top, left, bottom, right] */
  pads?: [number, number, number, number];
  dilations?: [number, number];
}

/** ONNX Conv (2-D): W is [M, C/group, kh, kw], B is [M] or null. */
export function refConv(x: Batch, w: Float32Array, wDims: number[], b: Float32Array | null, p: ConvParams = {}): Batch {
  const [C, H, W] = x.shape;
  const [M, cg, kh, kw] = wDims;
  const g = p.group ?? 1;
  const [sh, sw] = p.strides ?? [1, 1];
  const [pt, pl, pb, pr] = p.pads ?? [0, 0, 0, 0];
  const [dh, dw] = p.dilations ?? [1, 1];
  if (cg * g !== C) throw new Error('refConv: channel mismatch');
  const OH = Math.floor((H + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
  const OW = Math.floor((W + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
  const mg = M / g;
  const out = new Float32Array(x.batch * M * OH * OW);
  for (let n = 0; n < x.batch; n++) {
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / mg);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[m] : 0;
          for (let c = 0; c < cg; c++) {
            const ci = grp * cg + c;
            for (let i = 0; i < kh; i++) {
              const h = oh * sh - pt + i * dh;
              if (h < 0 || h >= H) continue;
              for (let j = 0; j < kw; j++) {
                const ww = ow * sw - pl + j * dw;
                if (ww < 0 || ww >= W) continue;
                acc += x.data[((n * C + ci) * H + h) * W + ww] * w[((m * cg + c) * kh + i) * kw + j];
              }
            }
          }
          out[((n * M + m) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
  return { data: out, batch: x.batch, shape: [M, OH, OW] };
}

/** Explicit [begin, end] pads of ONNX auto_pad SAME_UPPER / SAME_LOWER along one axis. */
export function samePads(inSize: number, k: number, stride: number, dilation: number, upper: boolean): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + (k - 1) * dilation + 1 - inSize);
  const begin = upper ? Math.floor(total / 2) : Math.ceil(total / 2);
  return [begin, total - begin];
}

export interface PoolParams {
  kernel: [number, number];
  strides?: [number, number];
  pads?: [number, number, number, number];
  dilations?: [number, number];
  ceilMode?: boolean;
  /** AveragePool count_include_pad. */
  countIncludePad?: boolean;
}

/** Pooled output size, ceil_mode with the rule that the last window starts inside input or begin pad. */
function poolOut(inSize: number, k: number, s: number, d: number, pBegin: number, pEnd: number, ceil: boolean): number {
  const span = inSize + pBegin + pEnd - ((k - 1) * d + 1);
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= inSize + pBegin) out--;
  return out;
}

/**
 * ONNX MaxPool / AveragePool (2-D). Padding never wins a max; an average divides by the window
 * positions inside the input (count_include_pad 0) or inside the padded input (1).
 */
export function refPool(x: Batch, mode: 'max' | 'avg', p: PoolParams): Batch {
  const [C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.strides ?? [1, 1];
  const [pt, pl, pb, pr] = p.pads ?? [0, 0, 0, 0];
  const [dh, dw] = p.dilations ?? [1, 1];
  const OH = poolOut(H, kh, sh, dh, pt, pb, p.ceilMode ?? false);
  const OW = poolOut(W, kw, sw, dw, pl, pr, p.ceilMode ?? false);
  const out = new Float32Array(x.batch * C * OH * OW);
  for (let n = 0; n < x.batch; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = mode === 'max' ? -Infinity : 0;
          let valid = 0;
          let padded = 0;
          for (let i = 0; i < kh; i++) {
            const h = oh * sh - pt + i * dh;
            for (let j = 0; j < kw; j++) {
              const w = ow * sw - pl + j * dw;
              if (h >= -pt && h < H + pb && w >= -pl && w < W + pr) padded++;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const v = x.data[((n * C + c) * H + h) * W + w];
              valid++;
              acc = mode === 'max' ? Math.max(acc, v) : acc + v;
            }
          }
          out[((n * C + c) * OH + oh) * OW + ow] = mode === 'max' ? acc : acc / (p.countIncludePad ? padded : valid);
        }
      }
    }
  }
  return { data: out, batch: x.batch, shape: [C, OH, OW] };
}

/** ONNX GlobalAveragePool. */
export function refGlobalAvgPool(x: Batch): Batch {
  const [, H, W] = x.shape;
  return refPool(x, 'avg', { kernel: [H, W] });
}

/** ONNX BatchNormalization (inference) on axis 1. */
export function refBatchNorm(
  x: Batch,
  scale: Float32Array,
  bias: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
): Batch {
  const C = x.shape[0];
  const inner = size(x.shape.slice(1));
  const out = new Float32Array(x.data.length);
  for (let n = 0; n < x.batch; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        const k = (n * C + c) * inner + i;
        out[k] = ((x.data[k] - mean[c]) / Math.sqrt(variance[c] + eps)) * scale[c] + bias[c];
      }
    }
  }
  return { data: out, batch: x.batch, shape: x.shape };
}

/** Elementwise function of one batch. */
export function refMap(x: Batch, f: (v: number) => number): Batch {
  return { data: x.data.map(f), batch: x.batch, shape: x.shape };
}

/** ONNX Relu. */
export const relu = (v: number): number => Math.max(v, 0);
/** ONNX LeakyRelu with slope `alpha`. */
export const leakyRelu = (alpha: number) => (v: number): number => (v < 0 ? alpha * v : v);
/** ONNX Sigmoid. */
export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
/** ONNX Clip to [lo, hi]. */
export const clip = (lo: number, hi: number) => (v: number): number => Math.min(Math.max(v, lo), hi);

/** ONNX Gemm with transA = 0: Y = alpha·X·B' + beta·C, B' = B or Bᵀ, C [N] or null. */
export function refGemm(
  x: Batch,
  b: Float32Array,
  bDims: [number, number],
  c: Float32Array | null,
  opts: { transB?: boolean; alpha?: number; beta?: number } = {},
): Batch {
  const K = x.shape[0];
  const transB = opts.transB ?? false;
  const N = transB ? bDims[0] : bDims[1];
  if ((transB ? bDims[1] : bDims[0]) !== K) throw new Error('refGemm: K mismatch');
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 1;
  const out = new Float32Array(x.batch * N);
  for (let r = 0; r < x.batch; r++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x.data[r * K + k] * (transB ? b[n * K + k] : b[k * N + n]);
      out[r * N + n] = alpha * acc + (c ? beta * c[n] : 0);
    }
  }
  return { data: out, batch: x.batch, shape: [N] };
}

/** Elementwise binary op of a batch and a tensor broadcast along the trailing per-sample axes. */
export function refBinaryConst(x: Batch, c: Float32Array, cDims: number[], f: (a: number, b: number) => number): Batch {
  const per = size(x.shape);
  const out = new Float32Array(x.data.length);
  const r = x.shape.length;
  const pad = r - cDims.length;
  for (let n = 0; n < x.batch; n++) {
    for (let i = 0; i < per; i++) {
      let rem = i;
      let ci = 0;
      let cStride = 1;
      for (let ax = r - 1; ax >= 0; ax--) {
        const idx = rem % x.shape[ax];
        rem = Math.floor(rem / x.shape[ax]);
        if (ax >= pad) {
          const d = cDims[ax - pad];
          if (d !== 1) ci += idx * cStride;
          cStride *= d;
        }
      }
      out[n * per + i] = f(x.data[n * per + i], c[ci]);
    }
  }
  return { data: out, batch: x.batch, shape: x.shape };
}

/** Elementwise sum of two batches of the same shape. */
export function refAdd(a: Batch, b: Batch): Batch {
  return { data: a.data.map((v, i) => v + b.data[i]), batch: a.batch, shape: a.shape };
}

/** Softmax over the last per-sample axis. */
export function refSoftmaxLast(x: Batch): Batch {
  const F = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.data.length / F; r++) {
    let m = -Infinity;
    for (let i = 0; i < F; i++) m = Math.max(m, x.data[r * F + i]);
    let s = 0;
    for (let i = 0; i < F; i++) s += Math.exp(x.data[r * F + i] - m);
    for (let i = 0; i < F; i++) out[r * F + i] = Math.exp(x.data[r * F + i] - m) / s;
  }
  return { data: out, batch: x.batch, shape: x.shape };
}

/** Swaps the last two per-sample axes (ONNX Transpose perm [0, ..., r-1, r-2]). */
export function refSwapLast2(x: Batch): Batch {
  const r = x.shape.length;
  const [A, B] = [x.shape[r - 2], x.shape[r - 1]];
  const outer = x.data.length / (A * B);
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) out[o * A * B + j * A + i] = x.data[o * A * B + i * B + j];
  }
  return { data: out, batch: x.batch, shape: [...x.shape.slice(0, r - 2), B, A] };
}

/** Flatten/Reshape: same data, new per-sample shape. */
export function refReshape(x: Batch, shape: number[]): Batch {
  return { data: x.data, batch: x.batch, shape };
}

// ---------------------------------------------------------------------------------------------
// Model construction helpers
// ---------------------------------------------------------------------------------------------

class Builder {
  readonly inits: BuildTensor[] = [];
  readonly nodes: BuildNode[] = [];
  private seed: number;

  constructor(
    seed: number,
    private readonly storage: Storage,
  ) {
    this.seed = seed;
  }

  /** A seeded uniform float initializer. */
  param(name: string, dims: number[], lo = -1, hi = 1): Float32Array {
    const data = randomArray(size(dims), this.seed++, lo, hi);
    this.float(name, dims, data);
    return data;
  }

  /** A float initializer with the given values, stored per the model's storage option. */
  float(name: string, dims: number[], data: Float32Array): void {
    const s = this.storage;
    if (s === 'float64' || s === 'float64-typed') {
      this.inits.push({ name, dims, data: Float64Array.from(data), raw: s === 'float64' });
    } else {
      this.inits.push({ name, dims, data, raw: s === 'raw' });
    }
  }

  int64(name: string, values: number[], dims = [values.length]): void {
    this.inits.push({ name, dims, data: BigInt64Array.from(values, (v) => BigInt(v)), raw: this.storage === 'raw' || this.storage === 'float64' });
  }

  node(op: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>, name?: string): void {
    this.nodes.push({ op, inputs, outputs, attrs, name: name ?? `${op.toLowerCase()}_${this.nodes.length}` });
  }
}

function encode(b: Builder, opset: number, inputShape: number[], outputDims: number[], name: string): Uint8Array {
  return buildOnnxModel({
    opset,
    graphName: name,
    inputs: [{ name: 'input', dims: ['batch', ...inputShape] }],
    outputs: [{ name: 'output', dims: ['batch', ...outputDims] }],
    initializers: b.inits,
    nodes: b.nodes,
  });
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/** (a) Conv(3→4, 3x3, pad 1) → BatchNormalization → Relu → MaxPool 2x2 → Flatten → Gemm(transB) → 10. */
export function convBnModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 100, o.storage ?? 'raw');
  const inputShape = [3, 8, 8];
  const w1 = b.param('conv1.weight', [4, 3, 3, 3], -0.5, 0.5);
  const b1 = b.param('conv1.bias', [4], -0.2, 0.2);
  const gamma = b.param('bn1.weight', [4], 0.5, 1.5);
  const beta = b.param('bn1.bias', [4], -0.3, 0.3);
  const mean = b.param('bn1.running_mean', [4], -0.2, 0.2);
  const variance = b.param('bn1.running_var', [4], 0.5, 2);
  const w2 = b.param('fc.weight', [10, 64], -0.3, 0.3);
  const b2 = b.param('fc.bias', [10], -0.1, 0.1);
  b.node('Conv', ['input', 'conv1.weight', 'conv1.bias'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv1');
  b.node('BatchNormalization', ['c1', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'], ['bn'], { epsilon: 0.001, momentum: 0.9 }, 'bn1');
  b.node('Relu', ['bn'], ['r'], undefined, 'relu1');
  b.node('MaxPool', ['r'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool1');
  b.node('Flatten', ['p'], ['f'], { axis: 1 }, 'flatten');
  b.node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['output'], { transB: 1, alpha: 1.0, beta: 1.0 }, 'fc');
  return {
    name: 'conv-bn',
    bytes: encode(b, opset, inputShape, [10], 'conv-bn'),
    inputShape,
    forward(x, batch) {
      let t: Batch = { data: x, batch, shape: inputShape };
      t = refConv(t, w1, [4, 3, 3, 3], b1, { pads: [1, 1, 1, 1] });
      t = refBatchNorm(t, gamma, beta, mean, variance, Math.fround(0.001));
      t = refMap(t, relu);
      t = refPool(t, 'max', { kernel: [2, 2], strides: [2, 2] });
      t = refReshape(t, [64]);
      return refGemm(t, w2, [10, 64], b2, { transB: true }).data;
    },
  };
}

/** (b) Residual block: Conv→Relu→Conv, + identity (Add of two activations), Relu, GlobalAveragePool, Flatten, Gemm → 5. */
export function residualModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 200, o.storage ?? 'raw');
  const inputShape = [4, 6, 6];
  const w1 = b.param('block.conv1.weight', [4, 4, 3, 3], -0.4, 0.4);
  const b1 = b.param('block.conv1.bias', [4], -0.1, 0.1);
  const w2 = b.param('block.conv2.weight', [4, 4, 3, 3], -0.4, 0.4);
  const b2 = b.param('block.conv2.bias', [4], -0.1, 0.1);
  const w3 = b.param('head.weight', [4, 5], -1, 1);
  const b3 = b.param('head.bias', [5], -0.1, 0.1);
  const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] };
  b.node('Conv', ['input', 'block.conv1.weight', 'block.conv1.bias'], ['c1'], conv, 'block.conv1');
  b.node('Relu', ['c1'], ['r1'], undefined, 'block.relu1');
  b.node('Conv', ['r1', 'block.conv2.weight', 'block.conv2.bias'], ['c2'], conv, 'block.conv2');
  b.node('Add', ['c2', 'input'], ['s'], undefined, 'block.add');
  b.node('Relu', ['s'], ['r2'], undefined, 'block.relu2');
  b.node('GlobalAveragePool', ['r2'], ['g'], undefined, 'gap');
  b.node('Flatten', ['g'], ['f'], undefined, 'flatten');
  b.node('Gemm', ['f', 'head.weight', 'head.bias'], ['output'], undefined, 'head');
  return {
    name: 'residual',
    bytes: encode(b, opset, inputShape, [5], 'residual'),
    inputShape,
    forward(x, batch) {
      const t0: Batch = { data: x, batch, shape: inputShape };
      let t = refConv(t0, w1, [4, 4, 3, 3], b1, { pads: [1, 1, 1, 1] });
      t = refMap(t, relu);
      t = refConv(t, w2, [4, 4, 3, 3], b2, { pads: [1, 1, 1, 1] });
      t = refMap(refAdd(t, t0), relu);
      t = refReshape(refGlobalAvgPool(t), [4]);
      return refGemm(t, w3, [4, 5], b3).data;
    },
  };
}

/** (c) MLP: MatMul → Add → Relu → MatMul → Add → Softmax (axis 1 before opset 13, -1 from 13). */
export function mlpModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 300, o.storage ?? 'raw');
  const inputShape = [12];
  const w1 = b.param('fc1.weight', [12, 16], -0.5, 0.5);
  const b1 = b.param('fc1.bias', [16], -0.2, 0.2);
  const w2 = b.param('fc2.weight', [16, 10], -0.5, 0.5);
  const b2 = b.param('fc2.bias', [10], -0.2, 0.2);
  b.node('MatMul', ['input', 'fc1.weight'], ['h'], undefined, 'fc1.matmul');
  b.node('Add', ['h', 'fc1.bias'], ['h2'], undefined, 'fc1.add');
  b.node('Relu', ['h2'], ['h3'], undefined, 'relu');
  b.node('MatMul', ['h3', 'fc2.weight'], ['o'], undefined, 'fc2.matmul');
  b.node('Add', ['fc2.bias', 'o'], ['o2'], undefined, 'fc2.add');
  b.node('Softmax', ['o2'], ['output'], { axis: opset < 13 ? 1 : -1 }, 'softmax');
  return {
    name: 'mlp',
    bytes: encode(b, opset, inputShape, [10], 'mlp'),
    inputShape,
    forward(x, batch) {
      let t: Batch = { data: x, batch, shape: inputShape };
      t = refGemm(t, w1, [12, 16], b1);
      t = refMap(t, relu);
      t = refGemm(t, w2, [16, 10], b2);
      return refSoftmaxLast(t).data;
    },
  };
}

/**
 * (d) PyTorch's `x.view(x.size(0), -1)`: Shape → Gather(0) → Unsqueeze → Concat([-1]) → Reshape,
 * after Conv → Relu, then Gemm → 6. Unsqueeze takes axes as an attribute before opset 13.
 */
export function torchFlattenModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 400, o.storage ?? 'raw');
  const inputShape = [2, 5, 5];
  const w1 = b.param('conv.weight', [3, 2, 3, 3], -0.5, 0.5);
  const b1 = b.param('conv.bias', [3], -0.1, 0.1);
  const w2 = b.param('fc.weight', [6, 27], -0.3, 0.3);
  const b2 = b.param('fc.bias', [6], -0.1, 0.1);
  b.node('Conv', ['input', 'conv.weight', 'conv.bias'], ['c'], { kernel_shape: [3, 3] }, '/conv/Conv');
  b.node('Relu', ['c'], ['r'], undefined, '/relu/Relu');
  b.node('Shape', ['r'], ['s'], undefined, '/Shape');
  b.node('Constant', [], ['i0'], { value: { tensor: { dims: [], data: BigInt64Array.of(0n) } } }, '/Constant');
  b.node('Gather', ['s', 'i0'], ['g'], { axis: 0 }, '/Gather');
  if (opset < 13) {
    b.node('Unsqueeze', ['g'], ['u'], { axes: [0] }, '/Unsqueeze');
  } else {
    b.int64('unsq_axes', [0]);
    b.node('Unsqueeze', ['g', 'unsq_axes'], ['u'], undefined, '/Unsqueeze');
  }
  b.node('Constant', [], ['m1'], { value: { tensor: { dims: [1], data: BigInt64Array.of(-1n) } } }, '/Constant_1');
  b.node('Concat', ['u', 'm1'], ['shp'], { axis: 0 }, '/Concat');
  b.node('Reshape', ['r', 'shp'], ['f'], undefined, '/Reshape');
  b.node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['output'], { transB: 1 }, '/fc/Gemm');
  return {
    name: 'torch-flatten',
    bytes: encode(b, opset, inputShape, [6], 'torch-flatten'),
    inputShape,
    forward(x, batch) {
      let t: Batch = { data: x, batch, shape: inputShape };
      t = refMap(refConv(t, w1, [3, 2, 3, 3], b1), relu);
      return refGemm(refReshape(t, [27]), w2, [6, 27], b2, { transB: true }).data;
    },
  };
}

/**
 * (e) Convolution variants: grouped + strided + asymmetric pads, dilated, depthwise SAME_LOWER and
 * SAME_UPPER with an even kernel (the odd pad goes first / last), LeakyRelu, AveragePool with
 * count_include_pad, Flatten, Gemm (alpha 0.5, no bias from opset 11; a zero C before, where C is required) → 7.
 */
export function convVariantsModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 500, o.storage ?? 'raw');
  const inputShape = [4, 9, 9];
  const w1 = b.param('g.weight', [6, 2, 3, 3], -0.5, 0.5);
  const b1 = b.param('g.bias', [6], -0.1, 0.1);
  const w2 = b.param('d.weight', [4, 6, 2, 2], -0.5, 0.5);
  const w3 = b.param('dw.weight', [4, 1, 2, 2], -0.8, 0.8);
  const b3 = b.param('dw.bias', [4], -0.1, 0.1);
  const w4 = b.param('u.weight', [4, 4, 2, 2], -0.5, 0.5);
  const w5 = b.param('fc.weight', [7, 24], -0.3, 0.3);
  b.node('Conv', ['input', 'g.weight', 'g.bias'], ['c1'], { group: 2, strides: [2, 2], pads: [1, 0, 2, 1], kernel_shape: [3, 3] }, 'grouped');
  b.node('LeakyRelu', ['c1'], ['l1'], { alpha: 0.1 }, 'lrelu');
  b.node('Conv', ['l1', 'd.weight'], ['c2'], { dilations: [2, 2], pads: [1, 1, 1, 1] }, 'dilated');
  b.node('Conv', ['c2', 'dw.weight', 'dw.bias'], ['c3'], { group: 4, auto_pad: 'SAME_LOWER' }, 'depthwise');
  b.node('Conv', ['c3', 'u.weight'], ['c4'], { auto_pad: 'SAME_UPPER' }, 'upper');
  b.node('LeakyRelu', ['c4'], ['l4'], undefined, 'lrelu_default');
  b.node('AveragePool', ['l4'], ['p'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }, 'avgpool');
  b.node('Flatten', ['p'], ['f'], undefined, 'flatten');
  if (opset < 11) {
    b.float('fc.zero', [7], new Float32Array(7));
    b.node('Gemm', ['f', 'fc.weight', 'fc.zero'], ['output'], { transB: 1, alpha: 0.5 }, 'fc');
  } else {
    b.node('Gemm', ['f', 'fc.weight'], ['output'], { transB: 1, alpha: 0.5 }, 'fc');
  }
  return {
    name: 'conv-variants',
    bytes: encode(b, opset, inputShape, [7], 'conv-variants'),
    inputShape,
    forward(x, batch) {
      let t: Batch = { data: x, batch, shape: inputShape };
      t = refConv(t, w1, [6, 2, 3, 3], b1, { group: 2, strides: [2, 2], pads: [1, 0, 2, 1] });
      t = refMap(t, leakyRelu(Math.fround(0.1)));
      t = refConv(t, w2, [4, 6, 2, 2], null, { dilations: [2, 2], pads: [1, 1, 1, 1] });
      const [h3, w3p] = [samePads(t.shape[1], 2, 1, 1, false), samePads(t.shape[2], 2, 1, 1, false)];
      t = refConv(t, w3, [4, 1, 2, 2], b3, { group: 4, pads: [h3[0], w3p[0], h3[1], w3p[1]] });
      const [h4, w4p] = [samePads(t.shape[1], 2, 1, 1, true), samePads(t.shape[2], 2, 1, 1, true)];
      t = refConv(t, w4, [4, 4, 2, 2], null, { pads: [h4[0], w4p[0], h4[1], w4p[1]] });
      t = refMap(t, leakyRelu(Math.fround(0.01)));
      t = refPool(t, 'avg', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true });
      t = refReshape(t, [size(t.shape)]);
      return refGemm(t, w5, [7, 24], null, { transB: true, alpha: 0.5 }).data;
    },
  };
}

/**
 * (f) Pooling and activations: MaxPool (pads, ceil_mode adds a row), AveragePool (ceil_mode: the last
 * window overhangs the input and averages only what it covers; opset 9 spells both with end pads), Clip (attributes before opset 11, inputs after), Sigmoid, Transpose, Tanh, Flatten,
 * MatMul + Add → 4.
 */
export function poolingModel(o: ModelOptions = {}): TestModel {
  const opset = o.opset ?? 13;
  const b = new Builder(o.seed ?? 600, o.storage ?? 'raw');
  const inputShape = [3, 10, 10];
  const w = b.param('fc.weight', [27, 4], -0.4, 0.4);
  const bias = b.param('fc.bias', [4], -0.1, 0.1);
  if (opset < 10) {
    // ceil_mode arrived in opset 10: the same windows come from extra end padding, which neither a
    // max nor an average that leaves padding out can see.
    b.node('MaxPool', ['input'], ['m'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 2, 2] }, 'maxpool');
    b.node('AveragePool', ['m'], ['a'], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] }, 'avgpool');
  } else {
    b.node('MaxPool', ['input'], ['m'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, 'maxpool');
    b.node('AveragePool', ['m'], ['a'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, 'avgpool');
  }
  if (opset < 11) {
    b.node('Clip', ['a'], ['c'], { min: -0.5, max: 0.75 }, 'clip');
  } else {
    b.float('clip.min', [], Float32Array.of(-0.5));
    b.float('clip.max', [], Float32Array.of(0.75));
    b.node('Clip', ['a', 'clip.min', 'clip.max'], ['c'], undefined, 'clip');
  }
  b.node('Sigmoid', ['c'], ['s'], undefined, 'sigmoid');
  b.node('Transpose', ['s'], ['t'], { perm: [0, 1, 3, 2] }, 'transpose');
  b.node('Tanh', ['t'], ['th'], undefined, 'tanh');
  b.node('Flatten', ['th'], ['f'], undefined, 'flatten');
  b.node('MatMul', ['f', 'fc.weight'], ['mm'], undefined, 'fc.matmul');
  b.node('Add', ['mm', 'fc.bias'], ['output'], undefined, 'fc.add');
  return {
    name: 'pooling',
    bytes: encode(b, opset, inputShape, [4], 'pooling'),
    inputShape,
    forward(x, batch) {
      let t: Batch = { data: x, batch, shape: inputShape };
      t = refPool(t, 'max', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true });
      t = refPool(t, 'avg', { kernel: [3, 3], strides: [2, 2], ceilMode: true });
      t = refMap(t, clip(-0.5, 0.75));
      t = refMap(t, sigmoid);
      t = refSwapLast2(t);
      t = refMap(t, Math.tanh);
      t = refReshape(t, [size(t.shape)]);
      return refGemm(t, w, [27, 4], bias).data;
    },
  };
}

/** Every test model at one opset and storage. */
export function allTestModels(o: ModelOptions = {}): TestModel[] {
  return [convBnModel(o), residualModel(o), mlpModel(o), torchFlattenModel(o), convVariantsModel(o), poolingModel(o)];
}

/** A seeded input batch for a model. */
export function testInput(m: TestModel, batch: number, seed = 1): Float32Array {
  return randomArray(batch * size(m.inputShape), seed, -1, 1);
}
