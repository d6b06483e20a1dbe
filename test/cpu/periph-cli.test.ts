import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';

/** A small chain (16 rows, 6-bit inputs and ADC) so the CLI runs in seconds. */
const SMALL = { array: { rows: 16, cols: 16 }, inputs: { bits: 6 }, adc: { bits: 6 } };

function config(dir: string, name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

const STAT_FIELDS = ['sinad_dB', 'enob', 'sfdr_dB', 'inlMax_LSB', 'dnlMax_LSB'];

describe('xbarsim periph', () => {
  it('--json gives exactly { chains } with {mean, std} statistics; the ideal 6-bit ADC measures 6.02·6 + 1.76 dB; report.html is self-contained', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = runCli(['periph', '--preset', 'isaac', 'neural-pim', '--config', config(dir, 'small.json', SMALL), '--chips', '2', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { chains: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(['chains']);
    expect(json.chains.map((c) => [c.preset, c.stage])).toEqual([
      ['isaac', 'adc'],
      ['isaac', 'chain'],
      ['neural-pim', 'adc'],
      ['neural-pim', 'chain'],
    ]);
    for (const c of json.chains) {
      expect(Object.keys(c)).toEqual(['preset', 'stage', ...STAT_FIELDS]);
      for (const f of STAT_FIELDS) {
        expect(Object.keys(c[f] as object)).toEqual(['mean', 'std']);
        expect(Number.isFinite((c[f] as { mean: number }).mean)).toBe(true);
      }
    }
    const isaacAdc = json.chains[0] as unknown as Record<string, { mean: number; std: number }>;
    expect(Math.abs(isaacAdc.sinad_dB.mean - (6.02 * 6 + 1.76))).toBeLessThan(0.5);
    expect([isaacAdc.inlMax_LSB.mean, isaacAdc.dnlMax_LSB.mean, isaacAdc.sinad_dB.std]).toEqual([0, 0, 0]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(existsSync(join(out, 'periph.json'))).toBe(true);
  });

  it('a per-chip neural ADC spreads over chips; the seed picks the chips', () => {
    const dir = tempDir();
    const cfg = config(dir, 'nn.json', { ...SMALL, preset: 'neural-pim', adc: { bits: 6, model: 'neural' } });
    const run = (seed: string) => {
      const r = runCli(['periph', '--config', cfg, '--chips', '2', '--seed', seed, '--json', '--out', join(dir, `o${seed}`)]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).chains as { preset: string; sinad_dB: { mean: number; std: number }; dnlMax_LSB: { mean: number } }[];
    };
    const a = run('1');
    expect(a[0].preset).toBe('neural-pim');
    expect(a[0].sinad_dB.std).toBeGreaterThan(0);
    expect(a[0].dnlMax_LSB.mean).toBeGreaterThan(0.1);
    expect(run('1')).toEqual(a);
    expect(run('2')[0].sinad_dB.mean).not.toBe(a[0].sinad_dB.mean);
  });

  it.each([
    [['--chips', '0'], /--chips: must be an integer 1–10000/],
    [['--preset', 'ideal'], /adc\.bits 0/],
    [['--preset', 'nope'], /--preset.*allowed choices/i],
  ])('bad use %j: one line, exit 2, nothing written', (args, pattern) => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = runCli(['periph', ...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  });
});

describe('readout configs on the other commands', () => {
  it('vmm runs NNS+A with proportional read noise and a 32-bit digital unit under auto with no note (WebGPU has them too)', () => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [20, 4], randomArray(80, 1));
    const X = writeNpy(dir, 'X.npy', [5, 20], randomArray(100, 2));
    const nn = config(dir, 'nn.json', { preset: 'neural-pim', analog: { model: 'neural' }, noise: { read: { sigma: 0.02, model: 'proportional' } } });
    const d = config(dir, 'd.json', { preset: 'isaac', digital: { scale: 'u8.24' } });
    for (const [cfg, out] of [[nn, 'Y.npy'], [d, 'Y2.npy']] as const) {
      const r = runCli(['vmm', '--weights', W, '--inputs', X, '--config', cfg, '--out', join(dir, out)], { XBARSIM_SOFTWARE_ICDS: '' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/runs on the CPU reference/);
      expect(existsSync(join(dir, out))).toBe(true);
    }
  });
});
