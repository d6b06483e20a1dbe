import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';

// torch.einsum exports (ONNX Einsum, opset 12+) against a direct sum over every letter assignment.
const CFG = resolveConfig({ preset: 'ideal' });
const B = 3;

/** Σ over all letters of Π operands, for explicit equations "ab,bc->ac" (no ellipsis). */
function naive(eq: string, ops: { dims: number[]; data: Float32Array }[]): Float64Array {
  const [lhs, out] = eq.split('->');
  const terms = lhs.split(',');
  const size = new Map<string, number>();
  terms.forEach((t, k) => [...t].forEach((c, i) => size.set(c, ops[k].dims[i])));
  const letters = [...size.keys()];
  const outSize = [...out].reduce((p, c) => p * size.get(c)!, 1);
  const y = new Float64Array(outSize);
  const at = new Map<string, number>(letters.map((c) => [c, 0]));
  const flat = (t: string, dims: number[]): number => [...t].reduce((s, c, i) => s * dims[i] + at.get(c)!, 0);
  const total = letters.reduce((p, c) => p * size.get(c)!, 1);
  for (let r = 0; r < total; r++) {
    let rem = r;
    for (const c of letters) {
      at.set(c, rem % size.get(c)!);
      rem = Math.floor(rem / size.get(c)!);
    }
    let v = 1;
    terms.forEach((t, k) => (v *= ops[k].data[flat(t, ops[k].dims)]));
    y[flat(out, [...out].map((c) => size.get(c)!))] += v;
  }
  return y;
}

interface Case {
  eq: string;
  /** The equation with ellipses and the implicit output written out, for the direct sum. */
  explicit?: string;
  x: number[];
  /** A constant second operand's dims; absent with `twice`: x is both operands. */
  w?: number[];
  twice?: boolean;
}

function model(c: Case): { bytes: Uint8Array; w: Float32Array | null } {
  const w = c.w ? randomArray(c.w.reduce((p, q) => p * q, 1), 3) : null;
  const bytes = buildOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['batch', ...c.x.slice(1)] }],
    outputs: [{ name: 'y', dims: ['batch'] }],
    initializers: w ? [{ name: 'w', dims: c.w!, data: w }] : [],
    nodes: [{ op: 'Einsum', inputs: ['x', ...(w ? ['w'] : c.twice ? ['x'] : [])], outputs: ['y'], attrs: { equation: c.eq }, name: 'es' }],
  });
  return { bytes, w };
}

async function check(c: Case): Promise<Network> {
  const { bytes, w } = model(c);
  const net = importOnnx(bytes, 'einsum.onnx');
  const per = c.x.slice(1).reduce((p, q) => p * q, 1);
  const x = randomArray(B * per, 8);
  const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
  const y = (await runner.forward(null, x, B, 0)).output;
  runner.destroy();
  const full = { dims: [B, ...c.x.slice(1)], data: x };
  const want = naive(c.explicit ?? c.eq, [full, ...(w ? [{ dims: c.w!, data: w }] : c.twice ? [full] : [])]);
  expect(y.length).toBe(want.length);
  expect(maxAbsDiff(y, Float32Array.from(want))).toBeLessThan(1e-5 * Math.max(1, maxAbs(Float32Array.from(want))));
  return net;
}

