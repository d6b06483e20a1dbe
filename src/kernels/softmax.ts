import softmaxWgsl from '../../shaders/softmax.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import { UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { binding, DEFAULT_WG, dispatch, linearGrid, tempUniform } from './elementwise.ts';
import { checkParam, instantiate } from './template.ts';

/** The softmax family's programs. */
export interface SoftmaxProgram {
  wg: number;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL. */
export function softmaxKey(p: SoftmaxProgram): ProgramKey {
  return { family: 'softmax', params: { wg: p.wg } };
}

/** WGSL for a softmax program, after checking its parameters. */
export function softmaxSource(p: SoftmaxProgram, maxInvocations = 256): string {
  checkParam('wg', p.wg, 1, maxInvocations, true);
  return instantiate(softmaxWgsl, { WG: p.wg });
}

/** Records softmax of x viewed as [outer, L, inner] along L into y. */
export function encodeSoftmax(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, L: number, inner: number, wg = DEFAULT_WG): void {
  const lines = outer * inner;
  if (lines === 0 || L === 0) return;
  const s = e.session;
  const grid = linearGrid(s, lines, wg);
  const w = new UniformWriter(4).u32(lines).u32(grid.stride).u32(L).u32(inner);
  const prog: SoftmaxProgram = { wg };
  const pipeline = s.pipelines.get(softmaxKey(prog), () => softmaxSource(prog, s.ctx.limits.maxComputeInvocationsPerWorkgroup));
  const bytes = lines * L * 4;
  dispatch(e, pipeline, [[0, tempUniform(e, w, 'softmax.params')], [1, binding(s, x, bytes)], [2, binding(s, y, bytes)]], grid, 'softmax');
}
