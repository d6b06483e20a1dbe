/**
 * Recurrent ops (LSTM, GRU, RNN: PyTorch's nn.LSTM, nn.GRU, nn.RNN exports) unrolled over their fixed
 * sequence length (recurrent-cells.ts has the steps). Per direction one crossbar linear layer projects
 * every time step's input at once, and the recurrent weight R is one tied layer (one physical
 * crossbar) used once per step. W, R, B and P must be constants; X [T, batch, I] (layout 0, batch at
 * ONNX axis 1) or [batch, T, I] (layout 1) is viewed as [T, R, I], R = 1 in a batched import and the
 * ONNX batch in a whole-tensor one, so that one code path serves both.
 */
import type { LinearOp, UnaryFn } from '../../../ir/graph.ts';
import { floatsOf, plainIntsOf, uniformAlong } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { emitLinear, reshapeTo } from './matrix.ts';
import { Steps, gruSteps, lstmSteps, rnnSteps } from './recurrent-cells.ts';
import type { Direction, DirectionOut, TiedLayer } from './recurrent-cells.ts';

type Cell = 'LSTM' | 'GRU' | 'RNN';

const GATES: Readonly<Record<Cell, number>> = { LSTM: 4, GRU: 3, RNN: 1 };
/** ONNX's default activations of one direction. */
const DEFAULT_ACTS: Readonly<Record<Cell, readonly string[]>> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };
/** The activations ONNX allows here that take no alpha or beta. */
const ACTS: Readonly<Record<string, UnaryFn>> = { sigmoid: 'sigmoid', tanh: 'tanh', relu: 'relu' };
const DIRECTIONS = ['forward', 'reverse', 'bidirectional'];

interface Attributes {
  dirs: ('forward' | 'reverse')[];
  layout: number;
  hidden: number | null;
  /** Per direction, the cell's activations. */
  acts: UnaryFn[][];
  linearBeforeReset: boolean;
}

/** The attributes, with one-line refusals of what the unrolling does not model. */
function attributes(n: NodeContext, cell: Cell): Attributes {
  const a = n.a;
  if (a.has('clip')) throw new NodeError(`attribute "clip" is set (${a.float('clip', 0)}); only unclipped cells (no "clip") are supported`);
  for (const p of ['activation_alpha', 'activation_beta']) {
    if (a.has(p)) throw new NodeError(`attribute ${quote(p)} is set; only activations without parameters (Sigmoid, Tanh, Relu) are supported, so it must be absent`);
  }
  if (cell === 'LSTM' && a.int('input_forget', 0) !== 0) throw new NodeError(`attribute "input_forget" is ${a.int('input_forget', 0)}; allowed: 0`);
  const direction = a.str('direction', 'forward');
  if (!DIRECTIONS.includes(direction)) throw new NodeError(`attribute "direction" is ${quote(direction)}; allowed: ${DIRECTIONS.map((d) => quote(d)).join(', ')}`);
  const dirs: Attributes['dirs'] = direction === 'bidirectional' ? ['forward', 'reverse'] : [direction as 'forward' | 'reverse'];
  const layout = n.opset >= 14 ? a.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1) throw new NodeError(`attribute "layout" is ${layout}; allowed: 0, 1`);
  const lbr = cell === 'GRU' ? a.int('linear_before_reset', 0) : 0;
  if (lbr !== 0 && lbr !== 1) throw new NodeError(`attribute "linear_before_reset" is ${lbr}; allowed: 0, 1`);
  const per = DEFAULT_ACTS[cell].length;
  const names = a.strings('activations', null);
  if (names && names.length !== per * dirs.length) {
    throw new NodeError(`attribute "activations" has ${names.length} entries; ${cell} ${direction} takes ${per * dirs.length} (${per} per direction)`);
  }
  const acts = dirs.map((_, d) => (names ? names.slice(d * per, (d + 1) * per) : [...DEFAULT_ACTS[cell]]).map((s) => {
    const fn = ACTS[s.toLowerCase()];
    if (!fn) throw new NodeError(`attribute "activations" holds ${quote(s)}; allowed: "Sigmoid", "Tanh", "Relu"`);
    return fn;
  }));
  return { dirs, layout, hidden: a.has('hidden_size') ? a.int('hidden_size', 0) : null, acts, linearBeforeReset: lbr === 1 };
}

