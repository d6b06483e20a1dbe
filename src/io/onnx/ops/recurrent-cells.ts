/**
 * The time steps of one direction of an ONNX LSTM, GRU or RNN, unrolled into IR ops (ONNX's
 * equations, gate orders i o f c, z r h). Every step works on [1, R, ·] values (R rows: 1 in a batched
 * import, the ONNX batch in a whole-tensor one); the recurrent products are tied linear layers, one
 * physical crossbar each, used once per step.
 */
import type { BinaryFn, LinearOp, UnaryFn } from '../../../ir/graph.ts';
import type { NodeContext, Value } from '../node.ts';
import { emitBinary, emitUnary } from './elementwise.ts';
import { emitLinear } from './matrix.ts';

/** A tied recurrent layer: weight row-major [H, N] (R's rows transposed), no bias. */
export interface TiedLayer {
  name: string;
  weight: Float32Array;
  N: number;
  /** Its weight's source (ImportState.noteSource): the same RNN node applied again ties to it. */
  source: string;
}

/** What one direction's steps read: the input projection and the weights that act on the state. */
export interface Direction {
  /** X·Wᵀ + the foldable biases, [T, R, G·H]. */
  proj: Value;
  /** Time indices in processing order (reverse: T−1 down to 0). */
  order: number[];
  H: number;
  /** The gate nonlinearities f, g, h of the ONNX definition (as many as the cell reads). */
  acts: UnaryFn[];
  /** Initial hidden (and LSTM cell) state [1, R, H]; null when zero. */
  h0: Value | null;
  c0: Value | null;
}

/** One direction's results: the hidden state of each time step (in time order) and the final states. */
export interface DirectionOut {
  ys: Value[];
  h: Value;
  c: Value | null;
}

/** Emits elementwise and slicing ops of one direction, named after the node, the direction and the step. */
export class Steps {
  private tag = '';

  constructor(
    readonly n: NodeContext,
    private readonly prefix: string,
  ) {}

  /** Names the ops that follow after time step t. */
  at(t: number): void {
    this.tag = `${this.prefix}/t${t}`;
  }

  private out(what: string): string {
    return this.n.imp.fresh(`${this.tag}/${what}`);
  }

  /** The window [start, start + len) of the last axis; with `row`, only that time row of a [T, R, N] value. */
  slice(v: Value, start: number, len: number, what: string, row?: number): Value {
    const r = v.shape.length;
    const starts = v.shape.map((_, i) => (i === r - 1 ? start : i === 0 && row !== undefined ? row : 0));
    const outShape = v.shape.map((d, i) => (i === r - 1 ? len : i === 0 && row !== undefined ? 1 : d));
    const out = this.out(what);
    this.n.imp.emit({ kind: 'slice', name: `${this.tag}/${what}`, inputs: [v.name], output: out, starts, steps: v.shape.map(() => 1), inShape: v.shape, outShape }, outShape);
    return this.n.imp.valueOf(out)!;
  }

  /** fn(v) elementwise. */
  unary(fn: UnaryFn, v: Value, what: string): Value {
    return emitUnary(this.n, fn, v, this.out(what), `${this.tag}/${what}`);
  }

  /** a fn b elementwise, for two [1, R, ·] values of one shape. */
  binary(fn: BinaryFn, a: Value, b: Value, what: string): Value {
    const out = this.out(what);
    emitBinary(this.n, fn, { v: a }, { v: b }, out, `${this.tag}/${what}`);
    return this.n.imp.valueOf(out)!;
  }

  /** `v fn c` for a constant vector c over the last axis (a peephole, GRU's kept recurrent bias). */
  constant(fn: BinaryFn, v: Value, c: Float32Array, what: string): Value {
    const out = this.out(what);
    emitBinary(this.n, fn, { v }, { c: { kind: 'float', dims: [c.length], data: c } }, out, `${this.tag}/${what}`);
    return this.n.imp.valueOf(out)!;
  }

  /** h·W of a tied layer: the same name, weight and tie at every step. */
  tied(layer: TiedLayer, h: Value): Value {
    const out = this.out('rec');
    const y = emitLinear(this.n, h, h.shape[h.shape.length - 1], layer.N, layer.weight, null, out, layer.name, layer.name);
    this.n.imp.noteSource(this.n.imp.producerOf(out) as LinearOp, layer.source);
    return y;
  }

  /** The projection's row t plus, when there is a state, its recurrent product. */
  gates(d: Direction, t: number, R: TiedLayer, h: Value | null): Value {
    const p = this.slice(d.proj, 0, d.proj.shape[2], 'x', t);
    return h ? this.binary('add', p, this.tied(R, h), 'gates') : p;
  }
}

