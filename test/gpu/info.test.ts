import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { IN_CI } from '../helpers/gpu.ts';
import { softwareIcdCandidates } from '../../src/gpu/node-gpu.ts';

describe('xbarsim info on a real adapter', () => {
  it('names the adapter, limits and features', () => {
    const r = runCli(['info', '--json']);
    // A signal here is a native crash (one SIGSEGV at exit in ~450 runs was seen on lavapipe): say which.
    expect(r.code, `signal ${r.signal ?? 'none'}; stdout ${r.stdout.length} bytes; stderr: ${r.ownStderrLines.join(' | ')}`).toBe(0);
    const info = JSON.parse(r.stdout) as { backend: string; adapter?: { vendor: string; description: string }; limits?: Record<string, number> };
    if (info.backend !== 'webgpu' && !IN_CI) return console.warn('SKIP: no adapter here');
    expect(info.backend).toBe('webgpu');
    console.log(`info adapter: ${info.adapter?.vendor} ${info.adapter?.description}`);
    expect(info.limits?.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(info.limits?.maxBufferSize).toBeGreaterThan(0);
  });

  it('finds a software driver when the loader starts with none', () => {
    const icds = softwareIcdCandidates();
    if (icds.length === 0 && !IN_CI) return console.warn('SKIP: no software Vulkan ICD installed');
    expect(icds.length).toBeGreaterThan(0);
    const r = runCli(['info', '--json', '--backend', 'webgpu'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { adapter: { source: string; isSoftware: boolean } };
    expect(icds).toContain(info.adapter.source);
    expect(info.adapter.isSoftware).toBe(true);
  });
});
