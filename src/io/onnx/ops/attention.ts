/**
 * Attention (opset 23/24: the exporter's `F.scaled_dot_product_attention` from opset 23 on): expanded,
 * once its shapes are known, into the ONNX nodes it is defined by (Reshape, Transpose, Concat, Mul,
 * MatMul, Tanh, Add, Where, Softmax), which the importer then takes as any others: the products of
 * two activations stay digital, the projections before the node are crossbar layers as ever.
 *
 * Semantics follow the operator's reference implementation (onnx/reference/ops/op_attention.py):
 * Q and K are each scaled by √scale before the product; the softcap is applied before the mask, so
 * masked scores stay masked; a causal mask is aligned bottom-right on the keys after a past cache
 * (query i attends key j iff j ≤ i + past length), per sample with `nonpad_kv_seqlen` and no past.
 */
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';
import { Expansion, dimsOf, dim, intAttr } from './expansion.ts';

/** [batch, S, H·d] → [batch, H, S, d]. */
function heads(e: Expansion, x: string, h: number, what: string): string {
  return e.transpose(e.op('Reshape', [x, e.ints([0, 0, h, -1], `${what}/heads`)], `${what}/split`), [0, 2, 1, 3], `${what}/by-head`);
}

/** Each of `kv` heads repeated `rep` times in place ([h0, h0, h1, h1, …]), for grouped-query attention. */
function repeatHeads(e: Expansion, x: string, rep: number, qHeads: number, d: number, what: string): string {
  const one = e.unsqueeze(x, [2], `${what}/unsqueezed`);
  const copies = e.concat(new Array<string>(rep).fill(one), 2, `${what}/copies`);
  return e.op('Reshape', [copies, e.ints([0, qHeads, -1, d], `${what}/shape`)], `${what}/repeated`);
}

/** A constant mask as an additive bias: booleans to 0 / −Inf, the key axis padded to `total` (−Inf or false past its end). */
function constantBias(c: Const, total: number): Const {
  const dims = c.dims.length ? c.dims : [1];
  const last = dims[dims.length - 1];
  if (last > total) throw new NodeError(`attn_mask has ${last} keys, more than the ${total} of K`);
  const rows = c.data.length / last;
  const data = new Float32Array(rows * total).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < last; j++) {
      const v = Number(c.data[r * last + j]);
      data[r * total + j] = c.kind === 'int' ? (v !== 0 ? 0 : -Infinity) : v;
    }
  }
  return { kind: 'float', dims: [...dims.slice(0, -1), total], data };
}

/** A boolean `allowed` as an additive score bias: 0 where true, `masked` (−Inf unless given) where false. */
export function additive(e: Expansion, allowed: string, what: string, masked = -Infinity): string {
  return e.op('Where', [allowed, e.scalar(0, `${what}/zero`), e.scalar(masked, `${what}/masked`)], what);
}

/** The [batch, 1, 1, total] score bias of per-sample key counts `lengths`: keys from a sample's count on get `masked`. */
export function lengthBias(e: Expansion, lengths: string, total: number, what: string, masked = -Infinity): string {
  const keys = e.const({ kind: 'int', dims: [total], data: Array.from({ length: total }, (_, j) => j) }, `${what}/key-index`);
  const valid = e.op('Less', [keys, e.unsqueeze(lengths, [1], `${what}/lengths`)], `${what}/valid-keys`);
  return e.unsqueeze(additive(e, valid, what, masked), [1, 2], `${what}-4d`);
}