/** ONNX RNN: Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb). */
export function rnnSteps(s: Steps, d: Direction, R: TiedLayer): DirectionOut {
  const ys: Value[] = [];
  let h = d.h0;
  for (const t of d.order) {
    s.at(t);
    h = s.unary(d.acts[0], s.gates(d, t, R, h), 'h');
    ys[t] = h;
  }
  return { ys, h: h!, c: null };
}

/**
 * ONNX LSTM: i, o, f = f(gates (+ peepholes P ⊙ C)), c̃ = g(gates), Cₜ = f ⊙ Cₜ₋₁ + i ⊙ c̃,
 * Hₜ = o ⊙ h(Cₜ); the output gate's peephole reads Cₜ. `P` is [Pi, Po, Pf] or null.
 */
export function lstmSteps(s: Steps, d: Direction, R: TiedLayer, P: Float32Array[] | null): DirectionOut {
  const { H } = d;
  const [fa, ga, ha] = d.acts;
  const ys: Value[] = [];
  let h = d.h0;
  let c = d.c0;
  for (const t of d.order) {
    s.at(t);
    const g = s.gates(d, t, R, h);
    let [gi, go, gf] = ['i~', 'o~', 'f~'].map((what, k) => s.slice(g, k * H, H, what));
    const gc = s.slice(g, 3 * H, H, 'c~');
    // A zero cell state adds nothing through the peepholes or the forget gate.
    if (P && c) {
      gi = s.binary('add', gi, s.constant('mul', c, P[0], 'Pi·c'), 'i+P');
      gf = s.binary('add', gf, s.constant('mul', c, P[2], 'Pf·c'), 'f+P');
    }
    const i = s.unary(fa, gi, 'i');
    const cc = s.unary(ga, gc, 'g');
    const ic = s.binary('mul', i, cc, 'i·g');
    c = c ? s.binary('add', s.binary('mul', s.unary(fa, gf, 'f'), c, 'f·c'), ic, 'c') : ic;
    if (P) go = s.binary('add', go, s.constant('mul', c, P[1], 'Po·c'), 'o+P');
    h = s.binary('mul', s.unary(fa, go, 'o'), s.unary(ha, c, 'h(c)'), 'h');
    ys[t] = h;
  }
  return { ys, h: h!, c };
}

/**
 * ONNX GRU: z, r = f(gates), h̃ = g(Xₜ·W_hᵀ + r ⊙ (Hₜ₋₁·R_hᵀ + Rb_h) + Wb_h) with
 * linear_before_reset, else g(Xₜ·W_hᵀ + (r ⊙ Hₜ₋₁)·R_hᵀ + Rb_h + Wb_h) (Rb_h then in the
 * projection); Hₜ = (1 − z) ⊙ h̃ + z ⊙ Hₜ₋₁ = h̃ + z ⊙ (Hₜ₋₁ − h̃). `Rzr` is R_z, R_r (or all of R
 * with linear_before_reset), `Rh` R_h alone (without it), `rbh` Rb_h (with it).
 */
export function gruSteps(s: Steps, d: Direction, Rzr: TiedLayer, Rh: TiedLayer | null, rbh: Float32Array | null): DirectionOut {
  const { H } = d;
  const [fa, ga] = d.acts;
  const ys: Value[] = [];
  let h = d.h0;
  for (const t of d.order) {
    s.at(t);
    let zr = s.slice(d.proj, 0, 2 * H, 'x_zr', t);
    let xh = s.slice(d.proj, 2 * H, H, 'x_h', t);
    const rec = h ? s.tied(Rzr, h) : null;
    if (rec) zr = s.binary('add', zr, Rh ? rec : s.slice(rec, 0, 2 * H, 'h_zr'), 'zr');
    const zrAct = s.unary(fa, zr, 'f(zr)');
    const z = s.slice(zrAct, 0, H, 'z');
    const r = s.slice(zrAct, H, H, 'r');
    if (Rh) {
      if (h) xh = s.binary('add', xh, s.tied(Rh, s.binary('mul', r, h, 'r·h')), 'x_h+');
    } else if (rec) {
      const hh = s.constant('add', s.slice(rec, 2 * H, H, 'h_h'), rbh!, 'h_h+b');
      xh = s.binary('add', xh, s.binary('mul', r, hh, 'r·h_h'), 'x_h+');
    } else if (rbh!.some((v) => v !== 0)) {
      // A zero state leaves r ⊙ Rb_h.
      xh = s.binary('add', xh, s.constant('mul', r, rbh!, 'r·b'), 'x_h+');
    }
    const hc = s.unary(ga, xh, 'h~');
    h = h ? s.binary('add', hc, s.binary('mul', z, s.binary('sub', h, hc, 'h-h~'), 'z·'), 'h') : s.binary('sub', hc, s.binary('mul', z, hc, 'z·h~'), 'h');
    ys[t] = h;
  }
  return { ys, h: h!, c: null };
}
