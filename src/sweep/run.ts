import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, messageOf } from '../errors.ts';
import { SWEEP_FILE, definitionDifference, readSweepFile, writeSweepFile } from './definition.ts';
import { acquireSweepLock, type SweepLock } from './lock.ts';
import { checkSweepFolder, removeStaleTemps } from './outdir.ts';
import type { SweepDefinition, SweepFile } from './definition.ts';
import { buildPoints, buildTasks, shardTasks } from './grid.ts';
import type { GridPoint, Task } from './grid.ts';
import type { SweepProgress } from './progress.ts';
import { RESULTS_FILE, ResultsWriter, readResults, repairResults, writeResultsAtomic } from './results.ts';
import type { ResultLine } from './results.ts';
import { ACCURACY_SVG, REPORT_FILE, writeReports } from './report.ts';
import { SUMMARY_FILE, summarize } from './summary.ts';
import type { Evaluator, VaryValue } from './types.ts';

/** What runSweep is asked to do. */
export interface RunSweepOptions {
  /** The sweep folder (created if absent; its parent must exist). */
  dir: string;
  /** The sweep definition and the shard this folder runs. */
  sweep: SweepFile;
  /** Aborting stops the sweep promptly: the running evaluation's result is dropped, none is half-written. */
  signal?: AbortSignal;
  /** The flag that named the folder, for messages (default `--out`). */
  flag?: string;
}

/** How a runSweep call went. */
export interface SweepOutcome {
  /** Tasks in the whole grid. */
  gridTasks: number;
  /** Tasks in this shard. */
  shardTasks: number;
  /** Shard tasks found already done (resume). */
  skipped: number;
  /** Tasks evaluated by this call. */
  ran: number;
  /** True if stopped by the signal before finishing. */
  interrupted: boolean;
  /** Result lines in the folder at the end (all shards that wrote there). */
  results: number;
}

/** The grid of a definition: its points and every (point, chip) task in order. */
export function gridOf(def: SweepDefinition): { points: GridPoint[]; tasks: Task[] } {
  const points = buildPoints(def.series, def.varies);
  return { points, tasks: buildTasks(points, def.chips) };
}

/** A short label for progress output: `isaac noise.programming.sigma=0.05 chip 3`. */
function taskLabel(t: Task): string {
  const at = Object.entries(t.point)
    .map(([p, v]: [string, VaryValue]) => `${p}=${String(v)}`)
    .join(' ');
  return `${t.series}${at === '' ? '' : ` ${at}`} chip ${t.chip}`;
}

const ABORTED = Symbol('aborted');

/** Resolves with the promise's value, or with ABORTED as soon as the signal fires. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise<T | typeof ABORTED>((res, rej) => {
    const onAbort = (): void => res(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        res(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rej(e);
      },
    );
  });
}

/**
 * Regenerates summary.csv, accuracy.svg and report.html of a sweep folder from its
 * results.jsonl (all complete lines, whichever shards wrote them).
 */
export async function writeSweepOutputs(dir: string, def: SweepDefinition): Promise<number> {
  const { points, tasks } = gridOf(def);
  const { lines } = readResults(dir);
  const rows = summarize(points, lines);
  await writeReports(dir, def, rows, lines, tasks.length);
  return lines.length;
}

/**
 * Opens a sweep folder for writing: creates it if absent (its parent must exist), takes its lock
 * and checks it holds only a sweep's files. `undo()` (on a failure before anything was written)
 * releases the lock and removes the folder again if this call created it.
 */
function openFolder(dir: string, flag: string): { lock: SweepLock; created: boolean; undo(): void } {
  // Not recursive: of two runs starting together only one creates the folder, and only an
  // empty folder of our own making is ever removed again.
  let created = false;
  try {
    mkdirSync(dir);
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`${flag} ${dir}: cannot create the folder: ${messageOf(e)}`);
  }
  const removeIfEmpty = (): void => {
    try {
      if (created && readdirSync(dir).length === 0) rmdirSync(dir);
    } catch {
      // another run's files appeared: they stay
    }
  };
  let lock: SweepLock;
  try {
    lock = acquireSweepLock(dir, flag);
  } catch (e) {
    removeIfEmpty();
    throw e;
  }
  const undo = (): void => {
    lock.release();
    removeIfEmpty();
  };
  try {
    checkSweepFolder(dir, flag);
    removeStaleTemps(dir);
  } catch (e) {
    undo();
    throw e;
  }
  return { lock, created, undo };
}

/**
 * Runs a sweep (or one shard of it) into `opts.dir` under the folder's exclusive lock: writes
 * sweep.json, evaluates every task of the shard that results.jsonl does not already hold,
 * appending one line per task as it finishes, then regenerates the summary and report. Safe to
 * kill at any moment: a rerun (resume) skips what is written and cuts off a partial last line. A
 * folder holding a different sweep with results, or files a sweep did not write, or locked by
 * another run, is a UsageError; one with a definition but no result line yet is taken over. A
 * failure before the first result line removes what this call created, so nothing is left
 * behind. Checking that a fresh run does not overwrite a finished sweep is the caller's business
 * (the CLI's --resume rule).
 */
