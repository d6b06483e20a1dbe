import { canonicalJson, taskId } from './ids.ts';

export { canonicalJson, taskId } from './ids.ts';
import { applyOverrides, resolveConfig, setConfigPath } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';
import { UsageError, messageOf } from '../errors.ts';
import type { Vary } from './spec.ts';
import type { VaryValue } from './types.ts';

/** One side-by-side configuration of a sweep: a preset (or the --config file) and its base config. */
export interface Series {
  label: string;
  config: XbarConfig;
}

/** One grid point: a series with one value per varied path, and the config that results. */
export interface GridPoint {
  /** Position in the grid (series outermost, then the varies in the order given, last fastest). */
  index: number;
  series: string;
  /** Varied path → value, keys in --vary order. */
  point: Record<string, VaryValue>;
  /** canonicalJson({ series, point }): identifies the point across files and runs. */
  key: string;
  config: XbarConfig;
}

/** One evaluation: a grid point on one chip instance. */
export interface Task {
  /** Position in the whole (unsharded) grid: point-major, chip fastest. */
  index: number;
  /** Stable id: sha256 of canonicalJson({ series, point, chip }), first 16 hex digits. */
  id: string;
  series: string;
  point: Record<string, VaryValue>;
  pointKey: string;
  pointIndex: number;
  chip: number;
  config: XbarConfig;
}

/** `--shard i/n`: the i-th (1-based) of n parts. */
export interface Shard {
  index: number;
  count: number;
}

/** The key that identifies a grid point (series + varied values). */
export function pointKey(series: string, point: Record<string, VaryValue>): string {
  return canonicalJson({ series, point });
}


/** `base` with every dotted path of `point` set (layer paths add to their layer's entry), not validated. */
function pointConfig(base: XbarConfig, point: Record<string, VaryValue>): XbarConfig {
  let c = base;
  for (const [path, value] of Object.entries(point)) c = setConfigPath(c, path, value);
  return c;
}

/**
 * The most tasks (grid points × chips) one sweep may have. Each task is one evaluation and one
 * results.jsonl line (about 2 KB with its config), and the grid is held in memory: 100,000 tasks
 * is a 200 MB results file and days of evaluations on one GPU; split bigger studies into sweeps.
 */
export const MAX_TASKS = 100_000;

/**
 * Tasks of a grid, counted before anything is built: series × Π values × chips. Throws a one-line
 * UsageError saying how many and the limit when over MAX_TASKS.
 */
export function countTasks(seriesCount: number, varies: readonly Vary[], chips: number): number {
  let n = seriesCount * chips;
  for (const v of varies) n *= v.values.length;
  if (n > MAX_TASKS) {
    const parts = [`${seriesCount} preset${seriesCount === 1 ? '' : 's'}`, ...varies.map((v) => `${v.values.length} values of ${v.path}`), `${chips} chip${chips === 1 ? '' : 's'}`];
    throw new UsageError(`sweep: ${parts.join(' × ')} = ${n.toLocaleString('en-US')} evaluations, over the limit of ${MAX_TASKS.toLocaleString('en-US')} per sweep; use fewer values or chips, or split the study into several sweeps`);
  }
  return n;
}

function showValue(v: VaryValue): string {
  return typeof v === 'string' ? v : String(v);
}

/**
 * Every grid point: series × the cartesian product of the varies. Each point's config is the
 * series config with all varied paths set at once and then validated as a whole, so that
 * coupled paths (inputs.bits with inputs.dacBits, dataflow with weights.mapping) are judged
 * together rather than one by one. A value that is invalid on its own for a series
 * (applyOverrides) and makes a point invalid is blamed on its --vary flag.
 */
export function buildPoints(series: readonly Series[], varies: readonly Vary[]): GridPoint[] {
  if (series.length === 0) throw new UsageError('sweep: no preset or config to run');
  const labels = new Set<string>();
  for (const s of series) {
    if (labels.has(s.label)) throw new UsageError(`sweep: "${s.label}" given twice (each preset once)`);
    labels.add(s.label);
  }
  const out: GridPoint[] = [];
  for (const s of series) {
    // Per-value errors, computed once per series; kept only to name the culprit flag below.
    const alone = new Map<string, string>();
    for (const v of varies) {
      for (const value of v.values) {
        try {
          applyOverrides(s.config, v.path, value);
        } catch (e) {
          alone.set(`${v.path}\u0000${JSON.stringify(value)}`, messageOf(e));
        }
      }
    }
    for (const combo of cartesian(varies.map((v) => v.values))) {
      const point: Record<string, VaryValue> = {};
      varies.forEach((v, i) => (point[v.path] = combo[i]));
      let config: XbarConfig;
      try {
        config = resolveConfig(pointConfig(s.config, point));
      } catch (e) {
        const where = `(preset ${s.label})`;
        for (const v of varies) {
          const msg = alone.get(`${v.path}\u0000${JSON.stringify(point[v.path])}`);
          if (msg !== undefined) throw new UsageError(`--vary ${v.path}=${v.spec}: value ${showValue(point[v.path])} ${where}: ${msg}`);
        }
        const at = Object.entries(point).map(([p, v]) => `${p}=${showValue(v)}`).join(', ');
        throw new UsageError(`--vary: the point ${at} ${where} is not a valid config: ${messageOf(e)}`);
      }
      out.push({ index: out.length, series: s.label, point, key: pointKey(s.label, point), config });
    }
  }
  return out;
}

function* cartesian(lists: readonly (readonly VaryValue[])[]): Generator<VaryValue[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = lists;
  for (const v of first) for (const tail of cartesian(rest)) yield [v, ...tail];
}

/** Every (point, chip) task in the grid's deterministic order: point-major, chips 0..chips−1 fastest. */
export function buildTasks(points: readonly GridPoint[], chips: number): Task[] {
  const tasks: Task[] = [];
  for (const p of points) {
    for (let chip = 0; chip < chips; chip++) {
      tasks.push({
        index: tasks.length,
        id: taskId(p.series, p.point, chip),
        series: p.series,
        point: p.point,
        pointKey: p.key,
        pointIndex: p.index,
        chip,
        config: p.config,
      });
    }
  }
  return tasks;
}

/** Parses `--shard i/n` (1 ≤ i ≤ n); throws a one-line UsageError otherwise. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new UsageError(`--shard ${text}: expected i/n with integers 1 <= i <= n (e.g. 2/8)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count || !Number.isSafeInteger(count)) {
    throw new UsageError(`--shard ${text}: expected i/n with integers 1 <= i <= n (e.g. 2/8)`);
  }
  return { index, count };
}

/**
 * The tasks of one shard: those whose grid index satisfies `index % n == i − 1`. Round-robin
 * rather than contiguous blocks so every shard gets a similar mix of presets and noise levels
 * (and so a similar run time); the n shards are disjoint and together are the whole grid.
 */
export function shardTasks(tasks: readonly Task[], shard: Shard | null): Task[] {
  if (shard === null) return [...tasks];
  return tasks.filter((t) => t.index % shard.count === shard.index - 1);
}
