import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { SweepFile } from '../../src/sweep/definition.ts';
import { buildPoints, buildTasks, canonicalJson, parseShard, shardTasks, taskId } from '../../src/sweep/grid.ts';
import { sha256Hex } from '../../src/sweep/ids.ts';
import { createHash } from 'node:crypto';
import type { Series } from '../../src/sweep/grid.ts';
import { LineProgress, formatDuration, silentProgress } from '../../src/sweep/progress.ts';
import { RESULTS_FILE, readResults, readResultsFile, repairResults } from '../../src/sweep/results.ts';
import { mergeSweeps, runSweep } from '../../src/sweep/run.ts';
import { parseVaries, parseVary, pathKind } from '../../src/sweep/spec.ts';
import { meanStdCi, summarize, summaryCsv, tQuantile } from '../../src/sweep/summary.ts';
import { describePlan, planSweep } from '../../src/cli/sweep.ts';
import type { SweepFlags } from '../../src/cli/sweep.ts';
import { DEMO_CHIPS, DEMO_LIMIT, DEMO_MODEL, DEMO_OUT, DEMO_POINTS, DEMO_PRESETS } from '../../src/sweep/demo.ts';
import { FakeEvaluator } from '../helpers/fake-evaluator.ts';
import { usageMessage } from '../helpers/errors.ts';
import { comparableResults } from '../helpers/sweep-results.ts';
import { tempDir } from '../helpers/files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGISTER = pathToFileURL(join(ROOT, 'bin/register.js')).href;
const CHILD = join(ROOT, 'test/helpers/sweep-child.ts');

function series(...presets: string[]): Series[] {
  return presets.map((p) => ({ label: p, config: resolveConfig({}, { preset: p }) }));
}

function sweepFile(over: Partial<SweepFile> = {}): SweepFile {
  return {
    version: 1,
    model: { path: 'm.onnx', sha256: 'ab'.repeat(32) },
    dataset: { kind: 'mnist' },
    series: series('isaac', 'neural-pim'),
    varies: parseVaries(['noise.programming.sigma=0:0.1:3']),
    chips: 3,
    limit: 20,
    shard: null,
    ...over,
  };
}