export async function runSweep(opts: RunSweepOptions, evaluator: Evaluator, progress: SweepProgress): Promise<SweepOutcome> {
  const dir = resolve(opts.dir);
  const flag = opts.flag ?? '--out';
  const file = opts.sweep;
  const { tasks } = gridOf(file);
  const mine = shardTasks(tasks, file.shard);

  const folder = openFolder(dir, flag);
  const createdFiles: string[] = [];
  let ran = 0;
  let interrupted = false;
  let skipped = 0;
  try {
    const existing = readSweepFile(dir);
    const had = repairResults(dir);
    if (existing !== undefined) {
      const diff = definitionDifference(existing, file);
      if (diff !== null && had.lines.length > 0) throw new UsageError(`${opts.dir}: holds a different sweep (${diff}); choose another folder`);
      // No result yet: nothing to keep, so the new definition replaces the old one and its empty reports.
      if (diff !== null) for (const f of [SUMMARY_FILE, REPORT_FILE, ACCURACY_SVG]) rmSync(join(dir, f), { force: true });
    }
    if (existing === undefined) createdFiles.push(SWEEP_FILE);
    if (!existsSync(join(dir, RESULTS_FILE))) createdFiles.push(RESULTS_FILE);
    writeSweepFile(dir, file);

    const done = new Set(had.lines.map((l) => l.id));
    const todo = mine.filter((t) => !done.has(t.id));
    skipped = mine.length - todo.length;

    progress.start(mine.length, skipped);
    const writer = new ResultsWriter(dir);
    try {
      for (const task of todo) {
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
        const r = await raceAbort(evaluator.evaluate({ config: task.config, chip: task.chip, limit: file.limit ?? undefined }), opts.signal);
        // After an abort nothing more is written, even if the evaluation finished meanwhile.
        if (r === ABORTED || opts.signal?.aborted) {
          interrupted = true;
          break;
        }
        const line: ResultLine = {
          id: task.id,
          preset: task.series,
          point: task.point,
          chip: task.chip,
          seed: r.seed,
          accuracy: r.accuracy,
          correct: r.correct,
          total: r.total,
          counts: r.counts,
          seconds: r.seconds,
          adapter: r.adapter,
          config: task.config,
        };
        folder.lock.assertHeld();
        writer.append(line);
        ran++;
        progress.tick(skipped + ran, taskLabel(task));
      }
    } finally {
      writer.close();
      progress.stop();
    }

    let results = 0;
    if (!interrupted) results = await writeSweepOutputs(dir, file);
    else results = readResults(dir).lines.length;
    folder.lock.release();
    return { gridTasks: tasks.length, shardTasks: mine.length, skipped, ran, interrupted, results };
  } catch (e) {
    // Failed before its first result line (bad data, a config the model refuses): leave nothing new.
    if (ran === 0 && !interrupted) {
      for (const f of createdFiles) rmSync(join(dir, f), { force: true });
      folder.undo();
    } else {
      folder.lock.release();
    }
    throw e;
  }
}

/** How a merge went. */
export interface MergeOutcome {
  gridTasks: number;
  /** Distinct results in the merged folder. */
  results: number;
  /** Lines dropped because another folder had the same task. */
  duplicates: number;
  /** Lines dropped because their task is not in the grid. */
  foreign: number;
}

/**
 * Merges sweep folders (shards of one sweep) into `out`: every input must hold the same sweep
 * definition (the shard aside); results are deduplicated by task id and written in grid order,
 * so merging all shards gives the file an unsharded run writes. `out` may be new, or hold the
 * same sweep (its results are kept, so merging again as more shards finish is safe). Inputs
 * are only read; everything is checked before `out` is touched.
 */
export async function mergeSweeps(inputs: readonly string[], out: string): Promise<MergeOutcome> {
  if (inputs.length === 0) throw new UsageError('merge: name at least one sweep folder');
  const files: SweepFile[] = inputs.map((d) => {
    if (!existsSync(d)) throw new UsageError(`merge: ${d}: no such folder`);
    const f = readSweepFile(d);
    if (f === undefined) throw new UsageError(`merge: ${d}: no sweep.json (not a sweep folder)`);
    return f;
  });
  const first = files[0];
  files.forEach((f, i) => {
    const diff = definitionDifference(first, f);
    if (diff !== null) throw new UsageError(`merge: ${inputs[i]} holds a different sweep than ${inputs[0]} (${diff})`);
  });
  const sources = [...inputs];
  const outFile = existsSync(out) ? readSweepFile(out) : undefined;
  if (outFile !== undefined) {
    const diff = definitionDifference(first, outFile);
    if (diff !== null) throw new UsageError(`merge: --out ${out} holds a different sweep (${diff}); choose another folder`);
    if (!sources.some((s) => resolve(s) === resolve(out))) sources.push(out);
  }

  const { tasks } = gridOf(first);
  const order = new Map(tasks.map((t) => [t.id, t.index]));
  const byId = new Map<string, ResultLine>();
  let duplicates = 0;
  let foreign = 0;
  for (const d of sources) {
    for (const line of readResults(d).lines) {
      if (!order.has(line.id)) foreign++;
      else if (byId.has(line.id)) duplicates++;
      else byId.set(line.id, line);
    }
  }
  const merged = [...byId.values()].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));

  const folder = openFolder(resolve(out), '--out');
  try {
    // Under the lock, --out's own definition is read again: another merge may have just written it.
    const now = readSweepFile(out);
    const diff = now === undefined ? null : definitionDifference(first, now);
    if (diff !== null) throw new UsageError(`merge: --out ${out} holds a different sweep (${diff}); choose another folder`);
    writeSweepFile(out, { ...first, shard: null });
    writeResultsAtomic(out, merged);
    await writeSweepOutputs(out, first);
  } catch (e) {
    folder.undo();
    throw e;
  }
  folder.lock.release();
  return { gridTasks: tasks.length, results: merged.length, duplicates, foreign };
}
