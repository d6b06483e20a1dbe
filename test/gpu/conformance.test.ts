import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Network } from '../../src/ir/graph.ts';
import { gpuKernelMissing } from '../../src/nn/ops/registry.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { readManifest, readSkips, runNodeTest, summarize, type CaseResult } from '../helpers/conformance.ts';
import { openTestGpu } from '../helpers/gpu.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CFG = resolveConfig({ preset: 'ideal' });

/** --digital on the WebGPU executor. */
async function webgpu(net: Network, x: Float32Array, B: number): Promise<Float32Array> {
  const r = openNetwork({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }, net, CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/** The IR ops of a network that have no WGSL kernel (none today: the suite fails on any). */
function missingKernels(net: Network): string | null {
  const missing = [...new Set(net.ops.map(gpuKernelMissing).filter((m) => m !== null))];
  return missing.length > 0 ? missing.join(', ') : null;
}

describe.skipIf(!gpu)('ONNX backend node tests on WebGPU (issue 12)', () => {
  it('every node test xbarsim claims passes on WebGPU --digital, or is skipped or refused as skips.json says', async () => {
    const skips = readSkips();
    const results: CaseResult[] = [];
    for (const row of readManifest()) results.push(await runNodeTest(row, skips, webgpu, missingKernels));
    console.log(`ONNX conformance on WebGPU:\n${summarize(results)}`);
    expect(results.filter((r) => r.outcome === 'failed').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    // Every IR op has a WGSL kernel: nothing may wait for one (skips.json holds only dtype and training-mode reasons).
    expect(results.filter((r) => r.outcome === 'no kernel').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.filter((r) => r.outcome === 'passed').length).toBeGreaterThan(450);
  }, 600_000);
});