describe('--vary specs', () => {
  it('linear, log and list specs', () => {
    expect(parseVary('noise.programming.sigma=0:0.1:5')).toEqual({ path: 'noise.programming.sigma', spec: '0:0.1:5', scale: 'linear', values: [0, 0.025, 0.05, 0.075, 0.1] });
    expect(parseVary('noise.programming.sigma=0:0.3:4').values).toEqual([0, 0.1, 0.2, 0.3]); // no 0.30000000000000004
    expect(parseVary('noise.read.sigma=log:0.001:0.1:3')).toMatchObject({ scale: 'log', values: [0.001, 0.01, 0.1] });
    expect(parseVary('array.rows=log:32:512:5').values).toEqual([32, 64, 128, 256, 512]);
    expect(parseVary('adc.bits=4,6,8').values).toEqual([4, 6, 8]);
    expect(parseVary('adc.bits=2:8:4').values).toEqual([2, 4, 6, 8]);
    expect(parseVary('adc.bits=8:2:4').values).toEqual([8, 6, 4, 2]);
    expect(parseVary('noise.drift.t=1').values).toEqual([1]);
    expect(parseVary('dataflow=digital-sa, buffered,analog-sa')).toMatchObject({ scale: 'list', values: ['digital-sa', 'buffered', 'analog-sa'] });
    expect(parseVary('adc.range=full,calibrated,0.5').values).toEqual(['full', 'calibrated', 0.5]);
    expect(parseVary('adc.range=0.25:1:4').values).toEqual([0.25, 0.5, 0.75, 1]);
    expect(parseVary('weights.perChannel=true,false').values).toEqual([true, false]);
    expect(parseVary('seed=1e3,2000').values).toEqual([1000, 2000]);
  });

  it('path kinds come from the config schema', () => {
    expect(pathKind('adc.bits')).toEqual({ kind: 'number', integer: true });
    expect(pathKind('noise.drift.t')).toEqual({ kind: 'number', integer: false });
    expect(pathKind('noise.read.model')).toEqual({ kind: 'enum', options: ['additive', 'proportional'] });
    expect(pathKind('adc.range')).toEqual({ kind: 'number-or-enum', options: ['full', 'calibrated'] });
  });

  const bad: [string, string | string[], RegExp][] = [
    ['unknown path', 'noise.programing.sigma=0:1:3', /--vary noise\.programing\.sigma: unknown config path \(allowed: .*noise\.programming\.sigma/],
    ['layers path without a field', 'layers.fc1.adc=4,8', /--vary layers\.fc1\.adc: unknown config path \(a layer path is layers\.<name or index>\.<field>, field one of: digital, preset, weights\.bits/],
    ['layers path with a bad value', 'layers.fc1.adc.bits=4.5', /layers\.fc1\.adc\.bits takes integers/],
    ['no =', 'noise.programming.sigma', /expected PATH=SPEC/],
    ['empty spec', 'adc.bits=', /empty SPEC/],
    ['two parts', 'noise.programming.sigma=0:0.1', /expected start:stop:count/],
    ['four parts', 'noise.programming.sigma=0:0.1:3:4', /expected start:stop:count/],
    ['bad start', 'noise.programming.sigma=a:0.1:3', /start "a" is not a number/],
    ['bad count', 'noise.programming.sigma=0:0.1:2.5', /count "2\.5" must be an integer/],
    ['zero count', 'noise.programming.sigma=0:0.1:0', /count "0" must be an integer >= 1/],
    ['count 1, start != stop', 'noise.programming.sigma=0:0.1:1', /count 1 needs start = stop/],
    ['log from 0', 'noise.programming.sigma=log:0:0.1:3', /log spacing needs start > 0/],
    ['non-integer for an integer path', 'adc.bits=2:8:5', /adc\.bits takes integers \(this spec gives 3\.5\)/],
    ['non-integer item', 'adc.bits=4,6.5', /adc\.bits takes integers/],
    ['hex is not a number', 'adc.bits=0x10', /is not a number/],
    ['range on an enum path', 'dataflow=0:1:3', /dataflow takes one of digital-sa, buffered, analog-sa; use a comma list/],
    ['unknown enum value', 'dataflow=digital-sa,bufered', /"bufered": dataflow must be one of digital-sa, buffered, analog-sa/],
    ['bad adc.range', 'adc.range=full,max', /"max": adc\.range must be full, calibrated or a number/],
    ['bad boolean', 'weights.perChannel=yes', /takes true or false/],
    ['empty list item', 'adc.bits=4,,8', /empty item/],
    ['repeated value', 'adc.bits=4,8,4', /value 4 appears twice/],
    ['same path twice', ['adc.bits=4', 'adc.bits=8'], /--vary adc\.bits: given more than once/],
  ];
  it.each(bad)('rejects %s', (_name, arg, re) => {
    expect(usageMessage(() => parseVaries(typeof arg === 'string' ? [arg] : arg))).toMatch(re);
  });
});

describe('grid, ids and shards', () => {
  it('series × cartesian product, last --vary fastest, each point validated as a whole', () => {
    const varies = parseVaries(['noise.programming.sigma=0,0.05', 'adc.bits=4,8']);
    const points = buildPoints(series('isaac', 'neural-pim'), varies);
    expect(points.map((p) => [p.series, p.point['noise.programming.sigma'], p.point['adc.bits']])).toEqual([
      ['isaac', 0, 4], ['isaac', 0, 8], ['isaac', 0.05, 4], ['isaac', 0.05, 8],
      ['neural-pim', 0, 4], ['neural-pim', 0, 8], ['neural-pim', 0.05, 4], ['neural-pim', 0.05, 8],
    ]);
    expect(points[2].config.noise.programming.sigma).toBe(0.05);
    expect(points[2].config.adc.bits).toBe(4);
    expect(points[2].config.preset).toBe('isaac');
    expect(points[2].config.dataflow).toBe('digital-sa');
    expect(points[6].config.dataflow).toBe('analog-sa');
  });

  it('coupled paths are judged together (isaac is "offset": dataflow buffered needs differential too)', () => {
    const ok = buildPoints(series('isaac'), parseVaries(['weights.mapping=differential', 'dataflow=digital-sa,buffered']));
    expect(ok.map((p) => p.config.dataflow)).toEqual(['digital-sa', 'buffered']);
    expect(usageMessage(() => buildPoints(series('isaac'), parseVaries(['dataflow=digital-sa,buffered'])))).toMatch(
      /^--vary dataflow=digital-sa,buffered: value buffered \(preset isaac\): config: weights\.mapping: "offset" is valid only with dataflow "digital-sa"/,
    );
    expect(usageMessage(() => buildPoints(series('isaac'), parseVaries(['noise.programming.sigma=-0.1:0.1:3'])))).toMatch(
      /^--vary noise\.programming\.sigma=-0\.1:0\.1:3: value -0\.1 \(preset isaac\): config: noise\.programming\.sigma: must be a number >= 0/,
    );
    expect(usageMessage(() => buildPoints(series('ideal'), parseVaries(['adc.noise=0,1'])))).toMatch(/adc\.noise: must be 0 when adc\.bits is 0/);
  });

  it('tasks: stable ids, chip fastest, ids unique', () => {
    const points = buildPoints(series('isaac', 'neural-pim'), parseVaries(['noise.programming.sigma=0:0.1:3']));
    const tasks = buildTasks(points, 4);
    expect(tasks).toHaveLength(24);
    expect(tasks.slice(0, 5).map((t) => [t.index, t.pointIndex, t.chip])).toEqual([[0, 0, 0], [1, 0, 1], [2, 0, 2], [3, 0, 3], [4, 1, 0]]);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(24);
    expect(tasks[5].id).toBe(taskId('isaac', { 'noise.programming.sigma': 0.05 }, 1));
    expect(tasks[5].id).toMatch(/^[0-9a-f]{16}$/);
    // Key order of the point does not matter.
    expect(taskId('a', { x: 1, y: 2 }, 0)).toBe(taskId('a', { y: 2, x: 1 }, 0));
    // The pure-TypeScript SHA-256 (shared with the browser app) equals node:crypto's, non-ASCII included.
    for (const text of ['', 'abc', 'x'.repeat(1000), '{"series":"ünïcödé σ","chip":3}']) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: 0 } })).toBe('{"a":{"c":0,"d":[1,{"e":3,"f":2}]},"b":1}');
  });

  it('shards are disjoint and cover the grid, for any n', () => {
    const tasks = buildTasks(buildPoints(series('isaac', 'neural-pim'), parseVaries(['noise.programming.sigma=0:0.1:5'])), 3);
    for (const n of [1, 2, 3, 4, 7, 30, 31, 100]) {
      const parts = Array.from({ length: n }, (_, i) => shardTasks(tasks, { index: i + 1, count: n }));
      const ids = parts.flat().map((t) => t.id);
      expect(ids).toHaveLength(tasks.length);
      expect(new Set(ids).size).toBe(tasks.length);
      expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    }
    expect(shardTasks(tasks, { index: 2, count: 3 }).map((t) => t.index).slice(0, 3)).toEqual([1, 4, 7]);
    expect(shardTasks(tasks, null)).toHaveLength(tasks.length);
  });

  it('--shard i/n', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard('3/3')).toEqual({ index: 3, count: 3 });
    for (const bad of ['0/3', '4/3', 'a/b', '1/0', '3', '1/3/5', '-1/3', '1.5/3', '']) {
      expect(usageMessage(() => parseShard(bad))).toMatch(/^--shard .*: expected i\/n with integers 1 <= i <= n/);
    }
  });
});

