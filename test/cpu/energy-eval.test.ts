import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { energyReport } from '../../src/cli/energy.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildPoints } from '../../src/sweep/grid.ts';
import { energySpec, reportHtml } from '../../src/sweep/report.ts';
import type { ResultLine } from '../../src/sweep/results.ts';
import { parseVaries } from '../../src/sweep/spec.ts';
import { summarize, summaryCsv } from '../../src/sweep/summary.ts';
import type { SweepFile } from '../../src/sweep/definition.ts';
import { runMain } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';

describe('accuracy and cost together', () => {
  it('eval --json reports energy per inference and TOPS/W from its own counts: on MNIST (pixels ≥ 0) they equal counts-only', async () => {
    const d = tempDir();
    const cfg = join(d, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'neural-pim', calibration: { samples: 16 } }));
    const r = await runMain(['eval', '--model', 'models/mlp.onnx', '--dataset', 'mnist', '--config', cfg, '--limit', '6', '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { energyPerInference_J: number; topsPerWatt: number; cost: Record<string, number>; costNote: null };
    const only = energyReport({ model: 'models/mlp.onnx', preset: ['neural-pim'], inputSign: 'nonnegative' }).presets[0];
    expect(j.energyPerInference_J / only.energyPerInference_J).toBeCloseTo(1, 12);
    expect(j.topsPerWatt / only.topsPerWatt).toBeCloseTo(1, 12);
    expect(j.cost).toMatchObject({ preset: 'neural-pim', energyPerInference_J: j.energyPerInference_J, latency_s: only.latency_s, area_mm2: only.area_mm2 });
    expect(j.costNote).toBeNull();
  });

  it('eval on a preset with no cost table says why, in the text and as null in --json', async () => {
    const text = await runMain(['eval', '--model', 'models/mlp.onnx', '--dataset', 'mnist', '--preset', 'ideal', '--limit', '2', '--backend', 'cpu']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/cost: none \(ideal: adc\.bits 0 is an ideal converter/);
  });

  it('summary.csv and report.html carry energy per inference and TOPS/W per point (empty where a line has no cost)', () => {
    const series = ['isaac', 'neural-pim'].map((p) => ({ label: p, config: resolveConfig({}, { preset: p }) }));
    const file: SweepFile = { version: 1, model: { path: 'm.onnx', sha256: 'ab'.repeat(32) }, dataset: { kind: 'mnist' }, series, varies: parseVaries(['adc.bits=6,8']), chips: 2, limit: 10, shard: null };
    const points = buildPoints(file.series, file.varies);
    const line = (i: number, chip: number, cost: ResultLine['cost']): ResultLine => ({
      id: `${i}-${chip}`, preset: points[i].series, point: points[i].point, chip, seed: 0, accuracy: 0.9, correct: 9, total: 10,
      counts: { layers: [], total: { adcConversions: 10, dacActivations: 0, cellReads: 0, analogAccumulations: 0, digitalShiftAdds: 10, arrays: 1, partitionAdds: 0 }, vectors: 10 },
      seconds: 0, adapter: 'x', config: points[i].config, ...(cost === undefined ? {} : { cost }),
    });
    const c = (e: number) => ({ energyPerInference_J: e, latency_s: 1e-6, throughput_inferencesPerSecond: 1e6, area_mm2: 62.5, topsPerWatt: 2e-6 / e, topsPerMm2: 1 });
    const lines = [line(0, 0, c(2e-6)), line(0, 1, c(2e-6)), line(1, 0, null), line(2, 0, c(1e-6)), line(3, 0, undefined)];
    const rows = summarize(points, lines);
    const csv = summaryCsv(file.varies, rows).trimEnd().split('\n').map((l) => l.split(','));
    const col = (name: string) => csv.slice(1).map((r) => r[csv[0].indexOf(name)]);
    expect(col('energy_per_inference_J')).toEqual(['0.000002', '', '0.000001', '']);
    expect(col('tops_per_watt')).toEqual(['1', '', '2', '']);
    const spec = energySpec(file, rows) as { data: { values: { preset: string; energy: number }[] } };
    expect(spec.data.values.map((v) => [v.preset, v.energy])).toEqual([[points[0].series, 2e-6], [points[2].series, 1e-6]]);
    const html = reportHtml({ def: file, rows, results: lines, gridTasks: 8, accuracySvg: '<svg></svg>', conversionsSvg: '<svg></svg>', energySvg: '<svg id="e"></svg>' });
    expect(html).toContain('Accuracy against energy per inference');
    expect(html).toContain('<svg id="e"></svg>');
    expect(html).toMatch(/<td>2\.000e-6<\/td><td>1\.000<\/td>/);
  });
});
