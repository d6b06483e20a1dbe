/**
 * Comparisons, logic and remainders that the IR composes from its binary and unary ops:
 * GreaterOrEqual and LessOrEqual (`x >= 0`), And, Or and Xor of booleans (`(x > 0) & (x < 1)`), and Mod
 * (torch.fmod, torch.remainder). Booleans are exact 0/1 values; constants fold.
 */
import type { BinaryFn, UnaryFn } from '../../../ir/graph.ts';
import { broadcastShapes, floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { broadcastIndex } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { DType, NodeContext, OpImporter, OpTable } from '../node.ts';
import { emitBinary, emitChain, emitUnary, operandAt, type Operand } from './elementwise.ts';

/** An operand of a step: input A, input B, or an earlier step's result (its index). */
type Ref = 'A' | 'B' | number;
type Step = { fn: BinaryFn; a: Ref; b: Ref } | { un: UnaryFn; x: Ref; dtype: DType };

/** Elementwise on two constants with numpy broadcasting; `bool` results are 0/1 integers. */
function foldPair(n: NodeContext, f: (a: number, b: number) => number, bool: boolean): Const {
  const [a, b] = [n.constIn(0, 'A'), n.constIn(1, 'B')];
  const dims = broadcastShapes(a.dims, b.dims);
  if (!dims) throw new NodeError(`shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`);
  const [fa, fb] = [floatsOf(a, 'A'), floatsOf(b, 'B')];
  const ib = broadcastIndex(b.dims, dims);
  const values = broadcastIndex(a.dims, dims).map((i, o) => f(fa[i], fb[ib[o]]));
  if (bool || (a.kind === 'int' && b.kind === 'int')) return { kind: 'int', dims, data: values };
  return { kind: 'float', dims, data: Float32Array.from(values) };
}

/** An op of two inputs as a chain of IR steps on activations (the last writes the output), `f` on constants. */
function composite(steps: (n: NodeContext) => Step[], f: (n: NodeContext) => (a: number, b: number) => number, bool: boolean): OpImporter {
  return {
    fold: (n) => foldPair(n, f(n), bool),
    activation(n) {
      const inputs: Record<'A' | 'B', Operand> = { A: operandAt(n, 0, 'A'), B: operandAt(n, 1, 'B') };
      const done: Operand[] = [];
      const get = (r: Ref): Operand => (typeof r === 'number' ? done[r] : inputs[r]);
      const chain = steps(n);
      emitChain(n, chain.length, (k, out, name) => {
        const s = chain[k];
        if ('fn' in s) {
          // A quotient stays exact (no integer truncation): Mod rounds it itself.
          emitBinary(n, s.fn, get(s.a), get(s.b), out, name, true);
        } else {
          const x = get(s.x);
          if (!x.v) throw new NodeError('a unary step of a constant (internal: constants fold)');
          emitUnary(n, s.un, x.v, out, name, s.dtype);
        }
        done.push({ v: n.imp.valueOf(out)! });
      });
    },
  };
}

const orEqual = (fn: 'greater' | 'less'): Step[] => [{ fn, a: 'A', b: 'B' }, { fn: 'equal', a: 'A', b: 'B' }, { fn: 'max', a: 0, b: 1 }];

/** ONNX Mod: fmod = 1 keeps the dividend's sign (C fmod), fmod = 0 the divisor's (Python's %). */
function modSteps(n: NodeContext): Step[] {
  const x = operandAt(n, 0, 'A');
  const dtype: DType = x.v ? x.v.dtype : x.c.kind === 'float' ? 'float' : 'int';
  return [{ fn: 'div', a: 'A', b: 'B' }, { un: fmodOf(n) ? 'trunc' : 'floor', x: 0, dtype }, { fn: 'mul', a: 'B', b: 1 }, { fn: 'sub', a: 'A', b: 2 }];
}

function fmodOf(n: NodeContext): boolean {
  const v = n.a.int('fmod', 0);
  if (v !== 0 && v !== 1) throw new NodeError(`attribute "fmod" is ${v}; allowed: 0, 1`);
  return v === 1;
}

const mod = (n: NodeContext) => (a: number, b: number): number => (fmodOf(n) ? a % b : a - b * Math.floor(a / b));

/** Logic and comparison ops by ONNX op type. */
export const LOGIC_OPS: OpTable = {
  GreaterOrEqual: composite(() => orEqual('greater'), () => (a, b) => (a >= b ? 1 : 0), true),
  LessOrEqual: composite(() => orEqual('less'), () => (a, b) => (a <= b ? 1 : 0), true),
  And: composite(() => [{ fn: 'mul', a: 'A', b: 'B' }], () => (a, b) => (a !== 0 && b !== 0 ? 1 : 0), true),
  Or: composite(() => [{ fn: 'max', a: 'A', b: 'B' }], () => (a, b) => (a !== 0 || b !== 0 ? 1 : 0), true),
  Xor: composite(() => [{ fn: 'equal', a: 'A', b: 'B' }, { un: 'not', x: 0, dtype: 'bool' }], () => (a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0), true),
  Mod: composite(modSteps, mod, false),
};