describe('statistics', () => {
  it("Student's t quantiles match the table", () => {
    const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [9, 2.262], [10, 2.228], [19, 2.093], [29, 2.045], [30, 2.042], [60, 2.0], [120, 1.98]];
    for (const [df, t] of table) expect(tQuantile(0.975, df)).toBeCloseTo(t, 3);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.95996, 4);
    expect(tQuantile(0.95, 4)).toBeCloseTo(2.132, 3);
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.776, 3);
  });

  it('mean, sample std and 95% CI', () => {
    const s = meanStdCi([0.9, 0.8, 0.85]);
    expect(s.mean).toBeCloseTo(0.85, 12);
    expect(s.std).toBeCloseTo(0.05, 12);
    expect(s.ci95).toBeCloseTo((4.302652729911275 * 0.05) / Math.sqrt(3), 9);
    expect(meanStdCi([0.7])).toEqual({ mean: 0.7, std: null, ci95: null });
    expect(meanStdCi([0.5, 0.5]).ci95).toBe(0);
  });

  it('summary rows per point, in grid order, from results in any order', async () => {
    const dir = tempDir();
    const file = sweepFile({ chips: 3 });
    await runSweep({ dir, sweep: file }, new FakeEvaluator(), silentProgress);
    const points = buildPoints(file.series, file.varies);
    const lines = readResults(dir).lines;
    const rows = summarize(points, [...lines].reverse());
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.series)).toEqual(['isaac', 'isaac', 'isaac', 'neural-pim', 'neural-pim', 'neural-pim']);
    const at = lines.filter((l) => l.preset === 'isaac' && l.point['noise.programming.sigma'] === 0.05).map((l) => l.accuracy);
    const m = (at[0] + at[1] + at[2]) / 3;
    const sd = Math.sqrt(((at[0] - m) ** 2 + (at[1] - m) ** 2 + (at[2] - m) ** 2) / 2);
    expect(rows[1].mean).toBeCloseTo(m, 12);
    expect(rows[1].std).toBeCloseTo(sd, 12);
    expect(rows[1].ci95).toBeCloseTo((4.302652729911275 * sd) / Math.sqrt(3), 9);
    expect(rows[1].chips).toBe(3);
    expect(rows[1].images).toBe(20);
    // Fake: 4096 conversions per image on digital-sa for each of its layer shares (1 + 3).
    expect(rows[1].perInference.adcConversions).toBe(4 * 4096);
    expect(rows[4].perInference.adcConversions).toBe(4 * 256);
    const csv = summaryCsv(file.varies, rows).split('\n');
    expect(csv[0]).toBe(
      'preset,noise.programming.sigma,chips,images,accuracy_mean,accuracy_std,accuracy_ci95_low,accuracy_ci95_high,' +
        'adc_conversions_per_inference,dac_activations_per_inference,cell_reads_per_inference,analog_accumulations_per_inference,digital_shift_adds_per_inference,arrays,partition_adds_per_inference,accuracy_ci95_note,energy_per_inference_J,tops_per_watt',
    );
    expect(csv[2].split(',').slice(0, 4)).toEqual(['isaac', '0.05', '3', '20']);
    expect(Number(csv[2].split(',')[4])).toBeCloseTo(m, 10);
    expect(csv).toHaveLength(8); // header, 6 rows, final empty string after the last newline
  });
});

