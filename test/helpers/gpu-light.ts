/**
 * The light model zoo networks (../shared/onnx-conformance/light) on the WebGPU executor in
 * --digital mode, against their expected outputs. Split over test files so each stays near a minute
 * on lavapipe (test/gpu/conformance-light*.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Network } from '../../src/ir/graph.ts';
import { gpuKernelMissing } from '../../src/nn/ops/registry.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { runLightModel } from './conformance.ts';
import { openTestGpu } from './gpu.ts';

const CFG = resolveConfig({ preset: 'ideal' });

/** What the WebGPU executor cannot run: ops without a WGSL kernel (none today; a failure if any). */
function blocked(net: Network): string | null {
  const missing = [...new Set(net.ops.map(gpuKernelMissing).filter((m) => m !== null))];
  return missing.length > 0 ? `no kernel for ${missing.join(', ')}` : null;
}

/** Declares one suite running `models` on the test GPU. */
export async function lightModelSuite(models: readonly string[]): Promise<void> {
  const gpu = await openTestGpu();
  afterAll(() => gpu?.runtime.release());
  async function webgpu(net: Network, x: Float32Array, B: number): Promise<Float32Array> {
    const r = openNetwork({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }, net, CFG, true);
    try {
      return (await r.forward(null, x, B, 0)).output;
    } finally {
      r.destroy();
    }
  }
  describe.skipIf(!gpu)('ONNX light models on WebGPU --digital', () => {
    it.each(models)('%s reproduces its expected output', async (m) => {
      expect(await runLightModel(m, webgpu, blocked)).toBeNull();
    }, 300_000);
  });
}
