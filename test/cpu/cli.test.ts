import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

describe('xbarsim CLI basics', () => {
  it('--help lists the commands', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/info/);
  });

  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['info', '--nope'], /unknown option '--nope'/],
    [['info', '--backend', 'gpu'], /--backend.*allowed choices are auto, webgpu, cpu/i],
  ])('bad use %j: one line, exit 2', (args, pattern) => {
    const r = runCli(args);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(pattern);
    expect(r.stdout).toBe('');
  });

  it('--backend webgpu with no adapter: one line, exit 2', () => {
    const r = runCli(['info', '--backend', 'webgpu'], { VK_ICD_FILENAMES: '/nonexistent/icd.json', XBARSIM_SOFTWARE_ICDS: '' });
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/--backend webgpu: no WebGPU adapter found/)]);
  });

  it('auto backend with no adapter falls back to the CPU with one warning', () => {
    const r = runCli(['info', '--json'], { VK_ICD_FILENAMES: '/nonexistent/icd.json', XBARSIM_SOFTWARE_ICDS: '' });
    expect(r.code).toBe(0);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/warning: no WebGPU adapter found; using the CPU reference/)]);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'cpu' });
  });

  it('--backend cpu never opens a device', () => {
    const r = runCli(['info', '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'cpu', reason: 'requested with --backend cpu' });
  });
});
