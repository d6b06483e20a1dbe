/**
 * Which values of a network are provably non-negative: how counts-only decides the number of passes
 * P_v of DESIGN.md section 5 without data. A crossbar layer whose input is proven ≥ 0 runs one pass
 * per vector (a full run finds no negative entry either); any other is charged two (countsOnlyLayer).
 * The proof is structural: ReLU, sigmoid, hard-sigmoid, exp, abs, sqrt, softmax, comparisons,
 * logical ops, ArgMax and a clip with min ≥ 0 produce values ≥ 0; ops that only move, pick, pad
 * (with a pad value ≥ 0), broadcast, pool, resize (nearest, or linear: a convex combination) or
 * concatenate elements keep the sign, as do GELU, erf, tanh, leaky-ReLU and LRN with a positive
 * denominator; sums, products, quotients, matrix products and reductions keep it when every operand
 * (constants included) is ≥ 0; a max is ≥ 0 when any operand is, a power when its base is. Linear,
 * Conv and ConvTranspose outputs, normalizations and log-softmax are treated as signed.
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
    case 'col2im':
    case 'layernorm':
    case 'instancenorm':
    case 'log-softmax':
      return false;
    case 'unary':
      switch (op.fn) {
        case 'relu':
        case 'sigmoid':
        case 'hard-sigmoid':
        case 'exp':
        case 'abs':
        case 'sqrt':
        case 'softplus':
        case 'bool':
        case 'not':
        case 'is-nan':
        case 'is-inf':
        case 'acos':
        case 'cosh':
        case 'acosh':
          return true;
        case 'thresholded-relu': // 0 or an input above alpha
          return op.alpha >= 0 || all;
        case 'clip':
          return op.min >= 0 || (all && op.max >= 0);
        case 'selu': // gamma·x above 0: keeps the sign when gamma > 0
          return all && (op.beta ?? 0) > 0;
        case 'log':
        case 'neg':
        case 'hard-swish': // negative for inputs in (−3, 0)
        case 'tan': // negative past π/2
        case 'shrink': // x − bias may be negative above lambd
          return false;
        default:
          // leaky-relu, elu, celu, softsign, mish, sign, tanh, gelu, erf, trunc, reciprocal, asin, atan,
          // sinh, asinh, atanh keep the sign of their input
          return all;
      }
    case 'binary':
      switch (op.fn) {
        case 'sub':
          return all && op.b !== null && !op.constFirst && op.b.data.every((v) => v <= 0);
        case 'equal':
        case 'less':
        case 'greater':
          return true;
        case 'max':
          return ins.some(Boolean) || (op.b !== null && allNonNegative(op.b));
        case 'pow':
          // x^y ≥ 0 for a base x ≥ 0, whatever the exponent
          return op.b !== null && op.constFirst ? allNonNegative(op.b) : ins[0];
        default:
          return all && allNonNegative(op.b);
      }
    case 'affine':
      return all && allNonNegative(op.scale) && allNonNegative(op.shift);
    case 'softmax':
    case 'argmax':
      return true;
    case 'topk':
      return op.gives === 'indices' || all;
    case 'lrn':
      return all && op.bias > 0 && op.alpha >= 0;
    case 'pad':
      return all && (op.mode !== 'constant' || op.value >= 0);
    case 'where':
      return ins[1] && ins[2];
    case 'constant':
      return allNonNegative(op.value);
    case 'lookup':
      return allNonNegative(op.table);
    case 'random':
      return op.dist === 'bernoulli' || (op.dist === 'uniform' && op.a >= 0);
    case 'gather-elements':
      return ins[0];
    case 'pool':
    case 'reshape':
    case 'transpose':
    case 'concat':
    case 'matmul':
    case 'reduce':
    case 'slice':
    case 'cumsum':
    case 'gather':
    case 'expand':
    case 'resize':
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
