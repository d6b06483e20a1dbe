/**
 * Einsum (opset 12+, what torch.einsum exports) of one or two operands, lowered to the IR ops the
 * other importers emit: sums over letters that only one operand has, transposes and reshapes, and one
 * product, a crossbar linear layer where the second operand is a constant indexed by no batch letter
 * ('btc,cd->btd'), a digital `matmul` otherwise ('bhqd,bhkd->bhqk'). Ellipses and the implicit output
 * are ONNX's; a letter repeated within one operand (a diagonal) and three or more operands are refused.
 */
import { count, floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { emitLinear, reshapeTo } from './matrix.ts';
import { emitReduce } from './reduce.ts';

/** An Einsum equation with ellipses expanded to letters: one term per operand, and the output's. */
export interface EinsumTerms {
  ins: string[];
  out: string;
}

/** Parses `equation` for operands of full ranks `ranks` (ONNX's grammar: letters, `...`, optional `->`). */
export function parseEinsum(equation: string, ranks: readonly number[]): EinsumTerms {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs, extra] = eq.split('->');
  if (extra !== undefined || !/^[a-zA-Z.,]*$/.test(lhs) || (rhs !== undefined && !/^[a-zA-Z.]*$/.test(rhs))) throw new NodeError(`equation ${JSON.stringify(equation)} is not of the form "ab,bc->ac"`);
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new NodeError(`equation ${JSON.stringify(equation)} has ${terms.length} operand terms for ${ranks.length} inputs`);
  const used = new Set(eq.replace(/[.,]/g, ''));
  const spare = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !used.has(c));
  let ellRank = 0;
  const expand = (t: string, rank: number | null): string => {
    const parts = t.split('...');
    if (parts.length > 2 || parts.some((p) => p.includes('.'))) throw new NodeError(`equation ${JSON.stringify(equation)}: term ${JSON.stringify(t)} has a stray "."`);
    if (parts.length === 1) {
      if (rank !== null && t.length !== rank) throw new NodeError(`equation ${JSON.stringify(equation)}: term ${JSON.stringify(t)} has ${t.length} letters for an input of rank ${rank}`);
      return t;
    }
    const n = rank === null ? ellRank : rank - parts[0].length - parts[1].length;
    if (n < 0) throw new NodeError(`equation ${JSON.stringify(equation)}: term ${JSON.stringify(t)} has more letters than its input's rank ${rank}`);
    if (rank !== null) ellRank = Math.max(ellRank, n);
    // Ellipsis dims align from the right, as numpy broadcasting does.
    return parts[0] + spare.slice(ellRank - n, ellRank).join('') + parts[1];
  };
  const expanded = terms.map((t, i) => expand(t, ranks[i]));
  const ellipsisLetters = spare.slice(0, ellRank).join('');
  let out: string;
  if (rhs !== undefined) out = expand(rhs, null);
  else {
    // Implicit output: the ellipsis dims, then every letter that occurs once, in alphabetical order.
    const all = terms.join('').replace(/\./g, '');
    out = ellipsisLetters + [...new Set(all)].filter((c) => all.split(c).length === 2).sort().join('');
  }
  for (const t of [...expanded, out]) {
    const dup = [...t].find((c, i) => t.indexOf(c) !== i);
    if (dup) throw new NodeError(`equation ${JSON.stringify(equation)}: letter "${dup}" repeats within one term (a diagonal or trace), which is not supported`);
  }
  for (const c of out) if (!expanded.some((t) => t.includes(c))) throw new NodeError(`equation ${JSON.stringify(equation)}: output letter "${c}" is in no input`);
  return { ins: expanded, out };
}

/** A constant's data permuted to `perm` (row-major). */
function permuteConst(c: Const, perm: readonly number[]): { dims: number[]; data: Float32Array } {
  const src = floatsOf(c, 'operand');
  const dims = perm.map((p) => c.dims[p]);
  const strides = c.dims.map((_, i) => count(c.dims.slice(i + 1)));
  const out = new Float32Array(src.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let d = 0; d < dims.length; d++) s += idx[d] * strides[perm[d]];
    out[o] = src[s];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return { dims, data: out };
}

/** One activation operand and its per-sample letters: sums, transposes and reshapes emitted into the IR. */
class Operand {
  constructor(private readonly n: NodeContext, public v: Value, public letters: string) {}

