/**
 * ONNX Runtime's Attention, MultiHeadAttention and EmbedLayerNormalization (com.microsoft) in small
 * float models, against ONNX Runtime's CPU computation written out in f64 (multi-head softmax
 * attention, mask_filter_value added to padded keys, the causal future at −∞): shared by the CPU and
 * WebGPU tests. Masks and token ids come from the input itself, so each model has one input.
 */
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { contribNode, f32, floats, i64, xyModel } from './onnx-nodes.ts';
import { roundHalfEven } from '../../src/crossbar/rounding.ts';
import { dynamicDef, dynamicInput, ints, type QCase } from './quantized-ops.ts';
import { randomArray, rng } from './random.ts';

const ms = contribNode;
const model = xyModel;
const weights = (rows: number, cols: number, seed: number): number[] => Array.from(randomArray(rows * cols, seed, -0.5, 0.5));

/** rows [R, K] · w [K, C] + b, row-major. */
function linear(x: number[], R: number, K: number, w: number[], C: number, b: number[] | null): number[] {
  const y: number[] = [];
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
    let s = b ? b[c] : 0;
    for (let k = 0; k < K; k++) s += x[r * K + k] * w[k * C + c];
    y.push(s);
  }
  return y;
}

/**
 * Multi-head attention of q [S, N·H], k [T, N·H], v [T, N·Hv] (token-major, head n at columns
 * n·H … (n + 1)·H): scale·q·kᵀ + bias(i, j), softmax over j, heads merged to [S, N·Hv].
 */
function mha(q: number[], k: number[], v: number[], S: number, T: number, N: number, H: number, Hv: number, scale: number, bias: (i: number, j: number) => number): number[] {
  const out = new Array<number>(S * N * Hv).fill(0);
  for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) {
    const scores = Array.from({ length: T }, (_, j) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += q[i * N * H + n * H + h] * k[j * N * H + n * H + h];
      return s * scale + bias(i, j);
    });
    const m = Math.max(...scores);
    const ex = scores.map((s) => Math.exp(s - m));
    const sum = ex.reduce((a, b) => a + b, 0);
    for (let h = 0; h < Hv; h++) out[i * N * Hv + n * Hv + h] = ex.reduce((a, p, j) => a + (p / sum) * v[j * N * Hv + n * Hv + h], 0);
  }
  return out;
}

const causal = (on: boolean) => (i: number, j: number): number => (on && j > i ? -Infinity : 0);
const FILTER = -10000;

const floatOut = (v: number[]) => v.map((value) => ({ value }));

/**
 * B samples of [S, D] inputs whose first key is never masked (its x[0][0] > 0). A query whose every
 * allowed key is padded would have all its scores shifted by −10000, where f32 keeps only about 1e-3 of
 * them (in ONNX Runtime as here), so the f64 definition would not be a fair measure.
 */
function keyInput(S: number, D: number, seed: number) {
  return (B: number): Float32Array => {
    const x = randomArray(B * S * D, seed, -1, 1);
    for (let b = 0; b < B; b++) x[b * S * D] = Math.abs(x[b * S * D]) + 0.1;
    return x;
  };
}

/** Nodes computing a key mask from x [S, D]: keep key j where x[j][0] > 0 (as int-valued floats, [batch, S]). */
const maskNodes = (out: string): BuildNode[] => [
  { op: 'Slice', inputs: ['x', 'm0', 'm1', 'm2'], outputs: ['first'] },
  { op: 'Squeeze', inputs: ['first', 'm2'], outputs: ['firsts'] },
  { op: 'Greater', inputs: ['firsts', 'zero'], outputs: ['keepb'] },
  { op: 'Cast', inputs: ['keepb'], outputs: [out], attrs: { to: 6 } },
];
const MASK_INIT = [i64('m0', [0]), i64('m1', [1]), i64('m2', [2]), f32('zero', 0)];

