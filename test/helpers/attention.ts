/**
 * ONNX Attention (opset 23/24) test cases and the operator's definition written out in f64, loop by
 * loop, from the spec and its reference (onnx/reference/ops/op_attention.py), shared by the CPU and
 * WebGPU tests. Q, K and V come from crossbar projections of the input, run digitally.
 */
import { expect } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel, type AttrValue, type BuildNode, type BuildTensor, type BuildValue } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { randomArray } from './random.ts';

const B = 2;
const E = 6;

/** One Attention configuration: shapes, attributes and optional inputs. */
export interface Case {
  rank: 3 | 4;
  /** Tokens of the input; K and V read all of them, Q the first `sq`. */
  s: number;
  sq: number;
  hq: number;
  hkv: number;
  d: number;
  dv: number;
  /** Past cache length (graph inputs past_key, past_value). */
  past?: number;
  causal?: boolean;
  scale?: number;
  softcap?: number;
  /** 'const-bool': a [sq, keys] boolean initializer one key short (padded with false); 'data-float': a [batch, 1, sq, T] input. */
  mask?: 'const-bool' | 'const-float' | 'data-float' | 'data-bool';
  /** Valid keys per sample (opset 24), from a graph input. */
  nonpad?: boolean;
  mode?: number;
  /** Which outputs to read: 0 Y, 1 present_key, 2 present_value, 3 qk_matmul_output. */
  outputs?: number[];
}

const total = (c: Case): number => (c.past ?? 0) + c.s;

/** Deterministic weights and the pieces of a sample's input. */
function weights(c: Case) {
  return {
    wq: randomArray(E * c.hq * c.d, 11, -0.8, 0.8),
    wk: randomArray(E * c.hkv * c.d, 12, -0.8, 0.8),
    wv: randomArray(E * c.hkv * c.dv, 13, -1, 1),
    constMask: Float32Array.from(randomArray(c.sq * (total(c) - 1), 14), (v, i) => (v > -0.4 || i % (total(c) - 1) === 0 ? 1 : 0)),
    constFloat: randomArray(c.sq * total(c), 15, -2, 2),
  };
}

/** Per-sample input widths in graph order. */
function inputsOf(c: Case): BuildValue[] {
  const ins: BuildValue[] = [{ name: 'x', dims: ['batch', c.s, E] }];
  if (c.past) ins.push({ name: 'past_key', dims: ['batch', c.hkv, c.past, c.d] }, { name: 'past_value', dims: ['batch', c.hkv, c.past, c.dv] });
  if (c.mask === 'data-float' || c.mask === 'data-bool') ins.push({ name: 'mask_in', dims: ['batch', 1, c.sq, total(c)] });
  if (c.nonpad) ins.push({ name: 'nonpad_in', dims: ['batch'] });
  return ins;
}