function attention(n: NodeContext): void {
  const e = new Expansion(n);
  const dq = dimsOf(n, 0, 'Q');
  const dk = dimsOf(n, 1, 'K');
  const dv = dimsOf(n, 2, 'V');
  const rank = dq.length;
  if ((rank !== 3 && rank !== 4) || dk.length !== rank || dv.length !== rank) {
    throw new NodeError(`Q, K and V have ranks ${dq.length}, ${dk.length} and ${dv.length}; all must be 3 ([batch, sequence, hidden]) or all 4 ([batch, heads, sequence, head size])`);
  }
  let [q, k, v] = [n.ins[0], n.ins[1], n.ins[2]];
  let qHeads: number, kvHeads: number, d: number, dV: number, sq: number, skv: number;
  if (rank === 3) {
    for (const a of ['q_num_heads', 'kv_num_heads']) if (!n.a.has(a)) throw new NodeError(`attribute ${quote(a)} is missing; 3-D Q, K and V need q_num_heads and kv_num_heads`);
    qHeads = n.a.int('q_num_heads', 0);
    kvHeads = n.a.int('kv_num_heads', 0);
    const [hq, hk, hv] = [dim(dq, 2, 'Q hidden'), dim(dk, 2, 'K hidden'), dim(dv, 2, 'V hidden')];
    if (!(qHeads > 0) || hq % qHeads !== 0) throw new NodeError(`Q's hidden size ${hq} does not split into q_num_heads = ${qHeads} heads`);
    if (!(kvHeads > 0) || hk % kvHeads !== 0 || hv % kvHeads !== 0) throw new NodeError(`K's hidden size ${hk} and V's ${hv} do not split into kv_num_heads = ${kvHeads} heads`);
    [d, dV, sq, skv] = [hq / qHeads, hv / kvHeads, dim(dq, 1, 'Q sequence'), dim(dk, 1, 'K sequence')];
    if (hk / kvHeads !== d) throw new NodeError(`Q's head size ${d} and K's ${hk / kvHeads} differ`);
    [q, k, v] = [heads(e, q, qHeads, 'Q'), heads(e, k, kvHeads, 'K'), heads(e, v, kvHeads, 'V')];
  } else {
    [qHeads, sq, d] = [dim(dq, 1, 'Q heads'), dim(dq, 2, 'Q sequence'), dim(dq, 3, 'Q head size')];
    [kvHeads, skv, dV] = [dim(dk, 1, 'K heads'), dim(dk, 2, 'K sequence'), dim(dv, 3, 'V head size')];
    if (dim(dk, 3, 'K head size') !== d) throw new NodeError(`Q's head size ${d} and K's ${dk[3]} differ`);
    if (dim(dv, 1, 'V heads') !== kvHeads) throw new NodeError(`K has ${kvHeads} heads and V ${dv[1]}`);
  }
  if (qHeads !== kvHeads && qHeads % kvHeads !== 0) throw new NodeError(`${qHeads} query heads do not group over ${kvHeads} key/value heads (grouped-query attention needs a multiple)`);

  // A past cache (always 4-D) goes before the new keys and values; present_* are the results.
  let past = 0;
  const pastKey = n.ins[4];
  const pastValue = n.ins[5];
  if (!!pastKey !== !!pastValue) throw new NodeError('past_key and past_value must be given together');
  if (pastKey && pastValue) {
    const dp = dimsOf(n, 4, 'past_key');
    if (dp.length !== 4) throw new NodeError(`past_key has rank ${dp.length}; it must be [batch, kv heads, past length, head size]`);
    past = dim(dp, 2, 'past_key length');
    [k, v] = [e.concat([pastKey, k], 2, 'present_key'), e.concat([pastValue, v], 2, 'present_value')];
  }
  const [presentKey, presentValue] = [k, v];
  const total = past + skv;
  if (qHeads !== kvHeads) [k, v] = [repeatHeads(e, k, qHeads / kvHeads, qHeads, d, 'K'), repeatHeads(e, v, qHeads / kvHeads, qHeads, dV, 'V')];

  const scale = n.a.has('scale') ? n.a.float('scale', 0) : 1 / Math.sqrt(d);
  let qs: string, ks: string;
  if (scale > 0) {
    const root = e.scalar(Math.sqrt(scale), 'sqrt-scale');
    [qs, ks] = [e.op('Mul', [q, root], 'Q-scaled'), e.op('Mul', [k, root], 'K-scaled')];
  } else {
    [qs, ks] = [e.op('Mul', [q, e.scalar(scale, 'scale')], 'Q-scaled'), k];
  }
  const qk = e.op('MatMul', [qs, e.transpose(ks, [0, 1, 3, 2], 'Kᵀ')], 'QKᵀ');
  const softcap = n.a.float('softcap', 0);
  const capped = softcap > 0 ? e.op('Mul', [e.op('Tanh', [e.op('Div', [qk, e.scalar(softcap, 'softcap')], 'QKᵀ/softcap')], 'tanh'), e.scalar(softcap, 'softcap')], 'softcapped') : qk;

  let scores = capped;
  const maskName = n.ins[3];
  if (maskName) {
    const c = n.constAt(3);
    if (c) {
      scores = e.op('Add', [scores, e.const(constantBias(c, total), 'mask-bias')], 'masked');
    } else {
      const m = n.valueAnyBatch(3, 'attn_mask');
      const last = m.shape.length ? m.shape[m.shape.length - 1] : 1;
      if (last !== total && last !== 1) throw new NodeError(`attn_mask from the data has ${last} keys for the ${total} of K (only a constant mask is padded to the keys)`);
      if (m.dtype === 'int') throw new NodeError(`attn_mask ${quote(maskName)} holds integers; it must be boolean or float`);
      const bias = m.dtype === 'bool' ? additive(e, maskName, 'mask-bias') : maskName;
      scores = e.op('Add', [scores, bias], 'masked');
    }
  }
  const nonpad = n.ins[6];
  if (nonpad) {
    // Keys past a sample's valid length take no part: j < nonpad_kv_seqlen[b].
    scores = e.op('Add', [scores, lengthBias(e, nonpad, total, 'padding-bias')], 'unpadded');
  }
  if (n.a.int('is_causal', 0)) {
    if (nonpad && !pastKey) {
      // Per sample, the queries are the last `sq` of its nonpad keys: j ≤ i + nonpad[b] − sq.
      const offsets = new Array<number>(sq * total);
      for (let i = 0; i < sq; i++) for (let j = 0; j < total; j++) offsets[i * total + j] = j - i + sq;
      const need = e.const({ kind: 'int', dims: [sq, total], data: offsets }, 'causal-need');
      const lengths = e.unsqueeze(nonpad, [1, 2], 'causal-lengths');
      const allowed = e.op('LessOrEqual', [need, lengths], 'causal-allowed');
      const bias = additive(e, allowed, 'causal-bias');
      scores = e.op('Add', [scores, e.unsqueeze(bias, [1], 'causal-bias-4d')], 'causal');
    } else {
      const data = new Float32Array(sq * total);
      for (let i = 0; i < sq; i++) for (let j = 0; j < total; j++) data[i * total + j] = j > i + past ? -Infinity : 0;
      scores = e.op('Add', [scores, e.const({ kind: 'float', dims: [sq, total], data }, 'causal-bias')], 'causal');
    }
  }
  const probs = e.op('Softmax', [scores], 'softmax', [intAttr('axis', -1)]);
  let y = e.op('MatMul', [probs, v], 'attended');
  if (rank === 3) y = e.op('Reshape', [e.transpose(y, [0, 2, 1, 3], 'by-token'), e.ints([0, 0, -1], 'merge-heads')], 'merged');

  const mode = n.a.int('qk_matmul_output_mode', 0);
  const qkOut = [qk, scores, capped, probs][mode];
  if (qkOut === undefined) throw new NodeError(`attribute "qk_matmul_output_mode" is ${mode}; allowed: 0 (QKᵀ), 1 (with the mask), 2 (after the softcap), 3 (after the softmax)`);
  e.finish([y, presentKey, presentValue, qkOut]);
}

/** Attention ops by ONNX op type. */
export const ATTENTION_OPS: OpTable = {
  Attention: { activation: attention },
};