/** com.microsoft.Attention on x [S, Din], packed weights and bias; with a 2-D raw mask, lengths, or none. */
function packedAttention(o: { S: number; Din: number; sizes: [number, number, number]; N: number; mask: 'none' | 'raw' | 'lengths'; causal: boolean; scale?: number; attentionBias?: boolean }): QCase {
  const { S, Din, N } = o;
  const [Dq, Dk, Dv] = o.sizes;
  const C = Dq + Dk + Dv;
  const w = weights(Din, C, 81);
  const b = weights(1, C, 83);
  const ab = o.attentionBias ? weights(N * S, S, 85) : [];
  const nodes: BuildNode[] = [];
  if (o.mask !== 'none') nodes.push(...maskNodes('mask'));
  if (o.mask === 'lengths') nodes.push({ op: 'ReduceSum', inputs: ['mask', 'm1'], outputs: ['lengths'], attrs: { keepdims: 0 } });
  const maskIn = o.mask === 'none' ? '' : o.mask === 'raw' ? 'mask' : 'lengths';
  const attrs: BuildNode['attrs'] = { num_heads: N, unidirectional: o.causal ? 1 : 0, ...(o.sizes[2] !== Dq ? { qkv_hidden_sizes: o.sizes } : {}), ...(o.scale ? { scale: o.scale } : {}) };
  nodes.push(ms('Attention', ['x', 'w', 'b', maskIn, '', o.attentionBias ? 'ab' : ''], ['y'], attrs));
  const H = Dq / N;
  return {
    model: model([S, Din], nodes, [floats('w', [Din, C], w), floats('b', [C], b), ...MASK_INIT, ...(o.attentionBias ? [floats('ab', [1, N, S, S], ab)] : [])]),
    input: keyInput(S, Din, 87),
    expect: (x) => {
      const xs = Array.from(x);
      const qkv = linear(xs, S, Din, w, C, b);
      const col = (start: number, width: number): number[] => Array.from({ length: S }, (_, r) => qkv.slice(r * C + start, r * C + start + width)).flat();
      const keep = Array.from({ length: S }, (_, j) => xs[j * Din] > 0);
      const length = keep.filter((k) => k).length;
      const padded = (j: number): boolean => (o.mask === 'raw' ? !keep[j] : o.mask === 'lengths' ? j >= length : false);
      // ONNX Runtime fills the causal future with the lowest float, whatever the padding adds; −∞ gives the same softmax.
      const bias = (i: number, j: number): number => (o.causal && j > i ? -Infinity : padded(j) ? FILTER : 0);
      const y: number[] = [];
      const heads = Array.from({ length: N }, (_, n) => mha(col(n * H, H), col(Dq + n * H, H), col(Dq + Dk + n * (Dv / N), Dv / N), S, S, 1, H, Dv / N, o.scale ?? 1 / Math.sqrt(H), (i, j) => bias(i, j) + (o.attentionBias ? ab[(n * S + i) * S + j] : 0)));
      for (let i = 0; i < S; i++) for (let n = 0; n < N; n++) y.push(...heads[n].slice(i * (Dv / N), (i + 1) * (Dv / N)));
      return floatOut(y);
    },
  };
}