/** A constant weight input as f32 with the expected dims. */
function weight(n: NodeContext, i: number, what: string, dims: number[]): Float32Array {
  const c = n.constIn(i, what);
  if (c.dims.join() !== dims.join()) throw new NodeError(`${what} has dims [${c.dims.join(', ')}]; expected [${dims.join(', ')}]`);
  return floatsOf(c, what);
}

/** Rows [r0, r0 + rows) of direction d of a [dirs, G·H, K] weight, transposed to a layer's row-major [K, rows]. */
function transposed(w: Float32Array, d: number, GH: number, K: number, r0: number, rows: number): Float32Array {
  const out = new Float32Array(K * rows);
  const base = d * GH * K;
  for (let j = 0; j < rows; j++) for (let k = 0; k < K; k++) out[k * rows + j] = w[base + (r0 + j) * K + k];
  return out;
}

/** X as [T, R, I] with the batch first in memory (a per-sample view in a batched import). */
function sequence(n: NodeContext, layout: number): Value {
  const x = n.valueAnyBatch(0, 'X');
  const want = layout === 0 ? 1 : 0;
  if (n.imp.batched) {
    if (x.shape.length !== 2) throw new NodeError(`X has per-sample shape [${x.shape.join(', ')}]; ${n.op} needs X of rank 3`);
    if ((x.batchAt ?? 0) !== want) {
      throw new NodeError(`X has the batch dimension at axis ${x.batchAt ?? 0}; with layout ${layout} ${n.op} reads X as ${layout === 0 ? '[seq_length, batch, input_size] and needs it at axis 1 (transpose a batch-first input first)' : '[batch, seq_length, input_size] and needs it at axis 0'}`);
    }
    return reshapeTo(n, x, [x.shape[0], 1, x.shape[1]]);
  }
  if (x.shape.length !== 3) throw new NodeError(`X has shape [${x.shape.join(', ')}]; ${n.op} needs X of rank 3`);
  return layout === 0 ? x : transposeTo(n, x, [1, 0, 2], 'X');
}

function transposeTo(n: NodeContext, x: Value, perm: number[], what: string, out?: string, batchAt = 0): Value {
  const name = out ?? n.imp.fresh(`${n.name}/${what}`);
  n.imp.emit({ kind: 'transpose', name: `${n.name}/${what}`, inputs: [x.name], output: name, perm, inShape: x.shape }, perm.map((p) => x.shape[p]), 'float', batchAt);
  return n.imp.valueOf(name)!;
}

/** Whether `v` only moves elements of all-zero constants (PyTorch's zero initial state, sliced per layer). */
function isZero(n: NodeContext, v: string): boolean {
  const op = n.imp.producerOf(v);
  if (!op) return false;
  if (op.kind === 'constant') return op.value.data.every((x) => x === 0);
  if (op.kind === 'reshape' || op.kind === 'slice' || op.kind === 'transpose' || op.kind === 'gather' || op.kind === 'expand' || op.kind === 'concat') {
    return op.inputs.every((x) => isZero(n, x));
  }
  return false;
}

/**
 * An initial state (input i, ONNX [dirs, batch, H], or [batch, dirs, H] in layout 1) as [dirs, R, H],
 * or null when absent or zero (the first step then has no recurrent product).
 */
function initialState(n: NodeContext, i: number, what: string, dirs: number, H: number, layout: number): Value | null {
  const name = n.ins[i];
  if (!name) return null;
  const c = n.constAt(i);
  const [dirAxis, batchAxis] = layout === 0 ? [0, 1] : [1, 0];
  const ok = (dims: readonly number[], batch: number | null): boolean => dims.length === 3 && dims[dirAxis] === dirs && dims[2] === H && (batch === null || dims[batchAxis] === batch);
  const expected = `[${layout === 0 ? `${dirs}, batch` : `batch, ${dirs}`}, ${H}]`;
  let v: Value;
  if (c) {
    if (floatsOf(c, what).every((x) => x === 0)) return null;
    if (n.imp.batched) {
      // A constant state is the same in every sample: its batch dim must be 1, or the batch a static
      // export traced with every sample's state alike (a learned h0 expanded to the batch, folded).
      const one = ok(c.dims, 1) ? c : ok(c.dims, n.imp.declaredBatch) ? uniformAlong(c, batchAxis, n.imp.declaredBatch) : null;
      if (!one) throw new NodeError(`constant ${what} has dims [${c.dims.join(', ')}]; expected ${expected} with a batch of 1, or the declared batch with every sample alike`);
      return n.constValue(one, [dirs, 1, H], what);
    }
    v = n.constValue(c, c.dims, what);
  } else {
    if (isZero(n, name)) return null;
    v = n.valueAnyBatch(i, what);
    if (n.imp.batched) {
      if (v.shape.length !== 2 || v.shape[0] !== dirs || v.shape[1] !== H || (v.batchAt ?? 0) !== (layout === 0 ? 1 : 0)) {
        throw new NodeError(`${what} ${quote(name)} has per-sample shape [${v.shape.join(', ')}] with the batch at axis ${v.batchAt ?? 0}; expected ${expected}`);
      }
      return reshapeTo(n, v, [dirs, 1, H]);
    }
  }
  if (!ok(v.shape, null)) throw new NodeError(`${what} has shape [${v.shape.join(', ')}]; expected ${expected}`);
  return layout === 0 ? v : transposeTo(n, v, [1, 0, 2], what);
}

