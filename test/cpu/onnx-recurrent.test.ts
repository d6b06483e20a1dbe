import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type AttrValue, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';

// The ONNX LSTM, GRU and RNN corners PyTorch does not export (GRU linear_before_reset = 0, peepholes,
// reverse, layout 1, constant initial states, a whole-tensor import), hand-built and checked against
// the ONNX operator definitions written out below in f64.
const CFG = resolveConfig({ preset: 'ideal' });
const [T, B, I, H] = [4, 3, 3, 2];

type Cell = 'LSTM' | 'GRU' | 'RNN';
type Act = 'Sigmoid' | 'Tanh' | 'Relu';
const F: Record<Act, (x: number) => number> = { Sigmoid: (x) => 1 / (1 + Math.exp(-x)), Tanh: Math.tanh, Relu: (x) => Math.max(0, x) };
const GATES: Record<Cell, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULTS: Record<Cell, Act[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

interface Spec {
  cell: Cell;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  lbr?: 0 | 1;
  bias?: boolean;
  peepholes?: boolean;
  /** Initial states: absent, constants (batch 1 in a batched import), or graph inputs. */
  state?: 'const' | 'input';
  /** Per direction, concatenated (absent: ONNX's defaults). */
  acts?: Act[];
  /** A whole-tensor import: X is [T, B, I] (or [B, T, I]) as one sample. */
  whole?: boolean;
  extra?: Record<string, AttrValue>;
}

interface Tensors {
  x: Float32Array;
  W: Float32Array;
  R: Float32Array;
  Bias: Float32Array | null;
  P: Float32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
}

const dirsOf = (s: Spec): number => (s.direction === 'bidirectional' ? 2 : 1);
/** Rows of the state: the batch, or 1 for a constant state of a batched import (broadcast). */
const stateRows = (s: Spec): number => (s.state === 'const' && !s.whole ? 1 : B);

function tensors(s: Spec): Tensors {
  const D = dirsOf(s);
  const GH = GATES[s.cell] * H;
  const n = stateRows(s);
  return {
    // In the graph input's layout: [T, B, I] only in a whole-tensor layout 0 import, else [B, T, I].
    x: randomArray(T * B * I, 1, -2, 2),
    W: randomArray(D * GH * I, 2),
    R: randomArray(D * GH * H, 3),
    Bias: s.bias ? randomArray(D * 2 * GH, 4) : null,
    P: s.peepholes ? randomArray(D * 3 * H, 5) : null,
    h0: s.state ? randomArray(D * n * H, 6) : null,
    c0: s.state && s.cell === 'LSTM' ? randomArray(D * n * H, 7) : null,
  };
}

/** ONNX's equations: Y [T, D, B, H], Y_h and Y_c [D, B, H] from X [T, B, I] (layout 0 order). */
function reference(s: Spec, t: Tensors): { Y: Float64Array; Yh: Float64Array; Yc: Float64Array } {
  const D = dirsOf(s);
  const G = GATES[s.cell];
  const GH = G * H;
  const per = DEFAULTS[s.cell].length;
  const acts = s.acts ?? [...DEFAULTS[s.cell], ...DEFAULTS[s.cell]];
  const Y = new Float64Array(T * D * B * H);
  const Yh = new Float64Array(D * B * H);
  const Yc = new Float64Array(D * B * H);
  const n = stateRows(s);
  for (let d = 0; d < D; d++) {
    const [f, g, hAct] = acts.slice(d * per, d * per + per).map((a) => F[a]);
    const reverse = s.direction === 'reverse' || d === 1;
    const wb = (j: number): number => (t.Bias ? t.Bias[d * 2 * GH + j] : 0);
    const rb = (j: number): number => (t.Bias ? t.Bias[d * 2 * GH + GH + j] : 0);
    const w = (j: number, x: ArrayLike<number>): number => { let a = 0; for (let k = 0; k < I; k++) a += t.W[(d * GH + j) * I + k] * x[k]; return a; };
    const r = (j: number, h: ArrayLike<number>): number => { let a = 0; for (let k = 0; k < H; k++) a += t.R[(d * GH + j) * H + k] * h[k]; return a; };
    for (let b = 0; b < B; b++) {
      const st = (v: Float32Array | null): number[] => Array.from({ length: H }, (_, k) => (v ? v[(d * n + (n === 1 ? 0 : b)) * H + k] : 0));
      let h = st(t.h0);
      let c = st(t.c0);
      for (let step = 0; step < T; step++) {
        const tt = reverse ? T - 1 - step : step;
        const x = Array.from({ length: I }, (_, k) => t.x[(tt * B + b) * I + k]);
        const pre = (gate: number, k: number): number => w(gate * H + k, x) + r(gate * H + k, h) + wb(gate * H + k) + rb(gate * H + k);
        const P = (gate: number, k: number): number => (t.P ? t.P[d * 3 * H + gate * H + k] : 0);
        if (s.cell === 'RNN') h = h.map((_, k) => f(pre(0, k)));
        else if (s.cell === 'LSTM') {
          const i = h.map((_, k) => f(pre(0, k) + P(0, k) * c[k]));
          const fg = h.map((_, k) => f(pre(2, k) + P(2, k) * c[k]));
          const cc = h.map((_, k) => g(pre(3, k)));
          c = c.map((cv, k) => fg[k] * cv + i[k] * cc[k]);
          const o = h.map((_, k) => f(pre(1, k) + P(1, k) * c[k]));
          h = h.map((_, k) => o[k] * hAct(c[k]));
        } else {
          const z = h.map((_, k) => f(pre(0, k)));
          const rr = h.map((_, k) => f(pre(1, k)));
          const rh = h.map((hv, k) => rr[k] * hv);
          const hh = h.map((_, k) => g(s.lbr
            ? w(2 * H + k, x) + rr[k] * (r(2 * H + k, h) + rb(2 * H + k)) + wb(2 * H + k)
            : w(2 * H + k, x) + r(2 * H + k, rh) + rb(2 * H + k) + wb(2 * H + k)));
          h = h.map((hv, k) => (1 - z[k]) * hh[k] + z[k] * hv);
        }
        for (let k = 0; k < H; k++) Y[((tt * D + d) * B + b) * H + k] = h[k];
      }
      for (let k = 0; k < H; k++) {
        Yh[(d * B + b) * H + k] = h[k];
        Yc[(d * B + b) * H + k] = c[k];
      }
    }
  }
  return { Y, Yh, Yc };
}

/** `src` [a, b, c(, e)] with axes 0 and 1 swapped. */
function swap01(src: ArrayLike<number>, a: number, b: number, rest: number): Float32Array {
  const out = new Float32Array(a * b * rest);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < rest; k++) out[(j * a + i) * rest + k] = src[(i * b + j) * rest + k];
  return out;
}

