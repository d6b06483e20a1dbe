// Sweep folders and sweep input (issue 10 items 3, 7-9, 11, 12, 14): one run per folder at a time,
// nothing created when the input is bad, no folder of someone else's files overwritten, layer
// paths that work, a grid counted before it is built, and statistics that read right.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { UsageError } from '../../src/errors.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import type { SweepFile } from '../../src/sweep/definition.ts';
import { buildPoints, countTasks, MAX_TASKS } from '../../src/sweep/grid.ts';
import { checkLayerKeys, configLayerKeys, varyLayerKeys } from '../../src/sweep/layers.ts';
import { acquireSweepLock, LOCK_DIR, LOCK_OWNER } from '../../src/sweep/lock.ts';
import { silentProgress } from '../../src/sweep/progress.ts';
import { RESULTS_FILE, readResults } from '../../src/sweep/results.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { parseVaries, parseVary, pathKind } from '../../src/sweep/spec.ts';
import { accuracyStats, meanStdCi } from '../../src/sweep/stats.ts';
import { summaryCsv, summarize } from '../../src/sweep/summary.ts';
import { reportHtml } from '../../src/sweep/report.ts';
import { usageMessage } from '../helpers/errors.ts';
import { runMain } from '../helpers/cli.ts';
import { FakeEvaluator } from '../helpers/fake-evaluator.ts';
import { tempDir } from '../helpers/files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGISTER = pathToFileURL(join(ROOT, 'bin/register.js')).href;
const CHILD = join(ROOT, 'test/helpers/sweep-child.ts');
const MLP = join(ROOT, 'models/mlp.onnx');

function sweepFile(over: Partial<SweepFile> = {}): SweepFile {
  return {
    version: 1,
    model: { path: 'm.onnx', sha256: 'ab'.repeat(32) },
    dataset: { kind: 'mnist' },
    series: ['isaac', 'neural-pim'].map((p) => ({ label: p, config: resolveConfig({}, { preset: p }) })),
    varies: parseVaries(['noise.programming.sigma=0:0.1:3']),
    chips: 2,
    limit: 20,
    shard: null,
    ...over,
  };
}

interface ChildResult {
  code: number | null;
  stderr: string;
  pid: number;
}

/** A sweep process with the fake evaluator (test/helpers/sweep-child.ts): the real command, no model or GPU. */
function startChild(args: string[], env: Record<string, string> = {}): { pid: number; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, ['--import', REGISTER, CHILD, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildResult>((res) => child.on('exit', (code) => res({ code, stderr, pid: child.pid ?? -1 })));
  return { pid: child.pid ?? -1, done };
}

function lines(dir: string): number {
  const p = join(dir, RESULTS_FILE);
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').length - 1 : 0;
}

async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ownLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('xbarsim: '));

