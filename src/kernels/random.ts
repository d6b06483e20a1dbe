import philoxWgsl from '../../shaders/philox.wgsl?raw';
import randomWgsl from '../../shaders/random.wgsl?raw';
import type { OpEncoder } from '../gpu/encoder.ts';
import { COUNTER_LAYOUT_WGSL, MODEL_KEY } from '../random/philox.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { checkParam } from './template.ts';

/** The model's random distributions, in the order of their WGSL codes (DIST). */
export const RANDOM_DISTS = ['normal', 'uniform', 'bernoulli'] as const;
export type RandomDist = (typeof RANDOM_DISTS)[number];

/** One random variant: its distribution and workgroup size. */
export type RandomVariant = { dist: RandomDist; wg: number };

/** The model's own random draws (RandomOp), on the noise models' Philox streams. */
export const RANDOM = defineKernel({
  name: 'random',
  uniforms: {
    n: 'u32',
    stride: 'u32',
    per: 'u32',
    offset: 'u32',
    seed: 'u32',
    modelKey: 'u32',
    stream: 'u32',
    perSample: 'u32',
    a: 'f32',
    b: 'f32',
  },
  bindings: { X: read('f32'), Y: readWrite('f32') },
  includes: [philoxWgsl, COUNTER_LAYOUT_WGSL],
  compile(v: RandomVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    const dist = RANDOM_DISTS.indexOf(v.dist);
    if (dist < 0) throw new Error(`random: unknown distribution ${v.dist}`);
    return v.dist === 'bernoulli'
      ? { body: randomWgsl, entry: 'bernoulli_main', consts: { DIST: dist, WG: v.wg }, uses: ['X', 'Y'] as const }
      : { body: randomWgsl, entry: 'random_main', consts: { DIST: dist, WG: v.wg }, uses: ['Y'] as const };
  },
});

/** Parameters of one random op's draws (RandomOp's, with the seed resolved). */
export interface RandomDraw {
  dist: RandomDist;
  a: number;
  b: number;
  seed: number;
  stream: number;
  perSample: boolean;
}

/** Records B samples of `per` draws into y, the first sample at `sampleOffset` in the whole input set; `p` holds Bernoulli's probabilities. */
export function encodeRandom(e: OpEncoder, d: RandomDraw, p: GPUBuffer | null, y: GPUBuffer, B: number, per: number, sampleOffset: number, wg = DEFAULT_WG): void {
  const n = B * per;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, RANDOM, { dist: d.dist, wg }, {
    params: { n, stride: grid.stride, per, offset: sampleOffset >>> 0, seed: d.seed >>> 0, modelKey: MODEL_KEY, stream: d.stream >>> 0, perSample: d.perSample ? 1 : 0, a: d.a, b: d.b },
    bind: { Y: binding(s, y, n * 4), ...(d.dist === 'bernoulli' ? { X: binding(s, p!, n * 4) } : {}) },
    grid,
  });
}