/** The model: batched ones take x [batch, T, I] (and states [batch, D, H]) and give batch-first outputs. */
function model(s: Spec, t: Tensors): Uint8Array {
  const D = dirsOf(s);
  const GH = GATES[s.cell] * H;
  const layout = s.layout ?? 0;
  const opset = layout ? 14 : 13;
  const n = stateRows(s);
  const inits: BuildTensor[] = [{ name: 'W', dims: [D, GH, I], data: t.W }, { name: 'R', dims: [D, GH, H], data: t.R }];
  if (t.Bias) inits.push({ name: 'B', dims: [D, 2 * GH], data: t.Bias });
  if (t.P) inits.push({ name: 'P', dims: [D, 3 * H], data: t.P });
  const nodes: BuildNode[] = [];
  const seqDims = (rows: number | string): (number | string)[] => (layout ? [rows, T, I] : [T, rows, I]);
  const stDims = (rows: number | string): (number | string)[] => (layout ? [rows, D, H] : [D, rows, H]);
  const inputs = [{ name: 'x', dims: s.whole ? seqDims(B) : ['batch', T, I] }];
  let x = 'x';
  if (!s.whole && !layout) {
    nodes.push({ op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [1, 0, 2] } });
    x = 'xt';
  }
  const states = ['h0', 'c0'].slice(0, s.state ? (s.cell === 'LSTM' ? 2 : 1) : 0);
  const stateName: string[] = [];
  for (const [k, name] of states.entries()) {
    const data = k === 0 ? t.h0! : t.c0!;
    if (s.state === 'const') {
      // [D, 1, H] is also [1, D, H]'s order: one row per direction.
      inits.push({ name, dims: s.whole ? stDims(B) as number[] : layout ? [1, D, H] : [D, 1, H], data: s.whole && layout ? swap01(data, D, B, H) : data });
      stateName.push(name);
    } else if (s.whole) {
      inputs.push({ name, dims: stDims(B) });
      stateName.push(name);
    } else {
      inputs.push({ name, dims: ['batch', D, H] });
      if (layout) stateName.push(name);
      else {
        nodes.push({ op: 'Transpose', inputs: [name], outputs: [`${name}t`], attrs: { perm: [1, 0, 2] } });
        stateName.push(`${name}t`);
      }
    }
  }
  const attrs: Record<string, AttrValue> = { hidden_size: H, ...(s.direction ? { direction: s.direction } : {}), ...(layout ? { layout } : {}), ...(s.cell === 'GRU' ? { linear_before_reset: s.lbr ?? 0 } : {}), ...(s.acts ? { activations: { strings: s.acts } } : {}), ...s.extra };
  const outNames = ['Y', 'Y_h', 'Y_c'].slice(0, s.cell === 'LSTM' ? 3 : 2);
  nodes.push({ op: s.cell, name: 'rnn', inputs: ['x', 'W', 'R', t.Bias ? 'B' : '', '', stateName[0] ?? '', stateName[1] ?? '', t.P ? 'P' : ''].map((v, i) => (i === 0 ? x : v)), outputs: outNames, attrs });
  const outputs = outNames.map((o) => ({ name: o, dims: ['batch'] as (number | string)[] }));
  if (!s.whole && !layout) {
    // Batch-first graph outputs, as xbarsim needs.
    nodes.push({ op: 'Transpose', inputs: ['Y'], outputs: ['Yb'], attrs: { perm: [2, 0, 1, 3] } });
    for (const o of outNames.slice(1)) nodes.push({ op: 'Transpose', inputs: [o], outputs: [`${o}b`], attrs: { perm: [1, 0, 2] } });
    outputs.forEach((o) => (o.name = `${o.name}b`));
  }
  return buildOnnxModel({ opset, inputs, outputs, initializers: inits, nodes });
}