  /** Sums over the letters not in `keep`. */
  sumExcept(keep: string): void {
    const axes = [...this.letters].map((c, i) => (keep.includes(c) ? -1 : i)).filter((i) => i >= 0);
    if (axes.length === 0) return;
    this.v = emitReduce(this.n, 'sum', this.v, axes, false, this.n.imp.fresh(`${this.n.name}/sum`));
    this.letters = [...this.letters].filter((_, i) => !axes.includes(i)).join('');
  }

  /** Transposes to the letter order `to`, into `out` when given. */
  permute(to: string, out?: string): void {
    const perm = [...to].map((c) => this.letters.indexOf(c));
    const shape = perm.map((p) => this.v.shape[p]);
    if (perm.every((p, i) => p === i) && !out) return;
    const name = out ?? this.n.imp.fresh(`${this.n.name}/transpose`);
    if (perm.every((p, i) => p === i)) reshapeTo(this.n, this.v, shape, name);
    else this.n.imp.emit({ kind: 'transpose', name: this.n.name, inputs: [this.v.name], output: name, perm, inShape: this.v.shape }, shape);
    this.v = this.n.imp.valueOf(name)!;
    this.letters = to;
  }
}

function einsum(n: NodeContext): void {
  const present = n.ins.filter(Boolean).length;
  if (present < 1 || present > 2) throw new NodeError(`has ${present} operands; Einsum of one or two operands is supported`);
  const lead = n.lead;
  const a = n.value(0, 'Inputs[0]');
  const bConst = present === 2 ? n.constAt(1) : null;
  const bVal = present === 2 && !bConst ? n.value(1, 'Inputs[1]') : null;
  const ranks = [a.shape.length + lead, ...(present === 2 ? [bConst ? bConst.dims.length : bVal!.shape.length + lead] : [])];
  const terms = parseEinsum(n.a.str('equation', ''), ranks);
  let [ta, tb] = terms.ins;
  let to = terms.out;
  if (lead) {
    // The batch letter: the first of the activations' terms; it must lead the output and index no constant.
    const bl = ta[0];
    if (to[0] !== bl) throw new NodeError(`batch letter "${bl}" (input 0's first axis) must be the output's first letter, got "${terms.out}"`);
    if (bVal && tb[0] !== bl) throw new NodeError(`both operands are activations, so both must start with the batch letter "${bl}" (got "${tb}")`);
    if (bConst && tb.includes(bl)) throw new NodeError(`the constant operand is indexed by the batch letter "${bl}"`);
    ta = ta.slice(1);
    to = to.slice(1);
    if (bVal) tb = tb.slice(1);
  }
  const sizes = new Map<string, number>();
  const bShape = bConst ? bConst.dims : bVal?.shape ?? [];
  for (const [t, shape] of [[ta, a.shape], [tb ?? '', bShape]] as const) {
    [...t].forEach((c, i) => {
      const prev = sizes.get(c);
      if (prev !== undefined && prev !== shape[i]) throw new NodeError(`letter "${c}" has sizes ${prev} and ${shape[i]}`);
      sizes.set(c, shape[i]);
    });
  }
  const A = new Operand(n, a, ta);
  if (present === 1) {
    A.sumExcept(to);
    A.permute(to, n.out);
    return;
  }
  // Letters by role: shared and kept (batch), shared and summed (contracted), one side's and kept (free).
  const inOut = (c: string): boolean => to.includes(c);
  const batch = [...to].filter((c) => ta.includes(c) && tb.includes(c)).join('');
  const contracted = [...ta].filter((c) => tb.includes(c) && !inOut(c)).join('');
  const aFree = [...to].filter((c) => ta.includes(c) && !tb.includes(c)).join('');
  const bFree = [...to].filter((c) => tb.includes(c) && !ta.includes(c)).join('');
  const size = (s: string): number => count([...s].map((c) => sizes.get(c)!));
  A.sumExcept(batch + aFree + contracted);
  A.permute(batch + aFree + contracted);
  const [M, K, N] = [size(aFree), size(contracted), size(bFree)];
  const batchDims = [...batch].map((c) => sizes.get(c)!);
  const a3 = reshaped(n, A.v, [...batchDims, M, K]);
  const prodShape = [...batchDims, ...[...aFree].map((c) => sizes.get(c)!), ...[...bFree].map((c) => sizes.get(c)!)];
  let prod: Value;
  if (bConst) {
    const onlyB = [...tb].filter((c) => !ta.includes(c) && !inOut(c));
    if (onlyB.length > 0) throw new NodeError(`the constant operand's letters "${onlyB.join('')}" are summed away before the product; sum the constant in the model instead`);
    const w = permuteConst(bConst, [...(batch + contracted + bFree)].map((c) => tb.indexOf(c)));
    if (batch.length === 0) {
      // activations × a constant matrix: the crossbar layer, over [M, K] rows of each sample.
      prod = emitLinear(n, a3, K, N, w.data, null, n.imp.fresh(`${n.name}/linear`));
    } else {
      const bv = n.constValue({ kind: 'float', dims: [...batchDims, K, N], data: w.data }, [...batchDims, K, N], 'B');
      prod = matmulOf(n, a3, bv);
    }
  } else {
    const B = new Operand(n, bVal!, tb);
    B.sumExcept(batch + contracted + bFree);
    B.permute(batch + contracted + bFree);
    prod = matmulOf(n, a3, reshaped(n, B.v, [...batchDims, K, N]));
  }
  const P = new Operand(n, reshaped(n, prod, prodShape), batch + aFree + bFree);
  P.permute(to, n.out);
}

