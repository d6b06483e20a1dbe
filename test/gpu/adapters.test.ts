// Adapters on the WebGPU executor: zero-B bit identity and switching sets, and the branch against
// the CPU reference (src/adapters/set.ts adapterBranchRef) through a whole network.
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { checkZeroBAndSwitching, mlpAdapters, MLP } from '../helpers/adapters.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

describe.skipIf(!gpu)('adapters on WebGPU', () => {
  it('zero-B adapters leave every output bit-identical; switching sets needs no reprogramming', async () => {
    await checkZeroBAndSwitching(GPU());
  });

  it('the f32 network with adapters equals the CPU reference', async () => {
    const net = loadModel(MLP);
    const data = mnistEvalData(net.input.shape, 33, 8);
    const set = mlpAdapters(5, 0.1, 9);
    const outs: Float32Array[] = [];
    for (const backend of [GPU(), CPU]) {
      const runner = openNetwork(backend, net, resolveConfig({ preset: 'ideal' }), true);
      try {
        runner.setAdapters(set);
        outs.push((await runner.forward(null, data.x, data.n, 0)).output);
      } finally {
        runner.destroy();
      }
    }
    const [g, c] = outs;
    let worst = 0;
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / Math.max(1, Math.abs(c[i])));
    expect(worst).toBeLessThan(1e-4);
  });
});
