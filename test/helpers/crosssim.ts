// The CrossSim ISAAC fixture (scripts/crosssim-isaac-fixture.py: one layer through CrossSim 3.2.0's
// own ISAAC.json) and how xbarsim's `crosssim-isaac` preset is held to it.
import { expect } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';

const dir = new URL('../fixtures/crosssim-isaac/', import.meta.url);
const load = (name: string) => readNpyFile(new URL(`${name}.npy`, dir).pathname, name);

/** CrossSim's deterministic gain under ISAAC.json (notes: crosssim.md section 1.2): (2^15/(2^15 − 1)) / (1 − 1/1000). */
export const CROSSSIM_GAIN = 2 ** 15 / (2 ** 15 - 1) / (1 - 1 / 1000);

/**
 * How far xbarsim's output under the preset (with `over` applied) is from CrossSim's output divided
 * by `gain`: the largest |difference| over the largest |CrossSim/gain|, and the median ratio.
 */
export async function crosssimDeviation(backend: Backend, over: XbarConfigInput = {}, gain = 1): Promise<{ maxRel: number; medianRatio: number }> {
  const W = load('W');
  const X = load('X');
  const Y = load('Y');
  const [K, N] = W.shape;
  const B = X.shape[0];
  expect(Y.shape).toEqual([B, N]);
  const cfg = resolveConfig({ preset: 'crosssim-isaac', ...over });
  const r = await simulateVmm(backend, cfg, { data: W.data, rows: K, cols: N }, { data: X.data, rows: B, cols: K });
  let maxErr = 0;
  let maxY = 0;
  const ratios: number[] = [];
  for (let i = 0; i < B * N; i++) {
    const want = Number(Y.data[i]) / gain;
    maxErr = Math.max(maxErr, Math.abs(r.Y[i] - want));
    maxY = Math.max(maxY, Math.abs(want));
    ratios.push(r.Y[i] / want);
  }
  ratios.sort((a, b) => a - b);
  return { maxRel: maxErr / maxY, medianRatio: ratios[ratios.length >> 1] };
}