describe('results file', () => {
  it('ignores and then cuts off a partial last line; resume completes it', async () => {
    const dir = tempDir();
    const file = sweepFile();
    const ev = new FakeEvaluator();
    await runSweep({ dir, sweep: { ...file, shard: { index: 1, count: 2 } } }, ev, silentProgress);
    const path = join(dir, RESULTS_FILE);
    const before = readFileSync(path, 'utf8');
    expect(readResults(dir).lines).toHaveLength(9);
    appendFileSync(path, '{"id":"deadbeef","preset":"isa');
    const r = readResultsFile(path);
    expect(r.lines).toHaveLength(9);
    expect(r.goodBytes).toBe(Buffer.byteLength(before));
    // A complete last line that does not parse is a cut-off write too.
    writeFileSync(path, `${before}{"id":"x"}\n`);
    expect(readResultsFile(path).lines).toHaveLength(9);
    repairResults(dir);
    expect(readFileSync(path, 'utf8')).toBe(before);
    appendFileSync(path, '{"id":"deadbeef","pre');
    const o = await runSweep({ dir, sweep: file }, ev, silentProgress);
    expect(o).toMatchObject({ gridTasks: 18, shardTasks: 18, skipped: 9, ran: 9, interrupted: false, results: 18 });
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.split('\n').filter((x) => x !== '')) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(ev.calls).toHaveLength(18);
  });

  it('a broken line before the last is an error, duplicates are dropped', () => {
    const dir = tempDir();
    const good = JSON.stringify({
      id: 'a1', preset: 'isaac', point: {}, chip: 0, seed: 0, accuracy: 1, correct: 1, total: 1,
      counts: { layers: [], total: { adcConversions: 0, dacActivations: 0, cellReads: 0, analogAccumulations: 0, digitalShiftAdds: 0, arrays: 0 }, vectors: 1 },
      seconds: 0, adapter: 'x', config: {},
    });
    writeFileSync(join(dir, RESULTS_FILE), `${good}\n${good}\n\n`);
    expect(readResults(dir).lines).toHaveLength(1);
    writeFileSync(join(dir, RESULTS_FILE), `${good}\nnot json\n${good}\n`);
    expect(usageMessage(() => readResults(dir))).toMatch(/results\.jsonl: line 2 is not a result line/);
  });
});

