import { describe, expect, it } from 'vitest';
import type { NetOp, Network } from '../../src/ir/graph.ts';
import { nonNegativeValues } from '../../src/energy/signs.ts';

const c = (...v: number[]) => ({ dims: [v.length], data: Float32Array.from(v) });
const unary = (fn: string, input = 'x', extra: object = {}): NetOp => ({ kind: 'unary', fn, alpha: 0.1, min: -Infinity, max: Infinity, name: fn, inputs: [input], output: `${fn}(${input})`, ...extra }) as NetOp;
const binary = (fn: string, b: ReturnType<typeof c> | null, inputs: string[], constFirst = false): NetOp =>
  ({ kind: 'binary', fn, b, constFirst, aShape: [2], bShape: [2], outShape: [2], name: fn, inputs, output: `${fn}[${inputs.join(',')}${b ? `,${b.data.join(' ')}` : ''}${constFirst ? ',first' : ''}]` }) as NetOp;

/** Sign of each op's output for a network input that is (`pos`) or is not ≥ 0, with `r` = relu(x) ≥ 0 always available. */
function signs(ops: NetOp[], pos: boolean): Map<string, boolean> {
  const net = { input: { name: 'x', shape: [2] }, output: 'x', inputs: [], outputs: [], ops: [unary('relu'), ...ops] } as unknown as Network;
  return nonNegativeValues(net, pos);
}

describe('sign analysis of the op kinds (counts-only P_v)', () => {
  it('functions that are ≥ 0 whatever their input, and those that keep or lose the sign', () => {
    const always = ['sigmoid', 'hard-sigmoid', 'exp', 'abs', 'sqrt', 'softplus', 'bool', 'not', 'acos', 'cosh', 'acosh', 'thresholded-relu'];
    const keep = ['tanh', 'leaky-relu', 'gelu', 'gelu-tanh', 'erf', 'trunc', 'reciprocal', 'elu', 'celu', 'softsign', 'mish', 'sign', 'asin', 'atan', 'sinh', 'asinh', 'atanh'];
    const never = ['log', 'neg', 'hard-swish', 'tan', 'shrink'];
    for (const pos of [false, true]) {
      const s = signs([...always, ...keep, ...never].map((f) => unary(f)), pos);
      for (const f of always) expect(s.get(`${f}(x)`), f).toBe(true);
      for (const f of keep) expect(s.get(`${f}(x)`), f).toBe(pos);
      for (const f of never) expect(s.get(`${f}(x)`), f).toBe(false);
      // selu = gamma·x above 0: its sign follows gamma's.
      const selu = signs([unary('selu', 'x', { beta: 1.05, name: 'sp', output: 'sp' }), unary('selu', 'x', { beta: -1, name: 'sn', output: 'sn' })], pos);
      expect([selu.get('sp'), selu.get('sn')]).toEqual([pos, false]);
      // thresholded-relu gives 0 or an input above alpha: ≥ 0 for alpha ≥ 0, else only if the input is.
      const tr = signs([unary('thresholded-relu', 'x', { alpha: -1, name: 'tn', output: 'tn' })], pos);
      expect(tr.get('tn')).toBe(pos);
    }
  });

  it('binary ops: comparisons, max of any non-negative operand, powers of a non-negative base, sums of non-negatives', () => {
    const ops = [
      binary('greater', null, ['x', 'relu(x)']),
      binary('max', null, ['x', 'relu(x)']),
      binary('max', c(0, 1), ['x']),
      binary('max', c(-1, 1), ['x']),
      binary('min', null, ['x', 'relu(x)']),
      binary('pow', c(-2, 3), ['relu(x)']),
      binary('pow', c(2, 3), ['x'], true),
      binary('pow', c(2), ['x']),
      binary('add', c(1, 2), ['relu(x)']),
      binary('add', c(-1, 2), ['relu(x)']),
      binary('div', null, ['relu(x)', 'relu(x)']),
      binary('sub', c(-1, 0), ['relu(x)']),
      binary('sub', c(-1, 0), ['relu(x)'], true),
    ];
    const s = signs(ops, false);
    expect(ops.map((o) => s.get(o.output))).toEqual([true, true, true, false, false, true, true, false, true, false, true, true, false]);
  });

  it('tensor ops keep the sign; pads need a pad value ≥ 0, LRN a positive denominator, Where both branches', () => {
    const shapes = { inShape: [2], outShape: [2] };
    const ops = [
      { kind: 'pad', mode: 'constant', pads: [1, 1], value: 0, ...shapes, name: 'p0', inputs: ['relu(x)'], output: 'p0' },
      { kind: 'pad', mode: 'constant', pads: [1, 1], value: -1, ...shapes, name: 'p1', inputs: ['relu(x)'], output: 'p1' },
      { kind: 'pad', mode: 'reflect', pads: [1, 1], value: -1, ...shapes, name: 'p2', inputs: ['relu(x)'], output: 'p2' },
      { kind: 'lrn', size: 3, alpha: 1e-4, beta: 0.75, bias: 1, inShape: [2], name: 'l0', inputs: ['relu(x)'], output: 'l0' },
      { kind: 'lrn', size: 3, alpha: 1e-4, beta: 0.75, bias: 1, inShape: [2], name: 'l1', inputs: ['x'], output: 'l1' },
      { kind: 'where', condShape: [2], xShape: [2], yShape: [2], outShape: [2], name: 'w0', inputs: ['x', 'relu(x)', 'relu(x)'], output: 'w0' },
      { kind: 'where', condShape: [2], xShape: [2], yShape: [2], outShape: [2], name: 'w1', inputs: ['relu(x)', 'relu(x)', 'x'], output: 'w1' },
      { kind: 'constant', value: c(0, 3), name: 'k0', inputs: [], output: 'k0' },
      { kind: 'constant', value: c(0, -3), name: 'k1', inputs: [], output: 'k1' },
      { kind: 'matmul', aShape: [1, 2], bShape: [2, 1], outShape: [1, 1], name: 'm0', inputs: ['relu(x)', 'relu(x)'], output: 'm0' },
      { kind: 'matmul', aShape: [1, 2], bShape: [2, 1], outShape: [1, 1], name: 'm1', inputs: ['relu(x)', 'x'], output: 'm1' },
      { kind: 'argmax', axis: 0, keepDims: true, selectLastIndex: false, ...shapes, name: 'a', inputs: ['x'], output: 'a' },
      { kind: 'layernorm', axis: 0, epsilon: 1e-5, scale: null, bias: null, inShape: [2], name: 'n', inputs: ['relu(x)'], output: 'n' },
      { kind: 'log-softmax', axis: 0, inShape: [2], name: 'ls', inputs: ['relu(x)'], output: 'ls' },
    ] as unknown as NetOp[];
    const s = signs(ops, false);
    expect(ops.map((o) => s.get(o.output))).toEqual([true, false, true, true, false, true, false, true, false, true, false, true, false, false]);
  });
});