/** Samples packed as the network takes or gives them: each sample's part of every tensor, in order. */
function pack(parts: Float32Array[], rows: number): Float32Array {
  const per = parts.map((v) => v.length / rows);
  const out = new Float32Array(parts.reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (let b = 0; b < rows; b++) {
    parts.forEach((v, i) => {
      out.set(v.subarray(b * per[i], (b + 1) * per[i]), o);
      o += per[i];
    });
  }
  return out;
}

/**
 * Runs the spec's model on its tensors against the reference. Graph inputs are [batch, T, I] and
 * [batch, D, H] in a batched import, and ONNX's own layouts in a whole-tensor one; the reference
 * reads X as [T, B, I] and writes Y as [T, D, B, H], Y_h and Y_c as [D, B, H].
 */
async function check(s: Spec): Promise<void> {
  const t = tensors(s);
  const D = dirsOf(s);
  const layout = s.layout ?? 0;
  const onnxOrder = !!s.whole && !layout;
  const ref = reference(s, { ...t, x: onnxOrder ? t.x : swap01(t.x, B, T, I) });
  const net = importOnnx(model(s, t), 'rnn.onnx', { batched: !s.whole });
  const state = (v: Float32Array): Float32Array => (onnxOrder ? v : swap01(v, D, B, H));
  const feeds: Record<string, Float32Array> = { x: t.x, ...(s.state === 'input' ? { h0: state(t.h0!), ...(t.c0 ? { c0: state(t.c0) } : {}) } : {}) };
  const rows = s.whole ? 1 : B;
  const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
  const y = (await runner.forward(null, pack(net.inputs.map((v) => feeds[v.name]), rows), rows, 0)).output;
  runner.destroy();
  // Outputs batch-first ([B, T, D, H], [B, D, H]) except in a whole-tensor layout 0 import.
  const Y = onnxOrder ? Float32Array.from(ref.Y) : Float32Array.from({ length: B * T * D * H }, (_, i) => {
    const [b, tt, d, k] = [Math.floor(i / (T * D * H)), Math.floor(i / (D * H)) % T, Math.floor(i / H) % D, i % H];
    return ref.Y[((tt * D + d) * B + b) * H + k];
  });
  const st = (v: Float64Array): Float32Array => (onnxOrder ? Float32Array.from(v) : swap01(v, D, B, H));
  const want = pack([Y, st(ref.Yh), ...(s.cell === 'LSTM' ? [st(ref.Yc)] : [])], rows);
  expect(y.length).toBe(want.length);
  expect(maxAbsDiff(y, want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
}

describe('ONNX LSTM, GRU and RNN against the operator definitions', () => {
  it.each<[string, Spec]>([
    ['LSTM forward with biases, seq-first X through a Transpose', { cell: 'LSTM', bias: true }],
    ['LSTM bidirectional with peepholes and constant initial states, layout 1', { cell: 'LSTM', direction: 'bidirectional', bias: true, peepholes: true, state: 'const', layout: 1 }],
    ['LSTM reverse with peepholes and the state as graph inputs', { cell: 'LSTM', direction: 'reverse', peepholes: true, bias: true, state: 'input' }],
    ['GRU linear_before_reset = 0, bidirectional, the state as graph inputs', { cell: 'GRU', direction: 'bidirectional', lbr: 0, bias: true, state: 'input' }],
    ['GRU linear_before_reset = 0 from a zero state', { cell: 'GRU', lbr: 0, bias: true }],
    ['GRU linear_before_reset = 1, reverse, constant initial state, layout 1', { cell: 'GRU', direction: 'reverse', lbr: 1, bias: true, state: 'const', layout: 1 }],
    ['GRU linear_before_reset = 1 from a zero state (r ⊙ Rb_h alone)', { cell: 'GRU', lbr: 1, bias: true }],
    ['RNN reverse, Relu, no biases', { cell: 'RNN', direction: 'reverse', acts: ['Relu'] }],
    ['RNN bidirectional, layout 1, the state as a graph input', { cell: 'RNN', direction: 'bidirectional', bias: true, state: 'input', layout: 1 }],
    ['LSTM layout 1, the states as graph inputs, Y_h and Y_c batch-first', { cell: 'LSTM', bias: true, peepholes: true, state: 'input', layout: 1 }],
    ['RNN bidirectional with a different activation per direction', { cell: 'RNN', direction: 'bidirectional', bias: true, acts: ['Relu', 'Sigmoid'] }],
    ['LSTM with its activations given (Relu, Sigmoid, Tanh)', { cell: 'LSTM', bias: true, state: 'input', acts: ['Sigmoid', 'Relu', 'Tanh'] }],
    ['LSTM bidirectional in a whole-tensor import, peepholes, state inputs', { cell: 'LSTM', direction: 'bidirectional', peepholes: true, bias: true, state: 'input', whole: true }],
    ['GRU linear_before_reset = 0 in a whole-tensor import, layout 1, state inputs', { cell: 'GRU', lbr: 0, bias: true, state: 'input', whole: true, layout: 1 }],
    ['RNN bidirectional in a whole-tensor import, constant state', { cell: 'RNN', direction: 'bidirectional', bias: true, state: 'const', whole: true }],
    ['LSTM layout 1 in a whole-tensor import, constant states', { cell: 'LSTM', bias: true, state: 'const', whole: true, layout: 1 }],
  ])('%s', async (_, spec) => check(spec));

  it('accepts sequence_lens when it is a constant with every entry T', async () => {
    const t = tensors({ cell: 'RNN' });
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: [T, B, I] }],
      outputs: [{ name: 'Y', dims: [T, 1, B, H] }],
      initializers: [{ name: 'W', dims: [1, H, I], data: t.W }, { name: 'R', dims: [1, H, H], data: t.R }, { name: 'L', dims: [B], data: new BigInt64Array(B).fill(BigInt(T)) }],
      nodes: [{ op: 'RNN', inputs: ['x', 'W', 'R', '', 'L'], outputs: ['Y'], attrs: { hidden_size: H } }],
    });
    const net = importOnnx(bytes, 'r.onnx', { batched: false });
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
    const y = (await runner.forward(null, t.x, 1, 0)).output;
    runner.destroy();
    expect(maxAbsDiff(y, Float32Array.from(reference({ cell: 'RNN' }, t).Y))).toBeLessThan(1e-5);
  });
});

