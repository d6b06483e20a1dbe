// Layers with hand-written forward and backward passes on batches of row-major f32 samples.
// Each layer owns its output and gradient buffers (reused across batches), so a forward's result is
// valid until that layer's next forward.
import type { Prng } from '../../src/io/datasets/prng.ts';
import { col2im, convGeometry, im2col, matmulNN, matmulNT, matmulTN } from './ops.ts';
import type { ConvGeometry } from './ops.ts';

/** A trainable tensor and its gradient (same shape, row-major). */
export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  grad: Float32Array;
}

/** Which ONNX op family a layer exports to. */
export type LayerKind = 'dense' | 'conv' | 'relu' | 'maxpool' | 'avgpool' | 'flatten';

/** A batch-at-a-time layer; shapes exclude the batch dimension. */
export interface Layer {
  readonly kind: LayerKind;
  readonly params: readonly Param[];
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** y = f(x) for `batch` samples; `train` keeps what backward needs for the whole batch. */
  forward(x: Float32Array, batch: number, train: boolean): Float32Array;
  /** Sets the param gradients from dL/dy of the last training forward; returns dL/dx when asked. */
  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A buffer of at least `n` floats, reusing `buf` when it is big enough (callers return exact-length views). */
function grow(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(n);
}

function param(name: string, shape: number[]): Param {
  const n = size(shape);
  return { name, shape, data: new Float32Array(n), grad: new Float32Array(n) };
}

/** PyTorch's default init for Linear/Conv (kaiming_uniform with a=√5): U(±1/√fan_in) for W and b. */
function initUniform(p: Param, fanIn: number, rng: Prng): void {
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < p.data.length; i++) p.data[i] = (2 * rng.uniform() - 1) * bound;
}

/** Fully connected: y = x·Wᵀ + b with W `[out, in]` (ONNX Gemm transB=1 layout). */
export class Dense implements Layer {
  readonly kind = 'dense';
  readonly params: readonly Param[];
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly weight: Param;
  readonly bias: Param;
  private x: Float32Array = new Float32Array(0);
  private y: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  /** A dense layer `in → out`, initialized from `rng`. */
  constructor(readonly inputs: number, readonly outputs: number, rng: Prng, name = 'fc') {
    this.weight = param(`${name}.weight`, [outputs, inputs]);
    this.bias = param(`${name}.bias`, [outputs]);
    initUniform(this.weight, inputs, rng);
    initUniform(this.bias, inputs, rng);
    this.params = [this.weight, this.bias];
    this.inShape = [inputs];
    this.outShape = [outputs];
  }

  forward(x: Float32Array, batch: number, _train: boolean): Float32Array {
    const { inputs: k, outputs: n } = this;
    this.x = x;
    this.y = grow(this.y, batch * n);
    const y = this.y;
    matmulNT(x, this.weight.data, y, batch, n, k);
    const b = this.bias.data;
    for (let i = 0; i < batch; i++) for (let j = 0; j < n; j++) y[i * n + j] += b[j];
    return y.subarray(0, batch * n);
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    const { inputs: k, outputs: n } = this;
    matmulTN(dy, this.x, this.weight.grad, n, k, batch);
    const db = this.bias.grad;
    db.fill(0);
    for (let i = 0; i < batch; i++) for (let j = 0; j < n; j++) db[j] += dy[i * n + j];
    if (!needDx) return null;
    this.dx = grow(this.dx, batch * k);
    matmulNN(dy, this.weight.data, this.dx, batch, k, n);
    return this.dx.subarray(0, batch * k);
  }
}

/** Stride-1 k×k convolution with zero padding, as im2col + GEMM; W `[cout, cin, k, k]`. */
export class Conv2d implements Layer {
  readonly kind = 'conv';
  readonly params: readonly Param[];
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly weight: Param;
  readonly bias: Param;
  readonly geometry: ConvGeometry;
  private cols: Float32Array = new Float32Array(0);
  private dcol: Float32Array = new Float32Array(0);
  private y: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  /** A conv `[cin,h,w] → [cout,oh,ow]`, initialized from `rng`. */
  constructor(cin: number, h: number, w: number, readonly cout: number, k: number, pad: number, rng: Prng, name = 'conv') {
    this.geometry = convGeometry(cin, h, w, k, pad);
    this.weight = param(`${name}.weight`, [cout, cin, k, k]);
    this.bias = param(`${name}.bias`, [cout]);
    initUniform(this.weight, cin * k * k, rng);
    initUniform(this.bias, cin * k * k, rng);
    this.params = [this.weight, this.bias];
    this.inShape = [cin, h, w];
    this.outShape = [cout, this.geometry.oh, this.geometry.ow];
  }