/** sequence_lens, when given, must say that every sequence is T long. */
function checkLengths(n: NodeContext, T: number): void {
  if (!n.ins[4]) return;
  const c = n.constAt(4);
  const lens = c ? plainIntsOf(c, 'sequence_lens') : null;
  if (!lens || lens.some((l) => l !== T)) {
    throw new NodeError(`sequence_lens ${quote(n.ins[4])} must be a constant with every entry ${T} (the sequence length); sequences of different lengths are not supported`);
  }
}

/** Direction d's slice [1, R, H] of a [dirs, R, H] state. */
function stateOf(n: NodeContext, s: Value | null, d: number): Value | null {
  if (!s) return null;
  const out = n.imp.fresh(`${s.name}/d${d}`);
  const outShape = [1, ...s.shape.slice(1)];
  n.imp.emit({ kind: 'slice', name: `${n.name}/state${d}`, inputs: [s.name], output: out, starts: [d, 0, 0], steps: [1, 1, 1], inShape: s.shape, outShape }, outShape);
  return n.imp.valueOf(out)!;
}

/** Concatenates `vs` along `axis` into `out` (a reshape for one value), the batch at ONNX axis `batchAt`. */
function join(n: NodeContext, vs: Value[], axis: number, out: string, what: string, batchAt = 0): Value {
  const shape = [...vs[0].shape];
  shape[axis] = vs.reduce((a, v) => a + v.shape[axis], 0);
  if (vs.length === 1) return reshapeTo(n, vs[0], shape, out, batchAt);
  n.imp.emit({ kind: 'concat', name: `${n.name}/${what}`, inputs: vs.map((v) => v.name), output: out, axis, inShapes: vs.map((v) => v.shape) }, shape, 'float', batchAt);
  return n.imp.valueOf(out)!;
}

/**
 * Y from each direction's [T, R, H] steps: [T, dirs, batch, H] (layout 0) or [batch, T, dirs, H]
 * (layout 1); in a batched import both are the per-sample [T, dirs, H], the batch at axis 2 or 0.
 */
function emitY(n: NodeContext, ys: Value[], layout: number, out: string): void {
  const [T, R, H] = ys[0].shape;
  if (n.imp.batched) {
    join(n, ys, 1, out, 'Y', layout === 0 ? 2 : 0);
    return;
  }
  const four = ys.map((y) => reshapeTo(n, y, [T, 1, R, H]));
  if (layout === 0) join(n, four, 1, out, 'Y');
  else transposeTo(n, join(n, four, 1, n.imp.fresh(`${n.name}/Y`), 'Y'), [2, 0, 1, 3], 'Y', out);
}

/** Y_h or Y_c from each direction's [1, R, H] final state: [dirs, batch, H] (layout 0) or [batch, dirs, H]. */
function emitState(n: NodeContext, hs: Value[], layout: number, out: string, what: string): void {
  const H = hs[0].shape[2];
  if (n.imp.batched) {
    const all = join(n, hs, 0, n.imp.fresh(`${n.name}/${what}`), what);
    reshapeTo(n, all, [hs.length, H], out, layout === 0 ? 1 : 0);
    return;
  }
  if (layout === 0) join(n, hs, 0, out, what);
  else transposeTo(n, join(n, hs, 0, n.imp.fresh(`${n.name}/${what}`), what), [1, 0, 2], what, out);
}