/** The model: input x [batch, s, E], crossbar projections to Q, K and V, and one Attention node. */
export function attentionModel(c: Case, opset = c.nonpad ? 24 : 23): Uint8Array {
  const w = weights(c);
  const f = (name: string, dims: number[], data: Float32Array): BuildTensor => ({ name, dims, data });
  const i64 = (name: string, data: number[]): BuildTensor => ({ name, dims: [data.length], data: BigInt64Array.from(data.map(BigInt)) });
  const init: BuildTensor[] = [f('wq', [E, c.hq * c.d], w.wq), f('wk', [E, c.hkv * c.d], w.wk), f('wv', [E, c.hkv * c.dv], w.wv), i64('zero', [0]), i64('sq', [c.sq]), i64('one', [1])];
  const nodes: BuildNode[] = [
    { op: 'Slice', inputs: ['x', 'zero', 'sq', 'one'], outputs: ['xq'] },
    { op: 'MatMul', inputs: ['xq', 'wq'], outputs: ['q3'] },
    { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k3'] },
    { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v3'] },
  ];
  let [q, k, v] = ['q3', 'k3', 'v3'];
  if (c.rank === 4) {
    const split = (x: string, h: number, dh: number): string => {
      init.push(i64(`${x}_shape`, [0, 0, h, dh]));
      nodes.push({ op: 'Reshape', inputs: [x, `${x}_shape`], outputs: [`${x}_r`] }, { op: 'Transpose', inputs: [`${x}_r`], outputs: [`${x}_4`], attrs: { perm: [0, 2, 1, 3] } });
      return `${x}_4`;
    };
    [q, k, v] = [split(q, c.hq, c.d), split(k, c.hkv, c.d), split(v, c.hkv, c.dv)];
  }
  let mask = '';
  if (c.mask === 'const-bool') {
    init.push({ name: 'mask', dims: [c.sq, total(c) - 1], data: Uint8Array.from(w.constMask), raw: true });
    mask = 'mask';
  } else if (c.mask === 'const-float') {
    init.push(f('mask', [c.sq, total(c)], w.constFloat));
    mask = 'mask';
  } else if (c.mask === 'data-float') {
    mask = 'mask_in';
  } else if (c.mask === 'data-bool') {
    init.push(f('half', [], Float32Array.of(0)));
    nodes.push({ op: 'Greater', inputs: ['mask_in', 'half'], outputs: ['mask_bool'] });
    mask = 'mask_bool';
  }
  let nonpad = '';
  if (c.nonpad) {
    nodes.push({ op: 'Cast', inputs: ['nonpad_in'], outputs: ['nonpad'], attrs: { to: 7 } });
    nonpad = 'nonpad';
  }
  const attrs: Record<string, AttrValue> = {};
  if (c.rank === 3) Object.assign(attrs, { q_num_heads: c.hq, kv_num_heads: c.hkv });
  if (c.causal) attrs.is_causal = 1;
  if (c.scale !== undefined) attrs.scale = c.scale;
  if (c.softcap !== undefined) attrs.softcap = c.softcap;
  if (c.mode !== undefined) attrs.qk_matmul_output_mode = c.mode;
  const outs = ['y', 'present_key', 'present_value', 'qk'];
  const wanted = c.outputs ?? [0];
  const last = Math.max(...wanted);
  const ins = [q, k, v, mask, c.past ? 'past_key' : '', c.past ? 'past_value' : '', nonpad];
  while (ins.length > 3 && !ins[ins.length - 1]) ins.pop();
  nodes.push({ op: 'Attention', inputs: ins, outputs: outs.slice(0, last + 1).map((o, i) => (wanted.includes(i) ? o : '')), attrs });
  return buildOnnxModel({ opset, inputs: inputsOf(c), outputs: wanted.map((i) => ({ name: outs[i], dims: ['batch'] })), initializers: init, nodes });
}

/** The definition, for one sample: every requested output flattened in ONNX order. */
function reference(c: Case, sample: Float32Array[]): number[][] {
  const w = weights(c);
  const [x] = sample;
  let at = 1;
  const pastK = c.past ? sample[at++] : null;
  const pastV = c.past ? sample[at++] : null;
  const maskIn = c.mask === 'data-float' || c.mask === 'data-bool' ? sample[at++] : null;
  const nonpad = c.nonpad ? Math.trunc(sample[at++][0]) : null;
  const T = total(c);
  const P = c.past ?? 0;
  const proj = (rows: number, wt: Float32Array, n: number) => Array.from({ length: rows }, (_, t) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let e = 0; e < E; e++) s += x[t * E + e] * wt[e * n + j];
    return s;
  }));
  const qf = proj(c.sq, w.wq, c.hq * c.d);
  const kf = proj(c.s, w.wk, c.hkv * c.d);
  const vf = proj(c.s, w.wv, c.hkv * c.dv);
  // K[g][j][i] and V[g][j][i] over all T keys, the past first.
  const K = Array.from({ length: c.hkv }, (_, g) => Array.from({ length: T }, (_, j) => Array.from({ length: c.d }, (_, i) => (j < P ? pastK![(g * P + j) * c.d + i] : kf[j - P][g * c.d + i]))));
  const V = Array.from({ length: c.hkv }, (_, g) => Array.from({ length: T }, (_, j) => Array.from({ length: c.dv }, (_, i) => (j < P ? pastV![(g * P + j) * c.dv + i] : vf[j - P][g * c.dv + i]))));
  const scale = c.scale ?? 1 / Math.sqrt(c.d);
  const rep = c.hq / c.hkv;
  const y: number[][][] = [];
  const qkOut: number[][][] = [];
  for (let h = 0; h < c.hq; h++) {
    const g = Math.floor(h / rep);
    y.push([]);
    qkOut.push([]);
    for (let i = 0; i < c.sq; i++) {
      const raw: number[] = [];
      const capped: number[] = [];
      const scores: number[] = [];
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let t = 0; t < c.d; t++) s += qf[i][h * c.d + t] * K[g][j][t];
        s *= scale;
        raw.push(s);
        const sc = c.softcap ? c.softcap * Math.tanh(s / c.softcap) : s;
        capped.push(sc);
        let bias = 0;
        if (c.mask === 'const-bool') bias += j < T - 1 && w.constMask[i * (T - 1) + j] ? 0 : -Infinity;
        if (c.mask === 'const-float') bias += w.constFloat[i * T + j];
        if (c.mask === 'data-float') bias += maskIn![i * T + j];
        if (c.mask === 'data-bool') bias += maskIn![i * T + j] > 0 ? 0 : -Infinity;
        if (nonpad !== null && j >= nonpad) bias = -Infinity;
        if (c.causal) {
          const limit = nonpad !== null && !c.past ? i + nonpad - c.sq : i + P;
          if (j > limit) bias = -Infinity;
        }
        scores.push(sc + bias);
      }
      const m = Math.max(...scores);
      const ex = scores.map((s) => Math.exp(s - m));
      const sum = ex.reduce((a, b) => a + b, 0);
      const p = ex.map((e) => e / sum);
      y[h].push(Array.from({ length: c.dv }, (_, t) => p.reduce((a, pj, j) => a + pj * V[g][j][t], 0)));
      qkOut[h].push([raw, scores, capped, p][c.mode ?? 0]);
    }
  }
  const flatY = c.rank === 3 ? Array.from({ length: c.sq }, (_, i) => y.flatMap((yh) => yh[i])).flat() : y.flat(2);
  const present = (M: number[][][]) => M.flat(2);
  return (c.outputs ?? [0]).map((o) => [flatY, present(K), present(V), qkOut.flat(2)][o]);
}