describe('runSweep', () => {
  it('writes one line per task with the config of its point, then the summary and report', async () => {
    const dir = join(tempDir(), 'new');
    const ev = new FakeEvaluator();
    const o = await runSweep({ dir, sweep: sweepFile() }, ev, silentProgress);
    expect(o).toMatchObject({ gridTasks: 18, ran: 18, skipped: 0, interrupted: false });
    expect(readdirSync(dir).sort()).toEqual(['accuracy.svg', 'report.html', 'results.jsonl', 'summary.csv', 'sweep.json']);
    const lines = readResults(dir).lines;
    expect(lines[4]).toMatchObject({ preset: 'isaac', point: { 'noise.programming.sigma': 0.05 }, chip: 1, seed: 0, total: 20, adapter: 'fake evaluator' });
    expect(lines[4].config.noise.programming.sigma).toBe(0.05);
    expect(lines[4].config.preset).toBe('isaac');
    expect(ev.calls[4]).toEqual({ config: lines[4].config, chip: 1, limit: 20 });
    expect(lines[4].counts.layers.map((l) => l.name)).toEqual(['conv1', 'fc1']);
    // Rerunning a finished sweep evaluates nothing and keeps the file.
    const before = readFileSync(join(dir, RESULTS_FILE), 'utf8');
    const again = await runSweep({ dir, sweep: sweepFile() }, ev, silentProgress);
    expect(again).toMatchObject({ ran: 0, skipped: 18 });
    expect(readFileSync(join(dir, RESULTS_FILE), 'utf8')).toBe(before);
  });

  it('stops promptly on abort, writing nothing after it', async () => {
    const dir = tempDir();
    const ac = new AbortController();
    let ticks = 0;
    const progress = { ...silentProgress, tick: () => void (++ticks === 3 && setTimeout(() => ac.abort(), 10)) };
    const t0 = Date.now();
    const o = await runSweep({ dir, sweep: sweepFile(), signal: ac.signal }, new FakeEvaluator({ sleepMs: 400 }), progress);
    expect(o.interrupted).toBe(true);
    expect(o.ran).toBe(3);
    expect(Date.now() - t0).toBeLessThan(3 * 400 + 350);
    await new Promise((r) => setTimeout(r, 500)); // the abandoned evaluation finishes meanwhile
    expect(readResults(dir).lines).toHaveLength(3);
    expect(existsSync(join(dir, 'summary.csv'))).toBe(false);
  });

  it('refuses a folder holding a different sweep', async () => {
    const dir = tempDir();
    await runSweep({ dir, sweep: sweepFile() }, new FakeEvaluator(), silentProgress);
    await expect(runSweep({ dir, sweep: sweepFile({ chips: 4 }) }, new FakeEvaluator(), silentProgress)).rejects.toThrow(/holds a different sweep \(chips 3 vs 4\)/);
    // Same values written another way, and another shard, are the same sweep.
    const same = sweepFile({ varies: parseVaries(['noise.programming.sigma=0,0.05,0.1']), shard: { index: 1, count: 2 } });
    await expect(runSweep({ dir, sweep: same }, new FakeEvaluator(), silentProgress)).resolves.toMatchObject({ ran: 0 });
  });

  it('merge: shards in-process equal the unsharded run', async () => {
    const whole = tempDir();
    await runSweep({ dir: whole, sweep: sweepFile() }, new FakeEvaluator(), silentProgress);
    const shards = [1, 2, 3].map((i) => join(tempDir(), `s${i}`));
    for (const [i, d] of shards.entries()) await runSweep({ dir: d, sweep: sweepFile({ shard: { index: i + 1, count: 3 } }) }, new FakeEvaluator(), silentProgress);
    const out = join(tempDir(), 'merged');
    const o = await mergeSweeps([shards[2], shards[0], shards[1], shards[0]], out);
    expect(o).toMatchObject({ gridTasks: 18, results: 18, duplicates: 6, foreign: 0 });
    expect(comparableResults(out)).toEqual(comparableResults(whole));
    expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toBe(readFileSync(join(whole, 'summary.csv'), 'utf8'));
    // Merging again into the same folder keeps everything.
    await mergeSweeps([shards[0]], out);
    expect(comparableResults(out)).toEqual(comparableResults(whole));
    await expect(mergeSweeps([whole, tempDir()], join(tempDir(), 'm'))).rejects.toThrow(/no sweep\.json/);
  });
});