describe('ONNX recurrent refusals', () => {
  const refusal = (s: Spec): string => usageMessage(() => importOnnx(model(s, tensors(s)), 'm.onnx'));

  it.each<[string, Spec, RegExp]>([
    ['clip', { cell: 'LSTM', extra: { clip: 3 } }, /^m\.onnx: node "rnn" \(LSTM\): attribute "clip" is set \(3\); only unclipped cells \(no "clip"\) are supported$/],
    ['input_forget = 1', { cell: 'LSTM', extra: { input_forget: 1 } }, /^m\.onnx: node "rnn" \(LSTM\): attribute "input_forget" is 1; allowed: 0$/],
    ['activation_alpha', { cell: 'RNN', extra: { activation_alpha: { floats: [0.5] } } }, /^m\.onnx: node "rnn" \(RNN\): attribute "activation_alpha" is set; only activations without parameters \(Sigmoid, Tanh, Relu\) are supported/],
    ['activation_beta', { cell: 'GRU', extra: { activation_beta: { floats: [0.5] } } }, /attribute "activation_beta" is set/],
    ['another activation', { cell: 'GRU', acts: ['Sigmoid', 'LeakyRelu' as Act] }, /^m\.onnx: node "rnn" \(GRU\): attribute "activations" holds "LeakyRelu"; allowed: "Sigmoid", "Tanh", "Relu"$/],
    ['activations of the wrong count', { cell: 'LSTM', direction: 'bidirectional', acts: ['Sigmoid', 'Tanh', 'Tanh'] }, /attribute "activations" has 3 entries; LSTM bidirectional takes 6 \(3 per direction\)$/],
    ['an unknown direction', { cell: 'RNN', extra: { direction: 'sideways' } }, /^m\.onnx: node "rnn" \(RNN\): attribute "direction" is "sideways"; allowed: "forward", "reverse", "bidirectional"$/],
    ['linear_before_reset = 2', { cell: 'GRU', lbr: 0, extra: { linear_before_reset: 2 } }, /attribute "linear_before_reset" is 2; allowed: 0, 1$/],
  ])('%s is one line naming the attribute and what is allowed', (_, s, re) => {
    expect(refusal(s)).toMatch(re);
  });

  it('sequence_lens shorter than T, or from the data, and W from the data, are one line', () => {
    const t = tensors({ cell: 'RNN' });
    const build = (lens: BigInt64Array | null, wInput: boolean): Uint8Array => buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: [T, B, I] }, ...(lens ? [] : [{ name: 'L', dims: [B] }]), ...(wInput ? [{ name: 'W', dims: [1, H, I] }] : [])],
      outputs: [{ name: 'Y', dims: [T, 1, B, H] }],
      initializers: [...(wInput ? [] : [{ name: 'W', dims: [1, H, I], data: t.W }]), { name: 'R', dims: [1, H, H], data: t.R }, ...(lens ? [{ name: 'L', dims: [B], data: lens }] : [])],
      nodes: [{ op: 'RNN', name: 'rnn', inputs: ['x', 'W', 'R', '', wInput ? '' : 'L'], outputs: ['Y'], attrs: { hidden_size: H } }],
    });
    const msg = (b: Uint8Array): string => usageMessage(() => importOnnx(b, 'm.onnx', { batched: false }));
    expect(msg(build(BigInt64Array.from([4n, 3n, 4n]), false))).toBe('m.onnx: node "rnn" (RNN): sequence_lens "L" must be a constant with every entry 4 (the sequence length); sequences of different lengths are not supported');
    expect(msg(build(null, false))).toMatch(/sequence_lens "L" must be a constant with every entry 4/);
    expect(msg(build(BigInt64Array.from([4n, 4n, 4n]), true))).toMatch(/^m\.onnx: node "rnn" \(RNN\): W "W" must be a constant/);
  });

  it('a batch-first X under layout 0 says to transpose it', () => {
    const t = tensors({ cell: 'RNN' });
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', T, I] }],
      outputs: [{ name: 'Y', dims: ['batch'] }],
      initializers: [{ name: 'W', dims: [1, H, I], data: t.W }, { name: 'R', dims: [1, H, H], data: t.R }],
      nodes: [{ op: 'RNN', name: 'rnn', inputs: ['x', 'W', 'R'], outputs: ['Y'], attrs: { hidden_size: H } }],
    });
    expect(usageMessage(() => importOnnx(bytes, 'm.onnx'))).toMatch(/^m\.onnx: node "rnn" \(RNN\): X has the batch dimension at axis 0; with layout 0 RNN reads X as \[seq_length, batch, input_size\] and needs it at axis 1/);
  });
});