  forward(x: Float32Array, batch: number, train: boolean): Float32Array {
    const g = this.geometry;
    const kk = g.cin * g.k * g.k;
    const p = g.oh * g.ow;
    const inSize = g.cin * g.h * g.w;
    const outSize = this.cout * p;
    // Training keeps every sample's columns for the weight gradient; inference reuses one.
    this.cols = grow(this.cols, (train ? batch : 1) * kk * p);
    this.y = grow(this.y, batch * outSize);
    const { cols, y } = this;
    const w = this.weight.data;
    const b = this.bias.data;
    for (let s = 0; s < batch; s++) {
      const colOff = train ? s * kk * p : 0;
      im2col(x, s * inSize, g, cols, colOff);
      const ys = y.subarray(s * outSize, (s + 1) * outSize);
      matmulNN(w, cols.subarray(colOff, colOff + kk * p), ys, this.cout, p, kk);
      for (let o = 0; o < this.cout; o++) {
        const bo = b[o];
        for (let i = o * p; i < (o + 1) * p; i++) ys[i] += bo;
      }
    }
    return y.subarray(0, batch * outSize);
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    const g = this.geometry;
    const kk = g.cin * g.k * g.k;
    const p = g.oh * g.ow;
    const inSize = g.cin * g.h * g.w;
    const outSize = this.cout * p;
    const dw = this.weight.grad;
    const db = this.bias.grad;
    dw.fill(0);
    db.fill(0);
    if (needDx) {
      this.dx = grow(this.dx, batch * inSize);
      this.dx.fill(0, 0, batch * inSize);
      this.dcol = grow(this.dcol, kk * p);
    }
    for (let s = 0; s < batch; s++) {
      const dys = dy.subarray(s * outSize, (s + 1) * outSize);
      const col = this.cols.subarray(s * kk * p, (s + 1) * kk * p);
      matmulNT(dys, col, dw, this.cout, kk, p, true);
      for (let o = 0; o < this.cout; o++) {
        let t = 0;
        for (let i = o * p; i < (o + 1) * p; i++) t += dys[i];
        db[o] += t;
      }
      if (needDx) {
        matmulTN(this.weight.data, dys, this.dcol, kk, p, this.cout);
        col2im(this.dcol, 0, g, this.dx, s * inSize);
      }
    }
    return needDx ? this.dx.subarray(0, batch * inSize) : null;
  }
}

/** Elementwise max(0, x). */
export class Relu implements Layer {
  readonly kind = 'relu';
  readonly params: readonly Param[] = [];
  readonly outShape: readonly number[];
  private y: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  /** A ReLU over samples of `shape`. */
  constructor(readonly inShape: readonly number[]) {
    this.outShape = inShape;
  }

  forward(x: Float32Array, batch: number, _train: boolean): Float32Array {
    const n = batch * size(this.inShape);
    this.y = grow(this.y, n);
    const y = this.y;
    for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
    return y.subarray(0, n);
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    const n = batch * size(this.inShape);
    this.dx = grow(this.dx, n);
    const { y, dx } = this;
    for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
    return dx.subarray(0, n);
  }
}

/** Non-overlapping k×k pooling (stride k, no padding, floor), max or average. */
export class Pool2d implements Layer {
  readonly params: readonly Param[] = [];
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  private y: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private arg: Int32Array = new Int32Array(0);

  /** A pool over `[c,h,w]` samples. */
  constructor(readonly kind: 'maxpool' | 'avgpool', c: number, h: number, w: number, readonly k = 2) {
    if (h < k || w < k) throw new RangeError(`pool ${k}x${k} does not fit ${h}x${w}`);
    this.inShape = [c, h, w];
    this.outShape = [c, Math.floor(h / k), Math.floor(w / k)];
  }

  forward(x: Float32Array, batch: number, _train: boolean): Float32Array {
    const [c, h, w] = this.inShape;
    const [, oh, ow] = this.outShape;
    const k = this.k;
    const n = batch * c * oh * ow;
    this.y = grow(this.y, n);
    const y = this.y;
    const isMax = this.kind === 'maxpool';
    if (isMax && this.arg.length < n) this.arg = new Int32Array(n);
    const arg = this.arg;
    const inv = 1 / (k * k);
    let o = 0;
    for (let plane = 0; plane < batch * c; plane++) {
      const base = plane * h * w;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o++) {
          const start = base + oy * k * w + ox * k;
          if (isMax) {
            let best = start;
            for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) if (x[start + dy * w + dx] > x[best]) best = start + dy * w + dx;
            y[o] = x[best];
            arg[o] = best;
          } else {
            let s = 0;
            for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += x[start + dy * w + dx];
            y[o] = s * inv;
          }
        }
      }
    }
    return y.subarray(0, n);
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    const [c, h, w] = this.inShape;
    const [, oh, ow] = this.outShape;
    const k = this.k;
    const nIn = batch * c * h * w;
    const nOut = batch * c * oh * ow;
    this.dx = grow(this.dx, nIn);
    const dx = this.dx;
    dx.fill(0, 0, nIn);
    if (this.kind === 'maxpool') {
      for (let o = 0; o < nOut; o++) dx[this.arg[o]] += dy[o];
    } else {
      const inv = 1 / (k * k);
      let o = 0;
      for (let plane = 0; plane < batch * c; plane++) {
        const base = plane * h * w;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++, o++) {
            const start = base + oy * k * w + ox * k;
            const g = dy[o] * inv;
            for (let ddy = 0; ddy < k; ddy++) for (let ddx = 0; ddx < k; ddx++) dx[start + ddy * w + ddx] += g;
          }
        }
      }
    }
    return dx.subarray(0, nIn);
  }
}

/** `[c,h,w] → [c·h·w]`: row-major data is unchanged (ONNX Flatten, axis 1). */
export class Flatten implements Layer {
  readonly kind = 'flatten';
  readonly params: readonly Param[] = [];
  readonly outShape: readonly number[];

  /** A flatten of `shape` samples. */
  constructor(readonly inShape: readonly number[]) {
    this.outShape = [size(inShape)];
  }

  forward(x: Float32Array, _batch: number, _train: boolean): Float32Array {
    return x;
  }

  backward(dy: Float32Array, _batch: number, needDx: boolean): Float32Array | null {
    return needDx ? dy : null;
  }
}