/** com.microsoft.MultiHeadAttention of projections of x: separate Q/K/V with a bias and a key padding mask, or BNSH cross-attention K/V. */
function multiHead(o: { bnsh: boolean; causal: boolean }): QCase {
  const [S, D, N] = [4, 8, 2];
  const H = D / N;
  const [wq, wk, wv] = [91, 93, 95].map((s) => weights(D, D, s));
  const b = weights(1, 3 * D, 97);
  const nodes: BuildNode[] = [
    { op: 'MatMul', inputs: ['x', 'wq'], outputs: ['q'] },
    { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k3'] },
    { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v3'] },
    ...(o.bnsh ? [
      { op: 'Reshape', inputs: ['k3', 'heads'], outputs: ['k4'] }, { op: 'Transpose', inputs: ['k4'], outputs: ['k'], attrs: { perm: [0, 2, 1, 3] } },
      { op: 'Reshape', inputs: ['v3', 'heads'], outputs: ['v4'] }, { op: 'Transpose', inputs: ['v4'], outputs: ['v'], attrs: { perm: [0, 2, 1, 3] } },
    ] : [{ op: 'Identity', inputs: ['k3'], outputs: ['k'] }, { op: 'Identity', inputs: ['v3'], outputs: ['v'] }]),
    ...maskNodes('mask'),
    ms('MultiHeadAttention', ['q', 'k', 'v', 'b', 'mask'], ['y'], { num_heads: N, unidirectional: o.causal ? 1 : 0, mask_filter_value: -5000 }),
  ];
  return {
    model: model([S, D], nodes, [floats('wq', [D, D], wq), floats('wk', [D, D], wk), floats('wv', [D, D], wv), floats('b', [3 * D], b), i64('heads', [0, 0, N, H]), ...MASK_INIT]),
    input: keyInput(S, D, 99),
    expect: (x) => {
      const xs = Array.from(x);
      const keep = Array.from({ length: S }, (_, j) => xs[j * D] > 0);
      const q = linear(xs, S, D, wq, D, b.slice(0, D));
      // BNSH key and value take no bias (ONNX Runtime's cross-attention form).
      const k = linear(xs, S, D, wk, D, o.bnsh ? null : b.slice(D, 2 * D));
      const v = linear(xs, S, D, wv, D, o.bnsh ? null : b.slice(2 * D));
      return floatOut(mha(q, k, v, S, S, N, H, H, 1 / Math.sqrt(H), (i, j) => causal(o.causal)(i, j) + (keep[j] ? 0 : -5000)));
    },
  };
}

/** Token ids in 1 … V−1 with a right-padded tail of zeros per sample (a different length each). */
function tokenInput(S: number, V: number) {
  return (B: number): Float32Array => {
    const r = rng(101);
    const x = new Float32Array(B * S);
    for (let b = 0; b < B; b++) {
      const len = 1 + (b % S);
      for (let s = 0; s < len; s++) x[b * S + s] = 1 + Math.floor(r() * (V - 1));
    }
    return x;
  };
}

/** A BERT-style block as ONNX Runtime's optimizer fuses it: EmbedLayerNormalization (mask = ids > 0) → Attention with its mask_index; optionally segments and embedding_sum. */
function bertBlock(segments: boolean, quantized = false): QCase {
  const [S, V, P, Hd, N] = [5, 11, 7, 8, 2];
  // Quantized (QEmbedLayerNormalization): int8 tables and uint8 gamma and beta, each per tensor.
  const tables: [string, number, number, number, number, boolean][] = [['word', V * Hd, 0.004, 3, 103, true], ['pos', P * Hd, 0.003, -2, 105, true], ['seg', 2 * Hd, 0.005, 0, 107, true], ['gamma', Hd, 0.01, 100, 113, false], ['beta', Hd, 0.002, 128, 115, false]];
  const q = tables.map(([, n, , z, seed, signed]) => ints(n, seed, signed ? -120 : 150, signed ? 120 : 250).map((v) => (signed ? v : v - 150 + z)));
  const deq = tables.map(([, , s, z], i) => q[i].map((v) => (v - z) * s));
  const [word, pos, seg] = quantized ? deq : [weights(V, Hd, 103), weights(P, Hd, 105), weights(2, Hd, 107)];
  const gamma = quantized ? deq[3] : Array.from({ length: Hd }, (_, i) => 1 + 0.1 * i);
  const beta = quantized ? deq[4] : Array.from({ length: Hd }, (_, i) => 0.05 * i);
  const [w, b] = [weights(Hd, 3 * Hd, 109), weights(1, 3 * Hd, 111)];
  const qInit: BuildTensor[] = tables.flatMap(([name, , s, z, , signed], i) => [
    { name: `${name}_q`, dims: name === 'gamma' || name === 'beta' ? [Hd] : [q[i].length / Hd, Hd], data: signed ? Int8Array.from(q[i]) : Uint8Array.from(q[i]) },
    f32(`${name}_s`, s),
    { name: `${name}_z`, dims: [], data: signed ? Int8Array.of(z) : Uint8Array.of(z) },
  ]);
  const embed = quantized
    ? ms('QEmbedLayerNormalization', ['x', 'seg_ids', 'word_q', 'pos_q', 'seg_q', 'gamma_q', 'beta_q', 'mask', ...['word', 'pos', 'seg', 'gamma', 'beta'].map((t) => `${t}_s`), ...['word', 'pos', 'seg', 'gamma', 'beta'].map((t) => `${t}_z`)], ['emb', 'mask_index'], { epsilon: 1e-5 })
    : ms('EmbedLayerNormalization', ['x', segments ? 'seg_ids' : '', 'word', 'pos', segments ? 'seg' : '', 'gamma', 'beta', 'mask'], ['emb', 'mask_index', segments ? 'sum' : ''], { epsilon: 1e-5 });
  const withSum = segments && !quantized;
  const nodes: BuildNode[] = [
    { op: 'Greater', inputs: ['x', 'zero'], outputs: ['nonpad'] },
    { op: 'Cast', inputs: ['nonpad'], outputs: ['mask'], attrs: { to: 6 } },
    ...(segments ? [{ op: 'Greater', inputs: ['x', 'five'], outputs: ['segb'] }, { op: 'Cast', inputs: ['segb'], outputs: ['seg_ids'], attrs: { to: 6 } }] : []),
    embed,
    ms('Attention', ['emb', 'w', 'b', 'mask_index'], [withSum ? 'att' : 'y'], { num_heads: N }),
    ...(withSum ? [{ op: 'Mul', inputs: ['sum', 'tenth'], outputs: ['part'] }, { op: 'Add', inputs: ['att', 'part'], outputs: ['y'] }] : []),
  ];
  return {
    model: model([S], nodes, [floats('word', [V, Hd], word), floats('pos', [P, Hd], pos), floats('seg', [2, Hd], seg), floats('gamma', [Hd], gamma), floats('beta', [Hd], beta), floats('w', [Hd, 3 * Hd], w), floats('b', [3 * Hd], b), f32('zero', 0), f32('five', 5), f32('tenth', 0.1), ...(quantized ? qInit : [])]),
    input: tokenInput(S, V),
    expect: (x) => {
      const ids = Array.from(x);
      const sum = ids.flatMap((id, s) => Array.from({ length: Hd }, (_, h) => word[id * Hd + h] + pos[s * Hd + h] + (segments ? seg[(id > 5 ? 1 : 0) * Hd + h] : 0)));
      const emb = Array.from({ length: S }, (_, s) => {
        const r = sum.slice(s * Hd, (s + 1) * Hd);
        const m = r.reduce((a, c) => a + c, 0) / Hd;
        const v = r.reduce((a, c) => a + (c - m) ** 2, 0) / Hd;
        return r.map((e, h) => ((e - m) / Math.sqrt(v + 1e-5)) * gamma[h] + beta[h]);
      }).flat();
      const length = ids.filter((id) => id > 0).length;
      const qkv = linear(emb, S, Hd, w, 3 * Hd, b);
      const part = (start: number): number[] => Array.from({ length: S }, (_, r) => qkv.slice(r * 3 * Hd + start, r * 3 * Hd + start + Hd)).flat();
      const att = mha(part(0), part(Hd), part(2 * Hd), S, S, N, Hd / N, Hd / N, 1 / Math.sqrt(Hd / N), (_i, j) => (j >= length ? FILTER : 0));
      return floatOut(withSum ? att.map((a, i) => a + 0.1 * sum[i]) : att);
    },
  };
}

/** RoPE of one head's features v at position p: halves, or even/odd pairs when interleaved. */
function rope(v: number[], p: number, cos: number[], sin: number[], half: number, interleaved: boolean): number[] {
  const y = [...v];
  for (let i = 0; i < half; i++) {
    const [c, s] = [cos[p * half + i], sin[p * half + i]];
    const [a, b] = interleaved ? [v[2 * i], v[2 * i + 1]] : [v[i], v[i + half]];
    if (interleaved) [y[2 * i], y[2 * i + 1]] = [c * a - s * b, s * a + c * b];
    else [y[i], y[i + half]] = [c * a - s * b, s * a + c * b];
  }
  return y;
}

/**
 * GroupQueryAttention over a whole sequence: 4 query heads on 2 key/value heads, seqlens_k from the data
 * (the number of keys with x[j][0] > 0, minus one: right padding); packed or separate Q/K/V, rotary
 * embedding of Q and K at positions 0 … S − 1, softcap.
 */
function groupQuery(o: { packed: boolean; rotary: boolean; interleaved?: boolean; softcap?: number; partial?: boolean }): QCase {
  const [S, E, N, kvN, H] = [5, 6, 4, 2, 4];
  // A partial rotary's caches cover the first half of each head (2 of 4 features).
  const half = o.partial ? H / 4 : H / 2;
  const [wq, wk, wv] = [[N * H, 121], [kvN * H, 123], [kvN * H, 125]].map(([c, seed]) => weights(E, c, seed));
  const [cos, sin] = [weights(S + 2, half, 127), weights(S + 2, half, 129)];
  const proj: BuildNode[] = o.packed
    ? [{ op: 'MatMul', inputs: ['x', 'wq'], outputs: ['q0'] }, { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k0'] }, { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v0'] }, { op: 'Concat', inputs: ['q0', 'k0', 'v0'], outputs: ['q'], attrs: { axis: 2 } }]
    : [{ op: 'MatMul', inputs: ['x', 'wq'], outputs: ['q'] }, { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k'] }, { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v'] }];
  const attrs: BuildNode['attrs'] = { num_heads: N, kv_num_heads: kvN, ...(o.rotary ? { do_rotary: 1, rotary_interleaved: o.interleaved ? 1 : 0 } : {}), ...(o.softcap ? { softcap: o.softcap } : {}) };
  const nodes: BuildNode[] = [
    ...proj,
    ...maskNodes('mask'),
    { op: 'ReduceSum', inputs: ['mask', 'm1'], outputs: ['len'], attrs: { keepdims: 0 } },
    { op: 'Sub', inputs: ['len', 'one'], outputs: ['seqlens_k'] },
    ms('GroupQueryAttention', ['q', o.packed ? '' : 'k', o.packed ? '' : 'v', '', '', 'seqlens_k', 'total', ...(o.rotary ? ['cos', 'sin'] : [])], ['y'], attrs),
  ];
  return {
    model: model([S, E], nodes, [floats('wq', [E, N * H], wq), floats('wk', [E, kvN * H], wk), floats('wv', [E, kvN * H], wv), floats('cos', [S + 2, half], cos), floats('sin', [S + 2, half], sin),
      { name: 'one', dims: [], data: Int32Array.of(1) }, { name: 'total', dims: [], data: Int32Array.of(S) }, ...MASK_INIT], 14),
    input: keyInput(S, E, 131),
    expect: (x) => {
      const xs = Array.from(x);
      const length = Array.from({ length: S }, (_, j) => xs[j * E] > 0).filter((k) => k).length;
      const [q, k, v] = [[wq, N], [wk, kvN], [wv, kvN]].map(([w, h]) => linear(xs, S, E, w as number[], (h as number) * H, null));
      const headOf = (m: number[], heads: number, t: number, h: number): number[] => m.slice(t * heads * H + h * H, t * heads * H + (h + 1) * H);
      const y = new Array<number>(S * N * H).fill(0);
      for (let n = 0; n < N; n++) {
        const g = Math.floor(n / (N / kvN));
        const qs = Array.from({ length: S }, (_, t) => (o.rotary ? rope(headOf(q, N, t, n), t, cos, sin, half, !!o.interleaved) : headOf(q, N, t, n))).flat();
        const ks = Array.from({ length: S }, (_, t) => (o.rotary ? rope(headOf(k, kvN, t, g), t, cos, sin, half, !!o.interleaved) : headOf(k, kvN, t, g))).flat();
        const vs = Array.from({ length: S }, (_, t) => headOf(v, kvN, t, g)).flat();
        const cap = o.softcap;
        const scoreOf = (i: number, j: number, raw: number): number => (cap ? cap * Math.tanh(raw / cap) : raw) + (j > i || j >= length ? -Infinity : 0);
        // mha adds the bias to the scaled score; the softcap goes between, so it is folded into the bias here.
        const out = mha(qs, ks, vs, S, S, 1, H, H, 1, (i, j) => {
          let raw = 0;
          for (let h = 0; h < H; h++) raw += qs[i * H + h] * ks[j * H + h];
          return scoreOf(i, j, raw / Math.sqrt(H)) - raw;
        });
        for (let t = 0; t < S; t++) for (let h = 0; h < H; h++) y[t * N * H + n * H + h] = out[t * H + h];
      }
      return floatOut(y);
    },
  };
}

