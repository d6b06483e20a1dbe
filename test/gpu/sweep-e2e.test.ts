import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { IN_CI } from '../helpers/gpu.ts';

// The real evaluator end to end: the shipped MLP on MNIST on this machine's WebGPU adapter
// (lavapipe in CI; --backend webgpu makes a missing adapter a failure, never a CPU fallback).
const MODEL = 'models/mlp.onnx';
const LIMIT = 60;
const CHIPS = 4;
const SIGMAS = [0, 0.1, 0.2];

interface Line {
  preset: string;
  point: Record<string, number>;
  chip: number;
  accuracy: number;
  total: number;
  counts: { total: { adcConversions: number } };
}

describe('xbarsim sweep with the network evaluator', () => {
  const out = join(tempDir(), 'sweep');
  const args = ['sweep', '--model', MODEL, '--dataset', 'mnist', '--preset', 'isaac', '--vary', `noise.programming.sigma=${SIGMAS.join(',')}`, '--chips', String(CHIPS), '--limit', String(LIMIT), '--out', out, '--backend', IN_CI ? 'webgpu' : 'auto'];
  const r = runCli(args, {}, 900_000);

  it('writes well-formed results, summary and report', () => {
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['results.jsonl', 'summary.csv', 'report.html', 'accuracy.svg', 'sweep.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBe(SIGMAS.length * CHIPS);
    for (const l of lines) {
      expect(l.total).toBe(LIMIT);
      expect(l.accuracy).toBeGreaterThanOrEqual(0);
      expect(l.accuracy).toBeLessThanOrEqual(1);
      expect(l.counts.total.adcConversions).toBeGreaterThan(0);
    }
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(1 + SIGMAS.length);
    expect(readFileSync(join(out, 'accuracy.svg'), 'utf8')).toMatch(/^<\?xml|^<svg/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toMatch(/<script[^>]*src=|https?:\/\/(?!www\.w3\.org)/);
  });

  it('accuracy at zero noise equals xbarsim eval on the same chip', () => {
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    const e = runCli(['eval', '--model', MODEL, '--dataset', 'mnist', '--preset', 'isaac', '--limit', String(LIMIT), '--chips', '2', '--json', '--backend', IN_CI ? 'webgpu' : 'auto'], {}, 600_000);
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout) as { chips: { chip: number; accuracy: number }[] };
    for (const c of ev.chips) {
      const s = lines.find((l) => l.point['noise.programming.sigma'] === 0 && l.chip === c.chip)!;
      expect(s.accuracy).toBe(c.accuracy);
    }
  });

  it('accuracy falls as programming noise rises (trend over chips, tolerance from the chip spread)', () => {
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    const stats = SIGMAS.map((s) => {
      const acc = lines.filter((l) => l.point['noise.programming.sigma'] === s).map((l) => l.accuracy);
      const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
      const se = Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1) / acc.length);
      return { mean, se };
    });
    // Each step may not rise by more than two standard errors (plus one image of granularity)...
    for (let i = 1; i < stats.length; i++) expect(stats[i].mean).toBeLessThanOrEqual(stats[i - 1].mean + 2 * Math.hypot(stats[i].se, stats[i - 1].se) + 1 / LIMIT);
    // ...and the strongest noise must cost accuracy beyond that spread.
    const last = stats[stats.length - 1];
    expect(last.mean).toBeLessThan(stats[0].mean - 2 * Math.hypot(last.se, stats[0].se));
  });
});