describe('ONNX Einsum (torch.einsum exports)', () => {
  it('activations × a constant matrix is a crossbar linear layer: btc,cd->btd and nn.Linear-style bnd,hd->bnh', async () => {
    const cases: [Case, number, number][] = [[{ eq: 'btc,cd->btd', x: [B, 5, 8], w: [8, 6] }, 8, 6], [{ eq: 'bnd,hd->bnh', x: [B, 4, 7], w: [5, 7] }, 7, 5]];
    for (const [c, K, N] of cases) {
      const net = await check(c);
      const lin = net.ops.filter((o) => o.kind === 'linear');
      expect(lin.map((o) => o.kind === 'linear' && [o.K, o.N])).toEqual([[K, N]]);
      expect(net.ops.some((o) => o.kind === 'matmul')).toBe(false);
    }
  });

  it('a constant on the left of a MatMul (torch.matmul(W, x)) is a crossbar layer too', async () => {
    const W = randomArray(5 * 8, 4);
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', 8, 6] }],
      outputs: [{ name: 'y', dims: ['batch', 5, 6] }],
      initializers: [{ name: 'W', dims: [5, 8], data: W }],
      nodes: [{ op: 'MatMul', inputs: ['W', 'x'], outputs: ['y'] }],
    });
    const net = importOnnx(bytes, 'left.onnx');
    expect(net.ops.map((o) => (o.kind === 'linear' ? `linear ${o.K}x${o.N}` : o.kind))).toEqual(['transpose', 'linear 8x5', 'transpose']);
    const x = randomArray(B * 48, 6);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
    const y = (await runner.forward(null, x, B, 0)).output;
    runner.destroy();
    const want = naive('mk,bkn->bmn', [{ dims: [5, 8], data: W }, { dims: [B, 8, 6], data: x }]);
    expect(maxAbsDiff(y, Float32Array.from(want))).toBeLessThan(1e-5 * maxAbs(Float32Array.from(want)));
  });

  it.each<Case>([
    { eq: 'bi,ij->bj', x: [B, 6], w: [6, 4] },
    { eq: 'bij,jk->bki', x: [B, 3, 5], w: [5, 4] },
    { eq: 'bhd,hdf->bf', x: [B, 2, 3], w: [2, 3, 4] },
    { eq: 'bij,jk', explicit: 'bij,jk->bik', x: [B, 3, 5], w: [5, 2] },
    { eq: '...ij,jk->...ik', explicit: 'bij,jk->bik', x: [B, 3, 5], w: [5, 2] },
    { eq: 'bij,ij->bij', x: [B, 2, 3], w: [2, 3] },
    { eq: 'bij,j->bi', x: [B, 4, 3], w: [3] },
  ])('activations and a constant: $eq', async (c) => {
    await check(c);
  });

  it.each<Case>([
    { eq: 'bij,bkj->bik', x: [B, 4, 3], twice: true },
    { eq: 'bhqd,bhkd->bhqk', x: [B, 2, 3, 4], twice: true },
    { eq: 'bi,bi->b', x: [B, 5], twice: true },
    { eq: 'bij,bjk->bik', x: [B, 3, 3], twice: true },
    { eq: 'b...d,b...d->b...', explicit: 'bnd,bnd->bn', x: [B, 4, 3], twice: true },
  ])('two activations (attention-style): $eq', async (c) => {
    const net = await check(c);
    expect(net.ops.some((o) => o.kind === 'linear')).toBe(false);
  });

  it.each<Case>([
    { eq: 'bij->bji', x: [B, 3, 4] },
    { eq: 'bij->bj', x: [B, 3, 4] },
    { eq: 'bijk->bki', x: [B, 2, 3, 4] },
  ])('one operand (transposes and sums): $eq', async (c) => {
    await check(c);
  });

  it.each([
    ['bii->bi', [B, 3, 3], /letter "i" repeats within one term \(a diagonal or trace\)/],
    ['bij->jb', [B, 3, 4], /batch letter "b" \(input 0's first axis\) must be the output's first letter/],
    ['bij,bjk,bkl->bil', [B, 3, 3], /has 3 operand terms for 1 inputs/],
    ['bi->bz', [B, 3], /output letter "z" is in no input/],
    ['b-i', [B, 3], /is not of the form "ab,bc->ac"/],
  ] as const)('%s is one line naming the node', (eq, x, re) => {
    const msg = usageMessage(() => importOnnx(model({ eq, x: [...x] }).bytes, 'm.onnx'));
    expect(msg).toMatch(/^m\.onnx: node "es" \(Einsum\): /);
    expect(msg).toMatch(re);
  });
});
