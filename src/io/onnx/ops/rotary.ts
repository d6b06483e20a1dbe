/**
 * RotaryEmbedding (opset 23: RoPE, as in LLaMA-style attention) expanded into the nodes it is defined
 * by (Transpose or Reshape to [batch, sequence, heads, head size], Slice, Gather of the caches by
 * position, Mul, Sub, Add, Concat), following the operator's reference implementation
 * (onnx/reference/ops/op_rotary_embedding.py): the first `rotary_embedding_dim` features of each head
 * are rotated as halves, or as even/odd pairs when interleaved, and the rest pass through.
 */
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';
import { Expansion, dim, dimsOf } from './expansion.ts';

function rotaryEmbedding(n: NodeContext): void {
  const e = new Expansion(n);
  const dx = dimsOf(n, 0, 'X');
  let x = n.ins[0];
  let heads: number;
  if (dx.length === 4) {
    heads = dim(dx, 1, 'X heads');
    x = e.transpose(x, [0, 2, 1, 3], 'by-token');
  } else if (dx.length === 3) {
    if (!n.a.has('num_heads')) throw new NodeError('attribute "num_heads" is missing; a 3-D X [batch, sequence, hidden] needs it');
    heads = n.a.int('num_heads', 0);
    const hidden = dim(dx, 2, 'X hidden');
    if (!(heads > 0) || hidden % heads !== 0) throw new NodeError(`X's hidden size ${hidden} does not split into num_heads = ${heads} heads`);
    x = e.op('Reshape', [x, e.ints([0, 0, heads, -1], 'heads')], 'by-head');
  } else {
    throw new NodeError(`X has rank ${dx.length}; it must be 4 ([batch, heads, sequence, head size]) or 3 ([batch, sequence, hidden])`);
  }
  const head = dx.length === 4 ? dim(dx, 3, 'X head size') : dim(dx, 2, 'X hidden') / heads;
  const rot = n.a.int('rotary_embedding_dim', 0) || head;
  if (rot % 2 !== 0 || rot > head || rot < 0) throw new NodeError(`attribute "rotary_embedding_dim" is ${rot}; it must be even and at most the head size ${head}`);
  const half = rot / 2;
  for (const [i, what] of [[1, 'cos_cache'], [2, 'sin_cache']] as const) {
    const d = dimsOf(n, i, what);
    if (d[d.length - 1] !== half) throw new NodeError(`${what} ${quote(n.ins[i])} has ${String(d[d.length - 1])} entries per position; rotating ${rot} features needs ${half}`);
  }
  // The caches by position ([batch, sequence, half]), one row for every head.
  const cache = (i: number, what: string): string => {
    const table = n.ins[3] ? e.op('Gather', [n.ins[i], n.ins[3]], `${what}/at-positions`, []) : n.ins[i];
    return e.unsqueeze(table, [2], `${what}/per-head`);
  };
  const [cos, sin] = [cache(1, 'cos'), cache(2, 'sin')];
  const rotated = rot < head ? e.slice(x, 3, 0, rot, 'rotated') : x;
  const interleaved = n.a.int('interleaved', 0) !== 0;
  const x1 = interleaved ? e.slice(rotated, 3, 0, rot, 'even', 2) : e.slice(rotated, 3, 0, half, 'first-half');
  const x2 = interleaved ? e.slice(rotated, 3, 1, rot, 'odd', 2) : e.slice(rotated, 3, half, rot, 'second-half');
  const real = e.op('Sub', [e.op('Mul', [cos, x1], 'cos·x1'), e.op('Mul', [sin, x2], 'sin·x2')], 'real');
  const imag = e.op('Add', [e.op('Mul', [sin, x1], 'sin·x1'), e.op('Mul', [cos, x2], 'cos·x2')], 'imag');
  let y: string;
  if (interleaved) {
    const pair = (v: string, what: string): string => e.unsqueeze(v, [4], `${what}/pair`);
    y = e.op('Reshape', [e.concat([pair(real, 'real'), pair(imag, 'imag')], 4, 'pairs'), e.ints([0, 0, 0, rot], 'pairs/shape')], 'interleaved');
  } else {
    y = e.concat([real, imag], 3, 'halves');
  }
  if (rot < head) y = e.concat([y, e.slice(x, 3, rot, head, 'passed')], 3, 'with-rest');
  y = dx.length === 4 ? e.transpose(y, [0, 2, 1, 3], 'by-head-again') : e.op('Reshape', [y, e.ints([0, 0, -1], 'hidden')], 'merged');
  e.finish([y]);
}

/** RotaryEmbedding by ONNX op type. */
export const ROTARY_OPS: OpTable = {
  RotaryEmbedding: { activation: rotaryEmbedding },
};