/** `v` reshaped to `shape`: itself when it already has that shape. */
function reshaped(n: NodeContext, v: Value, shape: number[]): Value {
  return v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i]) ? v : reshapeTo(n, v, shape);
}

/** The digital product of [..., M, K] and [..., K, N] activations. */
function matmulOf(n: NodeContext, a: Value, b: Value): Value {
  const outShape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]];
  const out = n.imp.fresh(`${n.name}/matmul`);
  n.imp.emit({ kind: 'matmul', name: n.name, inputs: [a.name, b.name], output: out, aShape: a.shape, bShape: b.shape, outShape }, outShape);
  return n.imp.valueOf(out)!;
}

/** Largest Einsum of constants folded: output elements times the summed letters' extent. */
const MAX_FOLDED_TERMS = 1 << 26;

/**
 * Einsum of constants (rotary embeddings' torch.einsum('i,j->ij', t, inv_freq) of positions and
 * frequencies): every output element summed over the letters it lacks, broadcasting dims of 1.
 */
function foldEinsum(n: NodeContext): Const {
  const cs = n.ins.map((_, i) => n.constIn(i, `input ${i}`));
  const t = parseEinsum(n.a.str('equation', ''), cs.map((c) => c.dims.length));
  const size = new Map<string, number>();
  t.ins.forEach((term, k) => [...term].forEach((c, i) => {
    const d = cs[k].dims[i];
    const have = size.get(c);
    if (have !== undefined && have !== d && have !== 1 && d !== 1) throw new NodeError(`equation letter "${c}" has sizes ${have} and ${d}`);
    if (have === undefined || have === 1) size.set(c, d);
  }));
  const letters = [...size.keys()];
  const summed = letters.filter((c) => !t.out.includes(c));
  const outDims = [...t.out].map((c) => size.get(c)!);
  const total = count(outDims) * count(summed.map((c) => size.get(c)!));
  if (total > MAX_FOLDED_TERMS) throw new NodeError(`an Einsum of constants with ${total} terms is too large to fold`);
  const data = cs.map((c) => floatsOf(c, 'input'));
  // Per operand, the stride of each letter (0 where its dim is 1: broadcast).
  const strides = t.ins.map((term, k) => {
    const dims = cs[k].dims;
    const m = new Map<string, number>();
    let s = 1;
    for (let i = term.length - 1; i >= 0; i--) {
      m.set(term[i], (m.get(term[i]) ?? 0) + (dims[i] === 1 ? 0 : s));
      s *= dims[i];
    }
    return m;
  });
  const order = [...t.out, ...summed];
  const extents = order.map((c) => size.get(c)!);
  const out = new Float32Array(count(outDims));
  const idx = new Array<number>(order.length).fill(0);
  const inner = count(summed.map((c) => size.get(c)!));
  for (let o = 0; o < out.length; o++) {
    let acc = 0;
    for (let r = 0; r < inner; r++) {
      let rem = o * inner + r;
      for (let j = order.length - 1; j >= 0; j--) {
        idx[j] = rem % extents[j];
        rem = Math.floor(rem / extents[j]);
      }
      let prod = 1;
      for (let k = 0; k < cs.length; k++) {
        let at = 0;
        order.forEach((c, j) => (at += (strides[k].get(c) ?? 0) * idx[j]));
        prod *= data[k][at];
      }
      acc += prod;
    }
    out[o] = acc;
  }
  return { kind: 'float', dims: outDims, data: out };
}

/** Einsum by ONNX op type. */
export const EINSUM_OPS: OpTable = {
  Einsum: { activation: einsum, fold: foldEinsum },
};