describe('one run per sweep folder (two real processes)', () => {
  const base = tempDir();
  const model = join(base, 'm.onnx');
  writeFileSync(model, 'the fake evaluator does not read it');
  const args = (out: string, ...more: string[]): string[] => [
    'sweep', '--model', model, '--dataset', 'mnist', '--preset', 'isaac', '--preset', 'neural-pim',
    '--vary', 'noise.programming.sigma=0:0.1:4', '--chips', '3', '--limit', '30', '--out', out, ...more,
  ];

  it('a second sweep, and a --resume, started while one runs are refused naming its pid; the folder ends with each task once', async () => {
    const out = join(base, 'busy');
    const first = startChild(args(out), { XBARSIM_FAKE_SLEEP_MS: '150' });
    await waitFor(() => lines(out) >= 1);
    const [second, resume] = await Promise.all([startChild(args(out)).done, startChild(args(out, '--resume')).done]);
    for (const r of [second, resume]) {
      expect(r.code).toBe(2);
      expect(ownLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^xbarsim: --out .*busy: in use by xbarsim pid ${first.pid} \\(one run per sweep folder at a time`))]);
    }
    const a = await first.done;
    expect(a.code, a.stderr).toBe(0);
    const ids = readResults(out).lines.map((l) => l.id);
    expect(ids).toHaveLength(24);
    expect(lines(out)).toBe(24);
    expect(readdirSync(out).sort()).toEqual(['accuracy.svg', 'report.html', 'results.jsonl', 'summary.csv', 'sweep.json']); // lock released
  });

  it('two sweeps started together: one runs, the other is refused; never 2 × the tasks', async () => {
    const out = join(base, 'together');
    const runs = await Promise.all([startChild(args(out), { XBARSIM_FAKE_SLEEP_MS: '60' }), startChild(args(out), { XBARSIM_FAKE_SLEEP_MS: '60' })].map((c) => c.done));
    const codes = runs.map((r) => r.code).sort();
    // Either the loser saw the lock (2), or it started after the winner finished and found a finished sweep (2 as well).
    expect(codes).toEqual([0, 2]);
    const loser = runs.find((r) => r.code === 2)!;
    expect(ownLines(loser.stderr)).toHaveLength(1);
    // The holder's pid, or (refused in the instant between the winner's lock and its owner file, under load) the unnamed holder.
    expect(ownLines(loser.stderr)[0]).toMatch(/in use by (xbarsim pid \d+|another xbarsim run) \(one run per sweep folder|already holds a sweep/);
    expect(lines(out)).toBe(24);
  });

  it('a holder killed with SIGKILL leaves a lock that the next run takes over at once', async () => {
    const out = join(base, 'killed');
    const first = startChild(args(out), { XBARSIM_FAKE_SLEEP_MS: '150' });
    await waitFor(() => lines(out) >= 2);
    process.kill(first.pid, 'SIGKILL');
    await first.done;
    expect(existsSync(join(out, LOCK_DIR))).toBe(true);
    const t0 = Date.now();
    const r = await startChild(args(out, '--resume')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000); // not the 60 s staleness of a lock from another machine
    expect(lines(out)).toBe(24);
    expect(readdirSync(out)).not.toContain(LOCK_DIR);
  });

  it('in-process: the lock refuses a second holder and names this pid; release frees it', () => {
    const d = tempDir();
    const lock = acquireSweepLock(d);
    expect(JSON.parse(readFileSync(join(d, LOCK_OWNER), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(usageMessage(() => acquireSweepLock(d))).toMatch(new RegExp(`in use by xbarsim pid ${process.pid}`));
    lock.release();
    expect(readdirSync(d)).toEqual([]);
    acquireSweepLock(d).release();
  });
});

describe('a sweep folder holds only a sweep', () => {
  it('a folder of other files is refused before any evaluation; report.html and summary.csv are not overwritten', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'notes.txt'), 'mine');
    writeFileSync(join(d, 'report.html'), 'my report');
    const ev = new FakeEvaluator();
    await expect(runSweep({ dir: d, sweep: sweepFile() }, ev, silentProgress)).rejects.toThrow(/holds files a sweep did not write \(notes\.txt\); choose an empty or new folder/);
    expect(ev.calls).toHaveLength(0);
    expect(readdirSync(d).sort()).toEqual(['notes.txt', 'report.html']);
    expect(readFileSync(join(d, 'report.html'), 'utf8')).toBe('my report');
  });

  it('files the system drops (.DS_Store, NFS silly renames) do not make a folder foreign', async () => {
    const d = tempDir();
    writeFileSync(join(d, '.DS_Store'), 'finder');
    writeFileSync(join(d, '.nfs000000000123abcd'), 'nfs');
    await expect(runSweep({ dir: d, sweep: sweepFile() }, new FakeEvaluator(), silentProgress)).resolves.toMatchObject({ ran: 12 });
    expect(readFileSync(join(d, '.DS_Store'), 'utf8')).toBe('finder');
  });

  it('a symlink under a sweep file name is refused (a write would go elsewhere)', async () => {
    const d = tempDir();
    const elsewhere = join(tempDir(), 'precious.csv');
    writeFileSync(elsewhere, 'precious');
    symlinkSync(elsewhere, join(d, 'summary.csv'));
    await expect(runSweep({ dir: d, sweep: sweepFile() }, new FakeEvaluator(), silentProgress)).rejects.toThrow(/summary\.csv is a symlink; a sweep writes only plain files there/);
    expect(readFileSync(elsewhere, 'utf8')).toBe('precious');
  });

  it('the CLI refuses it too, with one line, and an input named like a sweep file in --out', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), 'x');
    const r = await runMain(['sweep', '--model', MLP, '--dataset', 'mnist', '--preset', 'isaac', '--vary', 'adc.bits=4,8', '--out', d, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/^xbarsim: --out .*: holds files a sweep did not write \(data\.csv\)/)]);
    const e = join(tempDir(), 'out');
    mkdirSync(e);
    writeFileSync(join(e, 'sweep.json'), '{}');
    const r2 = await runMain(['sweep', '--model', MLP, '--dataset', 'mnist', '--config', join(e, 'sweep.json'), '--vary', 'adc.bits=4,8', '--out', e, '--backend', 'cpu']);
    expect(r2.code).toBe(2);
    expect(r2.ownStderrLines).toHaveLength(1);
    expect(r2.ownStderrLines[0]).toMatch(/--config .*sweep\.json: is a file that --out .* is written with/);
  });
});

describe('bad data is refused before anything is created (labels, empty data)', () => {
  const work = tempDir();
  const X = join(work, 'X.npy');
  writeFileSync(X, encodeNpy([4, 784], '<f4', new Float32Array(4 * 784).fill(0.5)));
  const y10 = join(work, 'y10.npy');
  writeFileSync(y10, encodeNpy([4], '<f8', [1, 2, 10, 3]));
  const X0 = join(work, 'X0.npy');
  writeFileSync(X0, encodeNpy([0, 784], '<f4', []));
  const y0 = join(work, 'y0.npy');
  writeFileSync(y0, encodeNpy([0], '<f8', []));

  it.each<[string, string, string, RegExp]>([
    ['a label equal to the number of classes', X, y10, /--labels .*y10\.npy: entry 2 is 10 but the model has 10 output classes \(labels 0–9\)/],
    ['0 samples', X0, y0, /--inputs .*X0\.npy: has 0 samples \(shape \[0, 784\]\); nothing to evaluate/],
  ])('eval: %s is exit 2 naming the file and the value', async (_name, x, y, pattern) => {
    const r = await runMain(['eval', '--model', MLP, '--inputs', x, '--labels', y, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(pattern)]);
    expect(r.stdout).toBe('');
  });

  it.each<[string, string, string, RegExp]>([
    ['a label equal to the number of classes', X, y10, /entry 2 is 10 but the model has 10 output classes/],
    ['0 samples', X0, y0, /has 0 samples/],
  ])('sweep: %s is exit 2 and leaves no folder, so the corrected run starts clean', async (_name, x, y, pattern) => {
    const out = join(work, `never-${x === X ? 'labels' : 'empty'}`);
    const r = await runMain(['sweep', '--model', MLP, '--inputs', x, '--labels', y, '--preset', 'isaac', '--vary', 'adc.bits=4,8', '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines.filter((l) => l.startsWith('xbarsim: '))).toEqual([expect.stringMatching(pattern)]);
    expect(existsSync(out)).toBe(false);
  });

  it('a run that fails before its first result removes what it created; with no result line a rerun may change the definition', async () => {
    const d = join(tempDir(), 'fails');
    const failing = { evaluate: () => Promise.reject(new UsageError('bad data found late')), close: () => undefined };
    await expect(runSweep({ dir: d, sweep: sweepFile() }, failing, silentProgress)).rejects.toThrow(/bad data found late/);
    expect(existsSync(d)).toBe(false);
    // A folder left with a definition and no result (an interrupted first task) takes another definition.
    mkdirSync(d);
    writeFileSync(join(d, 'sweep.json'), `${JSON.stringify(sweepFile({ chips: 5 }))}\n`);
    const o = await runSweep({ dir: d, sweep: sweepFile() }, new FakeEvaluator(), silentProgress);
    expect(o).toMatchObject({ ran: 12, interrupted: false });
    expect((JSON.parse(readFileSync(join(d, 'sweep.json'), 'utf8')) as SweepFile).chips).toBe(2);
  });
});

describe('--vary layers.<name or index>.<field> (issue 10 item 11)', () => {
  const isaac = { label: 'isaac', config: resolveConfig({}, { preset: 'isaac' }) };

  it('paths by node name and index, with their kinds from the layer schema', () => {
    expect(pathKind('layers.fc1.adc.bits')).toEqual({ kind: 'number', integer: true });
    expect(pathKind('layers.0.weights.bits')).toEqual({ kind: 'number', integer: true });
    expect(pathKind('layers.fc1.digital')).toEqual({ kind: 'boolean' });
    expect(pathKind('layers.fc1.adc.range')).toMatchObject({ kind: 'number-or-enum' });
    expect(pathKind('layers.fc1.preset')).toMatchObject({ kind: 'enum', options: expect.arrayContaining(['isaac', 'neural-pim']) });
    // A node name holding dots (PyTorch exports) is kept whole.
    expect(parseVary('layers.features.0.conv.adc.bits=4,8').values).toEqual([4, 8]);
  });

  it('each point sets that layer and keeps the series\' other layer entries', () => {
    const base = { label: 'mine', config: resolveConfig({ preset: 'isaac', layers: { fc2: { digital: true } } }) };
    const pts = buildPoints([isaac, base], parseVaries(['layers.fc1.adc.bits=4,8', 'layers.0.weights.bits=6', 'layers.fc3.digital=true,false']));
    expect(pts).toHaveLength(8);
    expect(pts[0].config.layers).toEqual({ fc1: { adc: { bits: 4 } }, 0: { weights: { bits: 6 } }, fc3: { digital: true } });
    expect(pts[7].config.layers).toEqual({ fc2: { digital: true }, fc1: { adc: { bits: 8 } }, 0: { weights: { bits: 6 } }, fc3: { digital: false } });
    expect(usageMessage(() => buildPoints([isaac], parseVaries(['layers.fc1.adc.bits=1'])))).toMatch(/^--vary layers\.fc1\.adc\.bits=1: value 1 \(preset isaac\): config: layers\.fc1\.adc\.bits: must be 0 or an integer 2–16/);
    expect(usageMessage(() => buildPoints([isaac], parseVaries(['layers.__proto__.adc.bits=4'])))).toMatch(/layers\.__proto__: is not a layer name/);
  });

  it('layer keys are checked against the model: unknown names list the layers, two keys for one layer are refused', () => {
    const layers = [{ index: 0, name: 'fc1' }, { index: 1, name: 'fc2' }, { index: 2, name: 'fc3' }];
    const v = parseVaries(['layers.fc9.adc.bits=4,8']);
    expect(usageMessage(() => checkLayerKeys(varyLayerKeys(v), layers))).toBe('--vary layers.fc9.adc.bits=4,8: no Linear/Conv layer of the model has the name or index "fc9" (layers: 0 fc1, 1 fc2, 2 fc3)');
    expect(() => checkLayerKeys(varyLayerKeys(parseVaries(['layers.fc1.adc.bits=4', 'layers.2.digital=true'])), layers)).not.toThrow();
    const cfg = resolveConfig({ layers: { fc1: { digital: true } } });
    expect(usageMessage(() => checkLayerKeys([...configLayerKeys(cfg, '--config c.json'), ...varyLayerKeys(parseVaries(['layers.0.adc.bits=4']))], layers))).toMatch(
      /^--vary layers\.0\.adc\.bits=4: names layer 0 fc1, as --config c\.json: layers\.fc1 does; use one key per layer$/,
    );
  });

  it('the real command refuses an unknown layer before creating anything', async () => {
    const out = join(tempDir(), 'layers');
    const r = await runMain(['sweep', '--model', MLP, '--dataset', 'mnist', '--preset', 'isaac', '--vary', 'layers.fc9.adc.bits=4,8', '--limit', '5', '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines.filter((l) => l.startsWith('xbarsim: '))).toEqual(['xbarsim: --vary layers.fc9.adc.bits=4,8: no Linear/Conv layer of the model has the name or index "fc9" (layers: 0 fc1, 1 fc2, 2 fc3)']);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a grid is counted before it is built (issue 10 item 12)', () => {
  it('over MAX_TASKS: exit 2 at once saying how many and the limit', async () => {
    expect(MAX_TASKS).toBe(100_000);
    expect(countTasks(2, parseVaries(['adc.bits=4,8']), 3)).toBe(12);
    expect(usageMessage(() => countTasks(1, parseVaries(['noise.read.sigma=0:1:100000']), 1_000_000))).toBe(
      'sweep: 1 preset × 100000 values of noise.read.sigma × 1000000 chips = 100,000,000,000 evaluations, over the limit of 100,000 per sweep; use fewer values or chips, or split the study into several sweeps',
    );
    const t0 = Date.now();
    const out = join(tempDir(), 'huge');
    const r = await runMain(['sweep', '--model', MLP, '--dataset', 'mnist', '--preset', 'isaac', '--vary', 'noise.read.sigma=0:1:100000', '--chips', '1000000', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/= 100,000,000,000 evaluations, over the limit of 100,000 per sweep/)]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(out)).toBe(false);
  });
});

describe('accuracy statistics (issue 10 item 14, issue 11 item 6)', () => {
  it('identical accuracies: std exactly 0, and 0 in summary.csv', async () => {
    expect(meanStdCi([0.9, 0.9, 0.9])).toEqual({ mean: 0.9, std: 0, ci95: 0 });
    expect(meanStdCi([0.97, 0.97]).std).toBe(0);
    const d = tempDir();
    const file = sweepFile({ varies: parseVaries(['noise.programming.sigma=0']), chips: 3, limit: 50 });
    await runSweep({ dir: d, sweep: file }, new FakeEvaluator(), silentProgress);
    const row = readFileSync(join(d, 'summary.csv'), 'utf8').split('\n')[1].split(',');
    expect(row.slice(4, 8)).toEqual(['0.98', '0', '0.98', '0.98']); // mean, std, interval
  });

  it('intervals stay inside [0, 1]; 2 chips are flagged; the same interval in summary.csv and report.html', () => {
    const two = accuracyStats([0.6, 0.86]);
    expect(two.ci95).toBeGreaterThan(1); // the raw t interval: 12.71 · 0.18 / √2
    expect(two.interval).toEqual({ low: 0, high: 1, clipped: true, fewChips: true });
    const many = accuracyStats([0.97, 0.99, 1, 1, 0.98]);
    expect(many.interval!.high).toBe(1);
    expect(many.interval!.clipped).toBe(true);
    expect(many.interval!.fewChips).toBe(false);
    const inside = accuracyStats([0.5, 0.52, 0.48, 0.51]);
    expect(inside.interval).toMatchObject({ clipped: false, fewChips: false });
    expect(inside.interval!.low).toBeCloseTo(inside.mean - inside.ci95!, 12);
    expect(accuracyStats([0.7]).interval).toBeNull();

    const file = sweepFile({ varies: parseVaries(['noise.programming.sigma=0.1']), series: [{ label: 'isaac', config: resolveConfig({}, { preset: 'isaac' }) }] });
    const points = buildPoints(file.series, file.varies);
    const mk = (chip: number, accuracy: number) => ({
      id: `t${chip}`, preset: 'isaac', point: { 'noise.programming.sigma': 0.1 }, chip, seed: 0, accuracy, correct: 0, total: 50,
      counts: { layers: [], total: { adcConversions: 0, dacActivations: 0, cellReads: 0, analogAccumulations: 0, digitalShiftAdds: 0, arrays: 0, partitionAdds: 0 }, vectors: 50 },
      seconds: 0, adapter: 'x', config: points[0].config,
    });
    const rows = summarize(points, [mk(0, 0.6), mk(1, 0.86)]);
    const csv = summaryCsv(file.varies, rows).split('\n');
    const cells = csv[1].split(',');
    const col = (name: string): string => cells[csv[0].split(',').indexOf(name)];
    expect([col('accuracy_ci95_low'), col('accuracy_ci95_high'), col('accuracy_ci95_note')]).toEqual(['0', '1', 'few chips; clipped']);
    const html = reportHtml({ def: file, rows, results: [], gridTasks: 2, accuracySvg: '<svg></svg>', conversionsSvg: '<svg></svg>' });
    expect(html).toContain('0.00% – 100.00% (few chips; clipped)');
    expect(html).toContain('clipped to [0, 1]');
    const percents = [...html.matchAll(/(-?\d+(\.\d+)?)%/g)].map((m) => Number(m[1]));
    expect(percents.length).toBeGreaterThan(0);
    for (const p of percents) expect(p >= 0 && p <= 100, `${p}%`).toBe(true);
  });

  it('eval --json reports the clipped interval and the method', async () => {
    const work = tempDir();
    const X = join(work, 'X.npy');
    writeFileSync(X, encodeNpy([3, 784], '<f4', Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 13) / 13)));
    const y = join(work, 'y.npy');
    writeFileSync(y, encodeNpy([3], '<f8', [0, 1, 2]));
    const cfg = join(work, 'noisy.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'isaac', noise: { programming: { sigma: 0.3 } }, calibration: { samples: 3 } }));
    const r = await runMain(['eval', '--model', MLP, '--inputs', X, '--labels', y, '--config', cfg, '--chips', '2', '--json', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const acc = (JSON.parse(r.stdout) as { accuracy: { mean: number; ci95: [number, number] | null; ci95FewChips: boolean; ci95Method: string } }).accuracy;
    expect(acc.ci95FewChips).toBe(true);
    expect(acc.ci95Method).toMatch(/Student's t, clipped to \[0, 1\]/);
    if (acc.ci95 !== null) {
      expect(acc.ci95[0]).toBeGreaterThanOrEqual(0);
      expect(acc.ci95[1]).toBeLessThanOrEqual(1);
    }
  });
});
