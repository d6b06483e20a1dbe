import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDevice, type GpuContext } from './gpu-context.ts';
import { throttleDawnPolling } from './dawn-poll.ts';

/**
 * Software Vulkan drivers to try, fastest first (DESIGN.md section 2: lavapipe ~3x SwiftShader).
 * XBARSIM_SOFTWARE_ICDS (colon-separated ICD files; empty for none) replaces the built-in search.
 */
export function softwareIcdCandidates(): string[] {
  const override = process.env.XBARSIM_SOFTWARE_ICDS;
  if (override !== undefined) return override.split(':').filter((f) => f.length > 0);
  const found: string[] = [];
  const icdDir = '/usr/share/vulkan/icd.d';
  if (existsSync(icdDir)) {
    for (const f of readdirSync(icdDir).sort()) if (f.startsWith('lvp_icd')) found.push(join(icdDir, f));
  }
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (existsSync(swiftshader)) found.push(swiftshader);
  return found;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | undefined;
async function loadDawn(): Promise<DawnModule> {
  if (!dawn) {
    dawn = (await import('webgpu')) as unknown as DawnModule;
    // Kernels use GPUBufferUsage etc. as globals, as in the browser.
    for (const [k, v] of Object.entries(dawn.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
  }
  return dawn;
}

async function tryAdapter(d: DawnModule): Promise<{ gpu: GPU; adapter: GPUAdapter } | null> {
  const gpu = d.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? { gpu, adapter } : null;
}

/**
 * Opens a WebGPU device in Node through Dawn. If the system offers no adapter, points the Vulkan
 * loader at each software driver in turn (it reads VK_ICD_FILENAMES when Dawn creates an instance).
 * Returns null when nothing works.
 */
export async function openNodeGpu(log: (line: string) => void): Promise<GpuContext | null> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const d = await loadDawn();
  let found = await tryAdapter(d);
  let source = 'default';
  if (!found) {
    const original = process.env.VK_ICD_FILENAMES;
    for (const icd of softwareIcdCandidates()) {
      process.env.VK_ICD_FILENAMES = icd;
      found = await tryAdapter(d);
      if (found) {
        source = icd;
        break;
      }
    }
    if (!found) {
      if (original === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = original;
      return null;
    }
  }
  const ctx = await openDevice(found.gpu, found.adapter, source, log);
  // Dawn's busy poll only hurts where the driver computes on the same cores (software adapters); a
  // hardware GPU keeps Dawn's own loop and its lowest wait latency.
  if (ctx.adapter.isSoftware) throttleDawnPolling();
  return ctx;
}