describe('planSweep (flag checks, no writes)', () => {
  const flags = (over: Partial<SweepFlags>): SweepFlags => ({ backend: 'auto', ...over });
  const dir = tempDir();
  const model = join(dir, 'm.onnx');
  writeFileSync(model, 'model bytes');

  it('--config alone is one series named after the file; --seed overrides; --inputs/--labels hashed', () => {
    const cfg = join(dir, 'my-chip.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'cascade', adc: { bits: 6 }, seed: 5 }));
    writeFileSync(join(dir, 'X.npy'), 'x');
    writeFileSync(join(dir, 'y.npy'), 'y');
    const p = planSweep(flags({ model, inputs: join(dir, 'X.npy'), labels: join(dir, 'y.npy'), config: cfg, vary: ['noise.read.sigma=0,0.01'], seed: '7', out: join(dir, 'out'), limit: '10' }));
    expect(p.file.series.map((s) => s.label)).toEqual(['my-chip']);
    expect(p.file.series[0].config).toMatchObject({ preset: 'cascade', dataflow: 'buffered', adc: { bits: 6 }, seed: 7 });
    expect(p.file.dataset).toMatchObject({ kind: 'npy', inputs: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(p.setup).toEqual({ model, dataset: { inputs: join(dir, 'X.npy'), labels: join(dir, 'y.npy') }, backend: 'auto', limit: 10 });
    expect(p.file.chips).toBe(1);
    expect(p.gridTasks).toBe(2);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('--preset with --config: each preset is a base the file overrides', () => {
    const cfg = join(dir, 'noise.json');
    writeFileSync(cfg, JSON.stringify({ noise: { read: { sigma: 0.02 } } }));
    const p = planSweep(flags({ model, dataset: 'mnist', preset: ['prime', 'cascade'], config: cfg, vary: ['adc.bits=4,8'], chips: '2', out: join(dir, 'o2'), shard: '2/3' }));
    expect(p.file.series.map((s) => [s.label, s.config.dataflow, s.config.noise.read.sigma])).toEqual([['prime', 'digital-sa', 0.02], ['cascade', 'buffered', 0.02]]);
    expect(p.file.limit).toBeNull();
    expect([p.gridTasks, p.shardTasks]).toEqual([8, 3]);
    expect(describePlan(p)).toMatch(/presets prime, cascade \| adc\.bits = 4, 8 \| 2 chips per point \| 8 evaluations \(shard 2\/3: 3\) -> /);
  });

  // The demo model is shipped in models/, so this never skips: a missing file is a failure.
  it('no options: the demo, with its numbers printed', () => {
    expect(existsSync(DEMO_MODEL)).toBe(true);
    const out = join(tempDir(), 'demo');
    const p = planSweep(flags({ out }));
    expect(p.demo).toBe(true);
    expect(p.file.series.map((s) => s.label)).toEqual([...DEMO_PRESETS]);
    expect(p.file.varies[0].values).toHaveLength(DEMO_POINTS);
    expect(p.file.varies[0].values.at(-1)).toBe(0.1);
    expect([p.file.chips, p.file.limit, p.dir]).toEqual([DEMO_CHIPS, DEMO_LIMIT, out]);
    expect(planSweep(flags({ out, chips: '2' })).demo).toBe(true);
    expect(DEMO_OUT).not.toBe('');
    expect(describePlan(p)).toMatch(/^xbarsim sweep \(demo\): .*lenet5\.onnx on MNIST test digits/);
  });
});

describe('progress', () => {
  it('plain lines every ~5 s and at the end, with an ETA', () => {
    const lines: string[] = [];
    let t = 0;
    const p = new LineProgress((l) => lines.push(l), 5000, () => t);
    p.start(10, 2);
    for (let done = 3; done <= 10; done++) {
      t += 2000;
      p.tick(done, `task ${done}`);
    }
    expect(lines).toEqual([
      'sweep: 10 tasks, 2 already done',
      'sweep: 5/10 tasks, eta 10s (last: task 5)',
      'sweep: 8/10 tasks, eta 4s (last: task 8)',
      'sweep: 10/10 tasks, eta 0s (last: task 10)',
    ]);
    expect(formatDuration(190)).toBe('3m10s');
    expect(formatDuration(3725)).toBe('1h02m');
  });
});

// ---------------------------------------------------------------------------------------------
// The commands, in child processes (test/helpers/sweep-child.ts: the real registerSweepCommands
// with the fake evaluator injected).
// ---------------------------------------------------------------------------------------------

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChild(args: string[], env: Record<string, string> = {}): ChildResult {
  const r = spawnSync(process.execPath, ['--import', REGISTER, CHILD, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr ?? '' };
}

/** runChild without blocking, so independent runs can overlap. */
function runChildAsync(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', REGISTER, CHILD, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => res({ code, signal, stderr }));
  });
}

function lineCount(dir: string): number {
  const p = join(dir, RESULTS_FILE);
  if (!existsSync(p)) return 0;
  return readFileSync(p, 'utf8').split('\n').length - 1;
}

/** Starts a sweep, waits until it has written `after` lines, then sends `signal`; resolves when it exits. */
async function interrupt(args: string[], dir: string, after: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', REGISTER, CHILD, ...args], {
    cwd: ROOT,
    env: { ...process.env, XBARSIM_FAKE_SLEEP_MS: '120' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, sig) => res({ code, signal: sig })));
  const deadline = Date.now() + 60_000;
  while (lineCount(dir) < after && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  child.kill(signal);
  const e = await exited;
  return { ...e, stderr };
}

describe('xbarsim sweep and merge (CLI)', () => {
  const base = tempDir();
  const model = join(base, 'm.onnx');
  writeFileSync(model, 'not really onnx: the fake evaluator does not read it');
  const args = (out: string, ...more: string[]): string[] => [
    'sweep', '--model', model, '--dataset', 'mnist', '--preset', 'isaac', '--preset', 'neural-pim',
    '--vary', 'noise.programming.sigma=0:0.1:4', '--chips', '3', '--limit', '30', '--out', out, ...more,
  ];
  const whole = join(base, 'whole');

  it('an uninterrupted run', () => {
    const r = runChild(args(whole));
    expect(r.stderr).toContain('24 evaluations -> ');
    expect(r.code).toBe(0);
    expect(lineCount(whole)).toBe(24);
    expect(readdirSync(whole).sort()).toEqual(['accuracy.svg', 'report.html', 'results.jsonl', 'summary.csv', 'sweep.json']);
    // Not a terminal: plain progress lines.
    expect(r.stderr).toMatch(/^sweep: 24\/24 tasks, eta 0s/m);
  });

  it('killed (SIGKILL) mid-run, then resumed: equal to the uninterrupted run', async () => {
    const dir = join(base, 'killed');
    const k = await interrupt(args(dir), dir, 4, 'SIGKILL');
    expect(k.signal).toBe('SIGKILL');
    const kept = lineCount(dir);
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(kept).toBeLessThan(24);
    // As if the kill had landed in the middle of a write.
    appendFileSync(join(dir, RESULTS_FILE), '{"id":"0123456789abcdef","preset":"isaac","po');
    const r = runChild(args(dir, '--resume'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`\\(${kept} were already done\\)`));
    expect(comparableResults(dir)).toEqual(comparableResults(whole));
    expect(readFileSync(join(dir, 'summary.csv'), 'utf8')).toBe(readFileSync(join(whole, 'summary.csv'), 'utf8'));
  });

  it('SIGINT: stops promptly with exit 130, only whole lines; resume completes it', async () => {
    const dir = join(base, 'sigint');
    const k = await interrupt(args(dir), dir, 3, 'SIGINT');
    expect(k.code).toBe(130);
    expect(k.stderr).toMatch(/interrupted after \d+ new evaluations .*rerun with --resume/);
    const text = readFileSync(join(dir, RESULTS_FILE), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(runChild(args(dir, '--resume')).code).toBe(0);
    expect(comparableResults(dir)).toEqual(comparableResults(whole));
  });

  it('shards 1/3, 2/3, 3/3 merged equal the unsharded run', async () => {
    const dirs = [1, 2, 3].map((i) => join(base, `shard${i}`));
    const runs = await Promise.all(dirs.map((d, i) => runChildAsync(args(d, '--shard', `${i + 1}/3`))));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(dirs.map(lineCount)).toEqual([8, 8, 8]);
    const merged = join(base, 'merged');
    const r = runChild(['merge', '--out', merged, ...dirs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('24/24 evaluations');
    expect(comparableResults(merged)).toEqual(comparableResults(whole));
    expect(readFileSync(join(merged, 'summary.csv'), 'utf8')).toBe(readFileSync(join(whole, 'summary.csv'), 'utf8'));
    expect(readdirSync(merged).sort()).toEqual(['accuracy.svg', 'report.html', 'results.jsonl', 'summary.csv', 'sweep.json']);
    expect((JSON.parse(readFileSync(join(merged, 'sweep.json'), 'utf8')) as { shard: unknown }).shard).toBeNull();
  });

  const badCases: [string, (out: string) => string[], RegExp][] = [
    ['unknown --vary path', (o) => args(o, '--vary', 'adc.bitz=4,8'), /--vary adc\.bitz: unknown config path/],
    ['bad --vary spec', (o) => args(o, '--vary', 'adc.bits=2:8:5'), /--vary adc\.bits=2:8:5: adc\.bits takes integers/],
    ['bad --vary value', (o) => args(o, '--vary', 'noise.read.sigma=-1,0'), /--vary noise\.read\.sigma=-1,0: value -1 \(preset isaac\): config: noise\.read\.sigma: must be a number >= 0/],
    ['--shard 0/3', (o) => args(o, '--shard', '0/3'), /--shard 0\/3: expected i\/n/],
    ['--shard 4/3', (o) => args(o, '--shard', '4/3'), /--shard 4\/3: expected i\/n/],
    ['--shard a/b', (o) => args(o, '--shard', 'a/b'), /--shard a\/b: expected i\/n/],
    ['unknown preset', (o) => args(o, '--preset', 'isak'), /--preset isak: unknown preset \(allowed: ideal, isaac/],
    ['--chips 0', (o) => args(o, '--chips', '0'), /--chips: must be an integer/],
    ['missing model', (o) => ['sweep', '--model', join(base, 'none.onnx'), '--dataset', 'mnist', '--preset', 'isaac', '--vary', 'adc.bits=4', '--out', o], /--model .*none\.onnx: not found/],
    ['--inputs without --labels', (o) => ['sweep', '--model', model, '--inputs', model, '--preset', 'isaac', '--vary', 'adc.bits=4', '--out', o], /--inputs and --labels go together/],
    ['no --vary outside the demo', (o) => ['sweep', '--model', model, '--dataset', 'mnist', '--preset', 'isaac', '--out', o], /--vary PATH=SPEC is required/],
  ];
  it.each(badCases)('%s: one line, exit 2, nothing written', (_name, make, re) => {
    const out = join(base, 'never');
    const r = runChild(make(out));
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xbarsim: /);
    expect(lines[0]).toMatch(re);
    expect(existsSync(out)).toBe(false);
  });

  it('unwritable --out: one line, exit 2, nothing created', () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    for (const [out, re] of [[join(file, 'out'), /--out .*a-file\/out: folder .*a-file does not exist/], [file, /--out .*a-file: is a file, not a folder/], [join(base, 'no', 'such', 'out'), /folder .* does not exist/]] as const) {
      const r = runChild(args(out));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(existsSync(join(base, 'no'))).toBe(false);
  });

  it('an existing sweep needs --resume, and --resume refuses a different sweep; nothing is touched', () => {
    const snapshot = (): string[] => readdirSync(whole).sort().map((f) => `${f}:${readFileSync(join(whole, f), 'utf8').length}`);
    const before = snapshot();
    const results = readFileSync(join(whole, RESULTS_FILE), 'utf8');
    const a = runChild(args(whole));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^xbarsim: --out .*whole: already holds a sweep; pass --resume to continue it, or choose another folder\n$/);
    const b = runChild(args(whole, '--resume', '--chips', '4'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^xbarsim: --resume: .*whole holds a different sweep \(chips 3 vs 4\); choose another --out\n$/);
    expect(snapshot()).toEqual(before);
    expect(readFileSync(join(whole, RESULTS_FILE), 'utf8')).toBe(results);
  });

  it('merge of different sweeps: one line, exit 2, nothing written', () => {
    const other2 = join(base, 'other2');
    expect(runChild(args(other2, '--chips', '2')).code).toBe(0);
    const out = join(base, 'bad-merge');
    const r = runChild(['merge', '--out', out, whole, other2]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^xbarsim: merge: .*other2 holds a different sweep than .*whole \(chips 3 vs 2\)\n$/);
    expect(existsSync(out)).toBe(false);
  });
});