/** Random per-sample inputs for a case (masks with some keys off, lengths in [sq, T]). */
function sampleInputs(c: Case, b: number): Float32Array[] {
  const parts = [randomArray(c.s * E, 100 + b, -1.5, 1.5)];
  if (c.past) parts.push(randomArray(c.hkv * c.past * c.d, 110 + b), randomArray(c.hkv * c.past * c.dv, 120 + b));
  if (c.mask === 'data-float') parts.push(randomArray(c.sq * total(c), 130 + b, -3, 1));
  if (c.mask === 'data-bool') parts.push(Float32Array.from(randomArray(c.sq * total(c), 140 + b), (v, i) => (i % total(c) === 0 ? 1 : v)));
  if (c.nonpad) parts.push(Float32Array.of(total(c) - b));
  return parts;
}

/** Runs the case on `backend` (digital) for a batch of 2 and compares every output with the definition. */
export async function checkAttention(backend: Backend, c: Case, tol = 2e-5): Promise<void> {
  const samples = Array.from({ length: B }, (_, b) => sampleInputs(c, b));
  const per = samples[0].reduce((a, p) => a + p.length, 0);
  const x = new Float32Array(B * per);
  samples.forEach((parts, b) => {
    let o = b * per;
    for (const p of parts) {
      x.set(p, o);
      o += p.length;
    }
  });
  const got = await digitalForward(backend, attentionModel(c), 'attention.onnx', x, B);
  const outPer = got.length / B;
  for (let b = 0; b < B; b++) {
    const want = reference(c, samples[b]).flat();
    expect(want.length).toBe(outPer);
    for (let i = 0; i < outPer; i++) {
      const g = got[b * outPer + i];
      const wv = want[i];
      if (wv === -Infinity) expect(g).toBeLessThan(-1e38);
      else expect(Math.abs(g - wv)).toBeLessThan(tol * Math.max(1, Math.abs(wv)));
    }
  }
}

/** The default shapes: 5 tokens, 2 heads of size 3, values of size 2. */
export const base = { s: 5, sq: 5, hq: 2, hkv: 2, d: 3, dv: 2 } as const;

