/**
 * ONNX Runtime's fused transformer ops (domain com.microsoft) that its transformer optimizer and
 * dynamic quantization write for BERT- and GPT-style models: Attention (one packed Q/K/V projection)
 * and QAttention (its quantized form), MultiHeadAttention (projected Q, K and V), GroupQueryAttention
 * (over a whole sequence), EmbedLayerNormalization (word, position and segment embeddings summed and
 * layer-normalized, with the mask's lengths) and QEmbedLayerNormalization, and RotaryEmbedding. Each
 * expands into default-domain nodes, the attention itself into the opset-23 Attention node
 * (attention.ts), as ONNX Runtime's CPU kernels compute them: Attention's and MultiHeadAttention's
 * padded keys get mask_filter_value (default −10000) added to their scores (GroupQueryAttention's take
 * no part), the scale multiplies Q·Kᵀ only, and causal masking is aligned after a past cache.
 */
import { count, floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';
import { additive, lengthBias } from './attention.ts';
import { CONTRIB_DOMAIN, dequantizedActivation } from './contrib.ts';
import { Expansion, copied, dim, dimsOf, floatAttr, intAttr } from './expansion.ts';


/**
 * The additive score bias of ONNX Runtime's mask input `i` (Attention's mask_index, MultiHeadAttention's
 * key_padding_mask), [batch, 1, 1 or S, T], or null for none: per sample a length (keys from it on
 * masked), a 0/1 row over the keys, or a [S, T] matrix, masked where not > 0. A (batch, 1) mask means
 * none, as in ONNX Runtime.
 */
function maskBias(n: NodeContext, e: Expansion, i: number, total: number, what: string): string | null {
  const name = n.ins[i];
  if (!name) return null;
  const c = n.constAt(i);
  if (c) {
    if (count(c.dims) === 1 && c.dims.length === 2) return null;
    throw new NodeError(`${what} is a constant of dims [${c.dims.join(', ')}], which fixes the batch size; it must come from the data (only a dummy [1, 1] is taken, as no mask)`);
  }
  // The mask's layouts are told apart by their per-sample shapes, which need the batch axis.
  if (!n.imp.batched) throw new NodeError(`${what} from the data needs a batched import (a batch dimension on the inputs)`);
  const m = n.valueAnyBatch(i, what);
  const filter = n.a.float('mask_filter_value', -10000);
  if (m.shape.length === 0) return lengthBias(e, name, total, 'mask-bias', filter);
  if (m.shape.length === 1 && m.shape[0] === 1) return null;
  const rows = (axes: number[]): string => e.unsqueeze(additive(e, e.op('Greater', [name, e.scalar(0, 'mask-zero')], 'keep'), 'mask-bias', filter), axes, 'mask-bias-4d');
  if (m.shape.length === 1 && m.shape[0] === total) return rows([1, 2]);
  if (m.shape.length === 2 && m.shape[1] === total) return rows([1]);
  throw new NodeError(`${what} ${quote(name)} has per-sample shape [${m.shape.join(', ')}]; supported: [] (lengths), [${total}] (a 0/1 row over the keys), [S, ${total}] or [1] (none). End-and-start (2·batch) and 4-D masks are not supported`);
}

/** The mask bias plus attention_bias (input `i`), either or both absent. */
function scoreBias(n: NodeContext, e: Expansion, mask: string | null, i: number): string {
  const extra = n.ins[i] ?? '';
  if (mask && extra) return e.op('Add', [mask, extra], 'score-bias');
  return mask ?? extra;
}

/** The opset-23 Attention node of the expansion, 3-D Q, K and V with `heads` heads; its outputs (y, present_key, present_value, qk). */
function attend(n: NodeContext, e: Expansion, q: string, k: string, v: string, bias: string, heads: number, past: [string, string] | null): string[] {
  const attrs = [intAttr('q_num_heads', heads), intAttr('kv_num_heads', heads), intAttr('is_causal', n.a.int('unidirectional', 0)), intAttr('qk_matmul_output_mode', 1)];
  const scale = n.a.float('scale', 0);
  if (scale !== 0) attrs.push(floatAttr('scale', scale));
  return e.ops('Attention', [q, k, v, bias, ...(past ? past : [])], 'attention', ['', 'present-key', 'present-value', 'qk'], attrs);
}

function heads(n: NodeContext): number {
  const h = n.a.int('num_heads', 0);
  if (!(h > 0)) throw new NodeError(`attribute "num_heads" is ${h}; it must be a positive integer`);
  return h;
}

/** `x[..., start:end]` on the last of three axes. */
const columns = (e: Expansion, x: string, start: number, end: number, what: string): string => e.slice(x, 2, start, end, what);

/**
 * Attention (com.microsoft): input [batch, S, D_in] times the packed weights [D_in, D + D + D_v]
 * (Q, K and V blocks, head n at columns n·H … (n + 1)·H of each) plus bias, one crossbar layer; self
 * attention over the sequence. A past state is not supported.
 */
function attention(n: NodeContext): void {
  const e = new Expansion(n);
  selfAttention(n, e, n.ins[0], n.ins[1], n.constIn(1, 'weights').dims, n.ins[2] ?? '', 4, 3, 5);
}

/**
 * QAttention (com.microsoft), Attention on a quantized input (input_scale and input_zero_point may be
 * computed: dynamic quantization) with int8 or uint8 weights, per tensor or per column.
 */
function qAttention(n: NodeContext): void {
  const e = new Expansion(n);
  const x = dequantizedActivation(e, n.ins[0], n.ins[3], n.ins[6] ?? '', 'input');
  const w = n.constIn(1, 'weight');
  if (w.dims.length !== 2) throw new NodeError(`weight has dims [${w.dims.join(', ')}]; it must be [input_hidden, 3·hidden]`);
  // Scale and zero point are each per tensor or per column, independently (ONNX Runtime's attention_quant.cc).
  const cols = w.dims[1];
  const perColumn = (c: Const | null, what: string): ((j: number) => number) => {
    const v = c ? floatsOf(c, what) : Float32Array.of(0);
    if (v.length !== 1 && v.length !== cols) throw new NodeError(`${what} has ${v.length} values; it must be one or ${cols} (one per column)`);
    return (j) => v[v.length === 1 ? 0 : j];
  };
  const [scale, wZero] = [perColumn(n.constIn(4, 'weight_scale'), 'weight_scale'), perColumn(n.optConst(7, 'weight_zero_point'), 'weight_zero_point')];
  const wf = e.const({ kind: 'float', dims: w.dims, data: Float32Array.from(floatsOf(w, 'weight'), (q, i) => (q - wZero(i % cols)) * scale(i % cols)) }, 'weight-float');
  selfAttention(n, e, x, wf, w.dims, n.ins[2], 8, 5, null);
}

/**
 * Self attention of x [batch, S, D_in] through packed weights [D_in, D + D + D_v] (Q, K and V blocks,
 * head n at columns n·H … (n + 1)·H of each) plus bias, one crossbar layer, as the node's output:
 * Attention's and QAttention's shared body. A past state (input `pastAt`) is not supported.
 */
function selfAttention(n: NodeContext, e: Expansion, x: string, w: string, wDims: readonly number[], bias: string, pastAt: number, maskAt: number, attentionBiasAt: number | null): void {
  const N = heads(n);
  if (n.ins[pastAt] || n.a.int('past_present_share_buffer', 0)) throw new NodeError(`a past state (input ${pastAt}, past_present_share_buffer) is not supported; the decomposed form (MultiHeadAttention with past_key and past_value) is`);
  if (n.a.int('do_rotary', 0)) throw new NodeError('attribute "do_rotary" is 1; rotary embedding inside Attention is not supported (ONNX Runtime\'s CPU kernel refuses it too)');
  for (const o of n.outs.slice(1)) if (o && n.imp.usesOf(o) > 0) throw new NodeError(`its present output ${quote(o)} is used, which is not supported`);
  const dx = dimsOf(n, 0, 'input');
  if (dx.length !== 3 || wDims.length !== 2) throw new NodeError(`input has rank ${dx.length} and weights ${wDims.length}; ${n.op} takes a [batch, sequence, hidden] input and [hidden, 3·hidden] weights`);
  const sizes = n.a.ints('qkv_hidden_sizes', null) ?? [wDims[1] / 3, wDims[1] / 3, wDims[1] / 3];
  if (sizes.length !== 3 || sizes.some((s) => !Number.isInteger(s) || s % N !== 0) || sizes[0] !== sizes[1] || sizes[0] + sizes[1] + sizes[2] !== wDims[1]) {
    throw new NodeError(`the weights' ${wDims[1]} columns do not split into Q, K and V of [${sizes.join(', ')}] (qkv_hidden_sizes: Q and K equal, each a multiple of num_heads = ${N})`);
  }
  const product = e.op('MatMul', [x, w], 'qkv');
  const qkv = bias ? e.op('Add', [product, bias], 'qkv-biased') : product;
  const [dq, dk] = sizes;
  const q = columns(e, qkv, 0, dq, 'Q');
  const k = columns(e, qkv, dq, dq + dk, 'K');
  const v = columns(e, qkv, dq + dk, dq + dk + sizes[2], 'V');
  const total = dim(dx, 1, 'input sequence');
  const mask = maskBias(n, e, maskAt, total, 'mask_index');
  e.finish([attend(n, e, q, k, v, attentionBiasAt === null ? mask ?? '' : scoreBias(n, e, mask, attentionBiasAt), N, null)[0]]);
}

/**
 * MultiHeadAttention (com.microsoft): projected query [batch, S, D], key and value [batch, L, D(_v)]
 * (or [batch, N, L, H] for cross attention, without their bias), a bias for all three, past_key and
 * past_value ([batch, N, P, H]) with present_key, present_value and qk out. Packed Q/K/V forms are not
 * supported, as in ONNX Runtime's CPU kernel.
 */
function multiHeadAttention(n: NodeContext): void {
  const N = heads(n);
  const dq = dimsOf(n, 0, 'query');
  if (dq.length !== 3) throw new NodeError(`query has rank ${dq.length}; only [batch, sequence, hidden] is supported (packed Q/K/V is not)`);
  if (!n.ins[1] || !n.ins[2]) throw new NodeError('key and value must be given (packed Q/K/V is not supported)');
  if (n.ins[8] || n.ins[9]) throw new NodeError('past_sequence_length and cache_indirection (a shared past buffer, beam search) are not supported');
  const dk = dimsOf(n, 1, 'key');
  const D = dim(dq, 2, 'query hidden');
  const e = new Expansion(n);
  let [q, k, v] = [n.ins[0], n.ins[1], n.ins[2]];
  const bnsh = dk.length === 4;
  if (bnsh && (n.ins[6] || n.ins[7])) throw new NodeError('key and value in [batch, heads, length, head size] take no past_key or past_value');
  if (n.ins[3]) {
    const bias = n.ins[3];
    const dv = dimsOf(n, 2, 'value');
    const Dv = dim(dv, dv.length - 1, 'value hidden') * (bnsh ? N : 1);
    const part = (start: number, end: number, what: string): string => e.slice(bias, 0, start, end, what);
    q = e.op('Add', [q, part(0, D, 'Q-bias')], 'Q-biased');
    // Cross attention's key and value in BNSH are used as they are: ONNX Runtime adds no bias to them.
    if (!bnsh) [k, v] = [e.op('Add', [k, part(D, 2 * D, 'K-bias')], 'K-biased'), e.op('Add', [v, part(2 * D, 2 * D + Dv, 'V-bias')], 'V-biased')];
  }
  if (bnsh) {
    // [batch, N, L, H] → [batch, L, N·H], the layout the 3-D Attention node splits again.
    const merge = (x: string, what: string): string => e.op('Reshape', [e.transpose(x, [0, 2, 1, 3], `${what}/by-token`), e.ints([0, 0, -1], `${what}/merged`)], `${what}-3d`);
    [k, v] = [merge(k, 'K'), merge(v, 'V')];
  }
  const past = n.ins[6] && n.ins[7] ? ([n.ins[6], n.ins[7]] as [string, string]) : null;
  if (!!n.ins[6] !== !!n.ins[7]) throw new NodeError('past_key and past_value must be given together');
  const L = dim(dk, bnsh ? 2 : 1, 'key length');
  const P = past ? dim(dimsOf(n, 6, 'past_key'), 2, 'past length') : 0;
  const outs = attend(n, e, q, k, v, scoreBias(n, e, maskBias(n, e, 4, P + L, 'key_padding_mask'), 5), N, past);
  e.finish(outs);
}

/**
 * EmbedLayerNormalization (com.microsoft): word embeddings of input_ids plus position embeddings (of
 * position_ids, or 0 … S−1) plus segment embeddings, layer-normalized over the hidden axis; mask_index
 * is the number of mask entries equal to 1 per sample, embedding_sum the sum before normalization.
 */
function embedLayerNorm(n: NodeContext): void {
  const ids = dimsOf(n, 0, 'input_ids');
  if (ids.length !== 2) throw new NodeError(`input_ids has rank ${ids.length}; it must be [batch, sequence]`);
  const S = dim(ids, 1, 'sequence');
  if (!!n.ins[1] !== !!n.ins[4]) throw new NodeError('segment_ids and segment_embedding must be given together');
  const maskIndex = n.outs[1];
  if (maskIndex && n.imp.usesOf(maskIndex) > 0 && !n.ins[7]) throw new NodeError(`its mask_index output ${quote(maskIndex)} is used but no mask is given (ONNX Runtime would give zeros, masking every key)`);
  const e = new Expansion(n);
  const words = e.op('Gather', [n.ins[2], n.ins[0]], 'words');
  const positions = n.ins[8] ? e.op('Gather', [n.ins[3], n.ins[8]], 'positions') : e.slice(n.ins[3], 0, 0, S, 'positions');
  let sum = e.op('Add', [words, positions], 'word-position');
  if (n.ins[1]) sum = e.op('Add', [sum, e.op('Gather', [n.ins[4], n.ins[1]], 'segments')], 'embedding-sum');
  const eps = floatAttr('epsilon', n.a.float('epsilon', 1e-12));
  const out = e.op('LayerNormalization', [sum, n.ins[5], n.ins[6]], 'normed', [intAttr('axis', -1), eps]);
  let lengths: string | null = null;
  if (n.ins[7]) {
    const ones = e.op('Cast', [e.op('Equal', [n.ins[7], e.ints([1], 'one')], 'is-one')], 'is-one-float', [intAttr('to', 1)]);
    lengths = e.reduce('ReduceSum', ones, [1], false, 'mask-index');
  }
  e.finish([out, lengths, sum]);
}

/**
 * QEmbedLayerNormalization (com.microsoft): EmbedLayerNormalization with its tables, gamma and beta
 * quantized per tensor (inputs 2–6 quantized, 8–12 their scales, 13–17 their zero points): each
 * dequantized (a constant, so it folds), then the float op.
 */
function qEmbedLayerNorm(n: NodeContext): void {
  const e = new Expansion(n);
  const table = (i: number, what: string): string => (n.ins[i] ? e.op('DequantizeLinear', [n.ins[i], n.ins[i + 6] ?? '', n.ins[i + 11] ?? ''], `${what}-float`) : '');
  for (const [i, what] of [[2, 'word_embedding'], [3, 'position_embedding'], [5, 'gamma'], [6, 'beta']] as const) {
    if (!n.ins[i + 6]) throw new NodeError(`${what}_scale (input ${i + 6}) is missing`);
  }
  const inputs = [n.ins[0], n.ins[1] ?? '', table(2, 'word'), table(3, 'position'), table(4, 'segment'), table(5, 'gamma'), table(6, 'beta'), n.ins[7] ?? ''];
  const eps = floatAttr('epsilon', n.a.float('epsilon', 1e-12));
  const outs = e.ops('EmbedLayerNormalization', inputs, 'embedded', ['', 'mask-index'], [eps], CONTRIB_DOMAIN);
  e.finish(outs);
}

/**
 * RotaryEmbedding (com.microsoft): (input, position_ids, cos_cache, sin_cache), the opset-23 node's
 * rotation with its inputs in another order; position_ids [batch, S] from the data, a constant [1, S]
 * or [batch, S], or a constant [1] offset (positions offset … offset + S − 1).
 */
function rotaryEmbedding(n: NodeContext): void {
  if (n.a.float('scale', 1) !== 1) throw new NodeError(`attribute "scale" is ${n.a.float('scale', 1)}; only 1 is supported`);
  if (n.a.int('is_packed_batching', 0)) throw new NodeError('attribute "is_packed_batching" is 1; packed batching is not supported');
  const dx = dimsOf(n, 0, 'input');
  const S = dim(dx, dx.length === 4 ? 2 : 1, 'input sequence');
  const e = new Expansion(n);
  let positions = n.ins[1];
  const c = n.constAt(1);
  const range = (offset: number, dims: number[]): string => e.const({ kind: 'int', dims, data: Array.from({ length: S }, (_, s) => offset + s) }, 'positions');
  if (c && count(c.dims) === 1 && c.dims.length <= 1) positions = range(Number(c.data[0]), [1, S]);
  if (!c) {
    // One start offset per sample from the data (a scalar or [1]): positions offset … offset + S − 1.
    const v = n.valueAnyBatch(1, 'position_ids');
    if (count(v.shape) === 1 && v.shape.length <= 1) positions = e.op('Add', [range(0, [1, S]), v.shape.length ? positions : e.unsqueeze(positions, [1], 'offset')], 'positions-from-offset');
  }
  const attrs = copied(n, ['interleaved', 'num_heads', 'rotary_embedding_dim']);
  if (dx.length === 3 && !n.a.int('num_heads', 0)) {
    // ONNX Runtime takes the head size from the cache (2 entries per rotated pair) when neither is given.
    if (n.a.int('rotary_embedding_dim', 0)) throw new NodeError('a 3-D input with rotary_embedding_dim but no num_heads leaves the head size unknown; give num_heads');
    const head = 2 * dim(dimsOf(n, 2, 'cos_cache'), 1, 'cos_cache width');
    const hidden = dim(dx, 2, 'input hidden');
    if (hidden % head !== 0) throw new NodeError(`input hidden size ${hidden} is not a multiple of the head size ${head} the cos_cache implies`);
    attrs.push(intAttr('num_heads', hidden / head));
  }
  e.finish([e.op('RotaryEmbedding', [n.ins[0], n.ins[2], n.ins[3], positions], 'rotated', attrs)]);
}

/**
 * GroupQueryAttention (com.microsoft), for a whole sequence without a past (a prompt, or an evaluation
 * of a decoder on given text): query [batch, S, N·H] with key and value [batch, S, kvN·H] (or all three
 * packed in query), causal, keys from seqlens_k + 1 on masked (right padding), rotary embedding of Q
 * and K at positions 0 … S − 1 with do_rotary, softcap. A past cache, sliding windows, smooth softmax
 * and head sinks are refused.
 */
function groupQueryAttention(n: NodeContext): void {
  const N = heads(n);
  const kvN = n.a.int('kv_num_heads', 0);
  if (!(kvN > 0) || N % kvN !== 0) throw new NodeError(`attribute "kv_num_heads" is ${kvN}; it must be a positive divisor of num_heads = ${N}`);
  if (n.ins[3] || n.ins[4]) throw new NodeError('a past key/value cache (inputs 3 and 4) is not supported; GroupQueryAttention is imported for a whole sequence at once (a prompt)');
  if (n.a.int('local_window_size', -1) !== -1) throw new NodeError(`attribute "local_window_size" is ${n.a.int('local_window_size', -1)}; sliding-window attention is not supported`);
  if (n.a.int('smooth_softmax', 0)) throw new NodeError('attribute "smooth_softmax" is 1; it is not supported');
  if (n.a.int('qk_output', 0)) throw new NodeError(`attribute "qk_output" is ${n.a.int('qk_output', 0)}; only 0 is supported`);
  if (n.ins[9] || n.ins[10] || n.ins[11]) throw new NodeError('position_ids, attention_bias and head_sink (inputs 9–11) are not supported');
  const dq = dimsOf(n, 0, 'query');
  if (dq.length !== 3) throw new NodeError(`query has rank ${dq.length}; it must be [batch, sequence, hidden]`);
  const S = dim(dq, 1, 'query sequence');
  const total = n.constAt(6);
  if (total && n.scalar(total, 'total_sequence_length') !== S) throw new NodeError(`total_sequence_length is ${n.scalar(total, 'total_sequence_length')} for a sequence of ${S}; without a past they must be equal`);
  const e = new Expansion(n);
  let [q, k, v] = [n.ins[0], n.ins[1], n.ins[2]];
  if (!k || !v) {
    if (k || v) throw new NodeError('key and value must be given together, or both left out (Q, K and V packed in query)');
    const packed = dim(dq, 2, 'query hidden');
    if (packed % (N + 2 * kvN) !== 0) throw new NodeError(`packed query hidden size ${packed} does not split into ${N} + 2·${kvN} heads`);
    const H = packed / (N + 2 * kvN);
    [q, k, v] = [columns(e, q, 0, N * H, 'Q'), columns(e, q, N * H, (N + kvN) * H, 'K'), columns(e, q, (N + kvN) * H, packed, 'V')];
  }
  if (n.a.int('do_rotary', 0)) {
    if (!n.ins[7] || !n.ins[8]) throw new NodeError('do_rotary is 1 but cos_cache or sin_cache (inputs 7 and 8) is missing');
    const positions = e.const({ kind: 'int', dims: [1, S], data: Array.from({ length: S }, (_, s) => s) }, 'positions');
    // A cache narrower than half a head rotates only the first 2·width features (partial rotary).
    const width = dimsOf(n, 7, 'cos_cache')[1];
    const rotAttrs = [intAttr('interleaved', n.a.int('rotary_interleaved', 0)), ...(typeof width === 'number' ? [intAttr('rotary_embedding_dim', 2 * width)] : [])];
    const rope = (x: string, h: number, what: string): string => e.op('RotaryEmbedding', [x, n.ins[7], n.ins[8], positions], `${what}-rotated`, [intAttr('num_heads', h), ...rotAttrs]);
    [q, k] = [rope(q, N, 'Q'), rope(k, kvN, 'K')];
  }
  // Right padding: keys from seqlens_k[b] + 1 on take no part.
  const bias = lengthBias(e, e.op('Add', [n.ins[5], e.ints([1], 'one')], 'lengths'), S, 'padding-bias');
  const attrs = [intAttr('q_num_heads', N), intAttr('kv_num_heads', kvN), intAttr('is_causal', 1)];
  for (const a of ['scale', 'softcap']) if (n.a.float(a, 0) !== 0) attrs.push(floatAttr(a, n.a.float(a, 0)));
  const [y, presentKey, presentValue] = e.ops('Attention', [q, k, v, bias], 'attention', ['', 'present-key', 'present-value'], attrs);
  e.finish([y, presentKey, presentValue]);
}

/** ONNX Runtime's fused attention ops (domain com.microsoft) by op type. */
export const CONTRIB_ATTENTION_OPS: OpTable = {
  Attention: { activation: attention },
  QAttention: { activation: qAttention },
  MultiHeadAttention: { activation: multiHeadAttention },
  EmbedLayerNormalization: { activation: embedLayerNorm },
  QEmbedLayerNormalization: { activation: qEmbedLayerNorm },
  RotaryEmbedding: { activation: rotaryEmbedding },
  GroupQueryAttention: { activation: groupQueryAttention },
};
