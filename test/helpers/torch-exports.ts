/**
 * ONNX graphs written the way torch.onnx.export writes them with dynamic_axes={'input': {0: 'batch'}}
 * (opset 17): shapes computed through Shape/Gather/Unsqueeze/Concat from the batch, `expand(B, -1, -1)`
 * as Where(Equal(shape, -1), 1, shape), flatten(2) through Slice, timm's attention (reshape to
 * [B, N, 3, heads, d], permute(2, 0, 3, 1, 4), unbind(0) as Split + Squeeze), GELU through Erf, and the
 * class token picked by Gather. With each, a plain per-sample forward written from the math (no IR)
 * as the oracle.
 */
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { AttrValue, BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { erfRef } from '../../src/reference/ops.ts';
import { randomArray } from './random.ts';

/** A ViT-style classifier on [3, 8, 8]: 4x4 patches, dim 8, 2 heads, one block, 10 classes. */
export interface TorchModel {
  bytes: Uint8Array;
  inputShape: number[];
  /** One sample's output. */
  forward(x: Float32Array): Float32Array;
}

class Graph {
  nodes: BuildNode[] = [];
  inits: BuildTensor[] = [];
  private seed = 500;
  private k = 0;
  param(name: string, dims: number[], scale = 0.5): Float32Array {
    const data = randomArray(dims.reduce((a, b) => a * b, 1), this.seed++, -scale, scale);
    this.inits.push({ name, dims, data });
    return data;
  }
  ints(name: string, values: number[]): string {
    this.inits.push({ name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return name;
  }
  scalar(name: string, v: number): string {
    this.inits.push({ name, dims: [], data: Float32Array.of(v) });
    return name;
  }
  /** A scalar int64 (torch's Gather index for x[:, i] and x.size(i)). */
  index(v: number): string {
    const name = `index${this.k++}`;
    this.inits.push({ name, dims: [], data: BigInt64Array.of(BigInt(v)) });
    return name;
  }
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => `/${op}_${this.k}_out${this.k++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs, name: `/${op}_${this.nodes.length}` });
    return outs;
  }
  one(op: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    return this.op(op, inputs, attrs)[0];
  }
  /** `x.size(i)` as torch exports it: Shape → Gather(i) → Unsqueeze, a 1-element int64 tensor. */
  dim(x: string, i: number): string {
    const s = this.one('Shape', [x]);
    return this.one('Unsqueeze', [this.one('Gather', [s, this.index(i)], { axis: 0 }), this.ints(`ax${this.k++}`, [0])]);
  }
}

const C = 8;
const H = 2;
const D = C / H;
const P = 4;
const N = 5;

export function vitModel(): TorchModel {
  const g = new Graph();
  const wPatch = g.param('patch.weight', [C, 3, P, P], 0.3);
  const bPatch = g.param('patch.bias', [C], 0.1);
  const cls = g.param('cls_token', [1, 1, C]);
  const pos = g.param('pos_embed', [1, N, C], 0.2);
  const ln1 = [g.param('ln1.weight', [C], 1), g.param('ln1.bias', [C], 0.1)];
  const wqkv = g.param('qkv.weight', [C, 3 * C], 0.4);
  const bqkv = g.param('qkv.bias', [3 * C], 0.1);
  const wproj = g.param('proj.weight', [C, C], 0.4);
  const bproj = g.param('proj.bias', [C], 0.1);
  const ln2 = [g.param('ln2.weight', [C], 1), g.param('ln2.bias', [C], 0.1)];
  const w1 = g.param('fc1.weight', [C, 2 * C], 0.4);
  const b1 = g.param('fc1.bias', [2 * C], 0.1);
  const w2 = g.param('fc2.weight', [2 * C, C], 0.4);
  const b2 = g.param('fc2.bias', [C], 0.1);
  const wh = g.param('head.weight', [10, C], 0.5);
  const bh = g.param('head.bias', [10], 0.1);

  // Patch embedding, then flatten(2).transpose(1, 2).
  const conv = g.one('Conv', ['input', 'patch.weight', 'patch.bias'], { kernel_shape: [P, P], strides: [P, P] });
  const lead = g.one('Slice', [g.one('Shape', [conv]), g.ints('s0', [0]), g.ints('s2', [2]), g.ints('sax', [0])]);
  const flat = g.one('Reshape', [conv, g.one('Concat', [lead, g.ints('m1', [-1])], { axis: 0 })]);
  const tokens = g.one('Transpose', [flat], { perm: [0, 2, 1] });
  // cls_token.expand(B, -1, -1): torch writes the -1s through Where(Equal(shape, -1), 1, shape).
  const want = g.one('Concat', [g.dim('input', 0), g.ints('neg1a', [-1]), g.ints('neg1b', [-1])], { axis: 0 });
  const size = g.one('Where', [g.one('Equal', [want, g.ints('minus1', [-1])]), g.ints('ones3', [1, 1, 1]), want]);
  const clsB = g.one('Expand', ['cls_token', size]);
  const x0 = g.one('Add', [g.one('Concat', [clsB, tokens], { axis: 1 }), 'pos_embed']);

  const ln = (x: string, w: string, b: string) => g.one('LayerNormalization', [x, w, b], { axis: -1, epsilon: 1e-6 });
  // timm Attention: qkv(x).reshape(B, N, 3, heads, d).permute(2, 0, 3, 1, 4).unbind(0)
  const h1 = ln(x0, 'ln1.weight', 'ln1.bias');
  const qkv = g.one('Add', [g.one('MatMul', [h1, 'qkv.weight']), 'qkv.bias']);
  const shape5 = g.one('Concat', [g.dim(h1, 0), g.dim(h1, 1), g.ints('three', [3]), g.ints('heads', [H]), g.ints('hd', [D])], { axis: 0 });
  const perm = g.one('Transpose', [g.one('Reshape', [qkv, shape5])], { perm: [2, 0, 3, 1, 4] });
  const [qs, ks, vs] = g.op('Split', [perm, g.ints('split', [1, 1, 1])], { axis: 0 }, 3);
  const [q, k, v] = [qs, ks, vs].map((t) => g.one('Squeeze', [t, g.ints(`sq${g.nodes.length}`, [0])]));
  const scores = g.one('Mul', [g.one('MatMul', [q, g.one('Transpose', [k], { perm: [0, 1, 3, 2] })]), g.scalar('scale', 1 / Math.sqrt(D))]);
  const ctx = g.one('MatMul', [g.one('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.one('Reshape', [g.one('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.one('Concat', [g.dim(h1, 0), g.dim(h1, 1), g.ints('c', [C])], { axis: 0 })]);
  const x1 = g.one('Add', [x0, g.one('Add', [g.one('MatMul', [merged, 'proj.weight']), 'proj.bias'])]);
  // MLP with GELU as torch exports it before opset 20: x * 0.5 * (1 + erf(x / sqrt 2)).
  const f1 = g.one('Add', [g.one('MatMul', [ln(x1, 'ln2.weight', 'ln2.bias'), 'fc1.weight']), 'fc1.bias']);
  const gelu = g.one('Mul', [g.one('Mul', [f1, g.one('Add', [g.one('Erf', [g.one('Div', [f1, g.scalar('sqrt2', Math.SQRT2)])]), g.scalar('one', 1)])]), g.scalar('half', 0.5)]);
  const x2 = g.one('Add', [x1, g.one('Add', [g.one('MatMul', [gelu, 'fc2.weight']), 'fc2.bias'])]);
  const clsOut = g.one('Gather', [x2, g.index(0)], { axis: 1 });
  g.nodes.push({ op: 'Gemm', inputs: [clsOut, 'head.weight', 'head.bias'], outputs: ['output'], attrs: { transB: 1 }, name: '/head/Gemm' });

  const bytes = buildOnnxModel({
    opset: 17,
    inputs: [{ name: 'input', dims: ['batch', 3, 8, 8] }],
    outputs: [{ name: 'output', dims: ['batch', 10] }],
    initializers: g.inits,
    nodes: g.nodes,
  });

  const forward = (x: Float32Array): Float32Array => {
    // Patch embedding: token t (row-major over the 2x2 patch grid) after the class token.
    const tok: Float64Array[] = [Float64Array.from(cls)];
    for (let py = 0; py < 2; py++) for (let px = 0; px < 2; px++) {
      const e = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        let acc = bPatch[c];
        for (let ci = 0; ci < 3; ci++) for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) acc += wPatch[((c * 3 + ci) * P + i) * P + j] * x[(ci * 8 + py * P + i) * 8 + px * P + j];
        e[c] = acc;
      }
      tok.push(e);
    }
    let xs = tok.map((t, n) => t.map((v, c) => v + pos[n * C + c]));
    const lnorm = (t: Float64Array, w: Float32Array, b: Float32Array): Float64Array => {
      const m = t.reduce((a, v) => a + v, 0) / t.length;
      const s = t.reduce((a, v) => a + (v - m) ** 2, 0) / t.length;
      return t.map((v, i) => ((v - m) / Math.sqrt(s + 1e-6)) * w[i] + b[i]);
    };
    const dense = (t: Float64Array, w: Float32Array, b: Float32Array, out: number): Float64Array =>
      Float64Array.from({ length: out }, (_, j) => t.reduce((a, v, k) => a + v * w[k * out + j], b[j]));
    const qkvs = xs.map((t) => dense(lnorm(t, ln1[0], ln1[1]), wqkv, bqkv, 3 * C));
    const att = xs.map(() => new Float64Array(C));
    for (let hh = 0; hh < H; hh++) {
      for (let i = 0; i < N; i++) {
        const sc = Array.from({ length: N }, (_, j) => {
          let d = 0;
          for (let e = 0; e < D; e++) d += qkvs[i][hh * D + e] * qkvs[j][C + hh * D + e];
          return d / Math.sqrt(D);
        });
        const m = Math.max(...sc);
        const ex = sc.map((s) => Math.exp(s - m));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let e = 0; e < D; e++) att[i][hh * D + e] = ex.reduce((a, w, j) => a + (w / z) * qkvs[j][2 * C + hh * D + e], 0);
      }
    }
    xs = xs.map((t, i) => t.map((v, c) => v + dense(att[i], wproj, bproj, C)[c]));
    xs = xs.map((t) => {
      const f = dense(lnorm(t, ln2[0], ln2[1]), w1, b1, 2 * C).map((v) => v * 0.5 * (1 + erfRef(v / Math.SQRT2)));
      const y = dense(f, w2, b2, C);
      return t.map((v, c) => v + y[c]);
    });
    return Float32Array.from({ length: 10 }, (_, j) => xs[0].reduce((a, v, c) => a + v * wh[j * C + c], bh[j]));
  };
  return { bytes, inputShape: [3, 8, 8], forward };
}
