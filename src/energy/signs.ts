/**
 * Which values of a network are provably non-negative: how counts-only decides the number of passes
 * P_v of DESIGN.md section 5 without data. A crossbar layer whose input is proven ≥ 0 runs one pass
 * per vector (a full run finds no negative entry either); any other is charged two (countsOnlyLayer).
 * The proof is structural: ReLU, sigmoid, softmax and a clip with min ≥ 0 produce values ≥ 0;
 * pooling, reshapes, transposes and concatenations keep the sign; sums and products keep it when
 * every operand (constants included) is ≥ 0. Linear and Conv outputs are treated as signed.
 */
import type { ConstTensor, NetOp, Network } from '../ir/graph.ts';

const allNonNegative = (t: ConstTensor | Float32Array | null): boolean => {
  if (!t) return true;
  const d = t instanceof Float32Array ? t : t.data;
  for (const v of d) if (!(v >= 0)) return false;
  return true;
};

/** Whether `op`'s output is ≥ 0, given which of its inputs are. */
function outputNonNegative(op: NetOp, known: (name: string) => boolean): boolean {
  const ins = op.inputs.map(known);
  const all = ins.every(Boolean);
  switch (op.kind) {
    case 'linear':
    case 'conv':
      return false;
    case 'unary':
      if (op.fn === 'relu' || op.fn === 'sigmoid') return true;
      if (op.fn === 'clip') return op.min >= 0 || (all && op.max >= 0);
      return all; // leaky-relu and tanh keep the sign of their input
    case 'binary':
      if (op.fn === 'sub') return all && op.b !== null && !op.constFirst && op.b.data.every((v) => v <= 0);
      return all && allNonNegative(op.b);
    case 'affine':
      return all && allNonNegative(op.scale) && allNonNegative(op.shift);
    case 'softmax':
      return true;
    case 'pool':
    case 'reshape':
    case 'transpose':
    case 'concat':
      return all;
    default:
      // An op kind this analysis does not know: its sign is unknown (P_v = 2 for layers it feeds).
      return false;
  }
}

/**
 * For each value of `net`, whether it is provably ≥ 0. `inputNonNegative` says whether the network
 * input is (e.g. raw pixels in [0, 1]); by default it is not (a mean-subtracted image).
 */
export function nonNegativeValues(net: Network, inputNonNegative: boolean): Map<string, boolean> {
  const sign = new Map<string, boolean>([[net.input.name, inputNonNegative]]);
  for (const op of net.ops) sign.set(op.output, outputNonNegative(op, (n) => sign.get(n) ?? false));
  return sign;
}