/**
 * ONNX Runtime's dynamically quantized BERT attention: DynamicQuantizeLinear of x [S, Din] (per sample,
 * on dynamicInput's decided grid) → QAttention with int8 weights per column and a float bias.
 */
function quantizedAttention(mixed = false): QCase {
  const [S, Din, D, N] = [4, 6, 8, 2];
  const H = D / N;
  const wq = ints(Din * 3 * D, 151, -127, 127);
  // Mixed: one scale, a zero point per column (ONNX Runtime tracks the two granularities apart).
  const ws = Array.from({ length: 3 * D }, (_, c) => (mixed ? 0.003 : 0.002 + 0.0005 * (c % 7)));
  const wz = Array.from({ length: 3 * D }, (_, c) => (mixed ? (c % 5) - 2 : 0));
  const b = weights(1, 3 * D, 153);
  return {
    model: model([S, Din], [
      { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
      ms('QAttention', ['xq', 'w', 'b', 'xs', 'ws', '', 'xz', mixed ? 'wz' : ''], ['y'], { num_heads: N }),
    ], [{ name: 'w', dims: [Din, 3 * D], data: Int8Array.from(wq) }, mixed ? f32('ws', 0.003) : floats('ws', [3 * D], ws), floats('b', [3 * D], b), { name: 'wz', dims: [3 * D], data: Int8Array.from(wz) }]),
    input: dynamicInput(S * Din),
    expect: (x) => {
      const d = dynamicDef(x);
      const xq = d.y.map((e) => ('value' in e ? e.value : Math.min(255, Math.max(0, roundHalfEven(e.real) + e.add))));
      const xf = xq.map((q) => (q - d.zero) * d.scale);
      const wf = wq.map((q, i) => (q - wz[i % (3 * D)]) * ws[i % (3 * D)]);
      const qkv = linear(xf, S, Din, wf, 3 * D, b);
      const part = (start: number): number[] => Array.from({ length: S }, (_, r) => qkv.slice(r * 3 * D + start, r * 3 * D + start + D)).flat();
      return floatOut(mha(part(0), part(D), part(2 * D), S, S, N, H, H, 1 / Math.sqrt(H), () => 0));
    },
  };
}

export const CONTRIB_ATTENTION_CASES: [string, QCase][] = [
  ['Attention (packed QKV), no mask', packedAttention({ S: 5, Din: 6, sizes: [8, 8, 8], N: 2, mask: 'none', causal: false })],
  ['Attention, causal, a raw 0/1 key mask from the data', packedAttention({ S: 5, Din: 6, sizes: [8, 8, 8], N: 2, mask: 'raw', causal: true })],
  ['Attention, qkv_hidden_sizes [8, 8, 4], scale 0.3, mask lengths, attention_bias', packedAttention({ S: 4, Din: 6, sizes: [8, 8, 4], N: 2, mask: 'lengths', causal: false, scale: 0.3, attentionBias: true })],
  ['MultiHeadAttention, bias, key padding mask, mask_filter_value', multiHead({ bnsh: false, causal: false })],
  ['MultiHeadAttention, causal, BNSH key and value without their bias', multiHead({ bnsh: true, causal: true })],
  ['QAttention after DynamicQuantizeLinear, int8 weights per column', quantizedAttention()],
  ['QAttention, one weight scale and a zero point per column', quantizedAttention(true)],
  ['EmbedLayerNormalization → Attention with its mask_index', bertBlock(false)],
  ['EmbedLayerNormalization with segments and embedding_sum', bertBlock(true)],
  ['QEmbedLayerNormalization: int8 tables, uint8 gamma and beta, segments', bertBlock(true, true)],
  ['GroupQueryAttention, 4 on 2 heads, right padding from seqlens_k, softcap', groupQuery({ packed: false, rotary: false, softcap: 2 })],
  ['GroupQueryAttention, packed Q/K/V, rotary (halves)', groupQuery({ packed: true, rotary: true })],
  ['GroupQueryAttention, rotary interleaved', groupQuery({ packed: false, rotary: true, interleaved: true })],
  ['GroupQueryAttention, partial rotary (caches for 2 of 4 features)', groupQuery({ packed: false, rotary: true, partial: true })],
];
