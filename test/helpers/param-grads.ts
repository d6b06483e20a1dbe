// The finite-difference check of `adapt --full`'s weight gradients (test/cpu/adapt-full.test.ts,
// test/cpu/adapt-conv.test.ts): the CPU oracle's dW, db (and a bias Add's constant) against central
// differences of the f32 network's loss.
import { expect } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Network } from '../../src/ir/graph.ts';
import { parameterGradients, softmaxCrossEntropy } from '../../src/nn/adapt/backward.ts';
import { biasAdd, fullState, type FullLayer } from '../../src/nn/adapt/full.ts';
import { openNetwork } from '../../src/nn/runner.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

/** How an entry is checked: relative step h = step·max(|v|, 0.05), |numeric − analytic| < 2e-2·|analytic| + tol. */
export interface GradCheck {
  tol: number;
  step: number;
  /** Each tensor's largest |gradient| must exceed this (a check that could pass on zeros proves nothing); 0: not checked. */
  minPeak?: number;
}

/** Checks ∂loss/∂p of --full's tensors of `layers` at `picks` entries each against central differences; returns how many entries were checked. */
export async function checkParamGradients(net: Network, layers: readonly FullLayer[], x: Float32Array, labels: number[], B: number, picks: (g: Float64Array) => number[], c: GradCheck): Promise<number> {
  const state = fullState(net, layers);
  const names = new Set<string>(layers.map((l) => l.name));
  for (const op of layers) {
    const b = biasAdd(net, op);
    if (b) names.add(b.name);
  }
  const cfg = resolveConfig({ preset: 'ideal' });
  // A fresh runner per evaluation: --full re-programs from the network's arrays, so nothing may cache them.
  const loss = async (): Promise<number> => {
    const r = openNetwork(CPU, net, cfg, true);
    const l = softmaxCrossEntropy((await r.forward(null, x, B, 0)).output, labels, B).loss;
    r.destroy();
    return l;
  };
  const runner = openNetwork(CPU, net, cfg, true);
  const r = await runner.forward(null, x, B, 0, true);
  runner.destroy();
  const ce = softmaxCrossEntropy(r.output, labels, B);
  const pg = parameterGradients(net, r.values!, B, ce.grad, { weights: (op) => op.weight, adapters: new Map(), params: names });
  let checked = 0;
  for (const p of state.params) {
    const [node, role] = [p.key.slice(0, p.key.lastIndexOf('.')), p.key.slice(p.key.lastIndexOf('.') + 1)];
    const g = role === 'bias' ? pg.get(node)!.db! : pg.get(node)!.dW;
    expect(g.length, p.key).toBe(p.data.length);
    if (c.minPeak) expect(Math.max(...Array.from(g, Math.abs)), p.key).toBeGreaterThan(c.minPeak);
    for (const i of picks(g)) {
      const v = p.data[i];
      const h = c.step * Math.max(Math.abs(v), 0.05);
      p.data[i] = v + h;
      const up = Math.fround(v + h) - v;
      const lp = await loss();
      p.data[i] = v - h;
      const dn = v - Math.fround(v - h);
      const lm = await loss();
      p.data[i] = v;
      const num = (lp - lm) / (up + dn);
      expect(Math.abs(num - g[i]), `${p.key}[${i}]: numeric ${num}, analytic ${g[i]}`).toBeLessThan(2e-2 * Math.abs(g[i]) + c.tol);
      checked++;
    }
  }
  return checked;
}

/** The k entries of largest |g|. */
export const largest = (k: number) => (g: Float64Array): number[] => Array.from(g.keys()).sort((i, j) => Math.abs(g[j]) - Math.abs(g[i])).slice(0, k);