function recurrent(cell: Cell): (n: NodeContext) => void {
  return (n) => {
    const at = attributes(n, cell);
    const G = GATES[cell];
    const D = at.dirs.length;
    const x = sequence(n, at.layout);
    const [T, , I] = x.shape;
    if (T === 0) throw new NodeError('X has no time steps');
    const rc = n.constIn(2, 'R');
    const H = rc.dims[2];
    if (rc.dims.length !== 3 || !(H > 0)) throw new NodeError(`R has dims [${rc.dims.join(', ')}]; expected [num_directions, ${G}·hidden_size, hidden_size]`);
    if (at.hidden !== null && at.hidden !== H) throw new NodeError(`attribute "hidden_size" is ${at.hidden} but R has dims [${rc.dims.join(', ')}]`);
    const GH = G * H;
    const W = weight(n, 1, 'W', [D, GH, I]);
    const R = weight(n, 2, 'R', [D, GH, H]);
    const B = n.ins[3] ? weight(n, 3, 'B', [D, 2 * GH]) : new Float32Array(D * 2 * GH);
    const P = cell === 'LSTM' && n.ins[7] ? weight(n, 7, 'P', [D, 3 * H]) : null;
    checkLengths(n, T);
    const h0 = initialState(n, 5, 'initial_h', D, H, at.layout);
    const c0 = cell === 'LSTM' ? initialState(n, 6, 'initial_c', D, H, at.layout) : null;
    const results: DirectionOut[] = at.dirs.map((dir, d) => {
      const sfx = D > 1 ? `/${dir}` : '';
      const wb = B.subarray(d * 2 * GH, d * 2 * GH + GH);
      const rb = B.subarray(d * 2 * GH + GH, (d + 1) * 2 * GH);
      // GRU with linear_before_reset keeps Rb_h inside r ⊙ (h·R_hᵀ + Rb_h); every other recurrent bias folds into the projection.
      const keepRbh = cell === 'GRU' && at.linearBeforeReset;
      const bias = Float32Array.from(wb, (v, j) => v + (keepRbh && j >= 2 * H ? 0 : rb[j]));
      const projOut = n.imp.fresh(`${n.name}${sfx}/XW`);
      const proj = emitLinear(n, x, I, GH, transposed(W, d, GH, I, 0, GH), bias, projOut, `${n.name}${sfx}/W`);
      // The same weights applied again (one nn.LSTM called twice) tie to these layers once imported.
      const source = (what: string): string => [cell, what, n.imp.canonicalName(n.ins[what === 'W' ? 1 : 2]), d, at.linearBeforeReset].join('\u0000');
      n.imp.noteSource(n.imp.producerOf(projOut) as LinearOp, source('W'));
      const tied = (what: string, r0: number, rows: number): TiedLayer => {
        // fresh: one node's recurrent layers get their own tie; a second node with the same weights is tied to them after import.
        const name = n.imp.fresh(`${n.name}${sfx}/${what}`);
        return { name, weight: transposed(R, d, GH, H, r0, rows), N: rows, source: `${source('R')}\u0000${r0}\u0000${rows}` };
      };
      const order = Array.from({ length: T }, (_, t) => (dir === 'forward' ? t : T - 1 - t));
      const run: Direction = { proj, order, H, acts: at.acts[d], h0: stateOf(n, h0, d), c0: stateOf(n, c0, d) };
      const s = new Steps(n, `${n.name}${sfx}`);
      if (cell === 'RNN') return rnnSteps(s, run, tied('R', 0, GH));
      if (cell === 'LSTM') return lstmSteps(s, run, tied('R', 0, GH), P ? [0, 1, 2].map((k) => P.slice((d * 3 + k) * H, (d * 3 + k + 1) * H)) : null);
      if (at.linearBeforeReset) return gruSteps(s, run, tied('R', 0, GH), null, Float32Array.from(rb.subarray(2 * H)));
      return gruSteps(s, run, tied('R_zr', 0, 2 * H), tied('R_h', 2 * H, H), null);
    });
    const [yOut, hOut, cOut] = n.outs;
    if (yOut) emitY(n, results.map((r, d) => join(n, r.ys, 0, n.imp.fresh(`${n.name}/Y${d}`), 'Y')), at.layout, yOut);
    if (hOut) emitState(n, results.map((r) => r.h), at.layout, hOut, 'Y_h');
    if (cOut && cell === 'LSTM') emitState(n, results.map((r) => r.c!), at.layout, cOut, 'Y_c');
  };
}

/** Recurrent ops by ONNX op type. */
export const RECURRENT_OPS: OpTable = {
  LSTM: { activation: recurrent('LSTM') },
  GRU: { activation: recurrent('GRU') },
  RNN: { activation: recurrent('RNN') },
};
