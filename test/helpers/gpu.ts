import { openNodeGpu } from '../../src/gpu/node-gpu.ts';
import { GpuRuntime, type GpuSession } from '../../src/gpu/runtime.ts';
import { adapterLine } from '../../src/gpu/gpu-context.ts';

/** True when running under CI, where a missing adapter or browser is a failure, never a skip. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Opens the test GPU once per file. Under CI a missing adapter throws; locally it returns null and
 * prints why, and the suite skips.
 */
export async function openTestGpu(): Promise<{ runtime: GpuRuntime; session: GpuSession } | null> {
  const runtime = new GpuRuntime(() => openNodeGpu((l) => console.warn(l)));
  const session = await runtime.session();
  if (!session) {
    if (IN_CI) throw new Error('CI=true but no WebGPU adapter was found: GPU suites must run (install mesa-vulkan-drivers from bookworm-backports or chromium)');
    console.warn('SKIP GPU suite: no WebGPU adapter on this machine');
    return null;
  }
  console.log(`GPU suite adapter: ${adapterLine(session.ctx.adapter)} [via ${session.ctx.adapter.source}]`);
  return { runtime, session };
}
