import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { resolveConfig } from '../config/schema.ts';
import { UsageError, messageOf } from '../errors.ts';
import { writeTextAtomic } from '../io/atomic-write.ts';
import { BUILTIN_DATASETS, BUILTIN_DATASET_TITLES, type BuiltinDataset } from '../io/datasets/builtin.ts';
import { canonicalJson } from './grid.ts';
import type { Series, Shard } from './grid.ts';
import type { Vary } from './spec.ts';

/** The sweep definition file in a sweep folder. */
export const SWEEP_FILE = 'sweep.json';

/** A file named by path and identified by content (paths differ between machines of a cluster). */
export interface FileRef {
  path: string;
  sha256: string;
}

/** The evaluated data: a built-in dataset's test split, or .npy inputs and labels. */
export type DatasetRef = { kind: BuiltinDataset } | { kind: 'npy'; inputs: FileRef; labels: FileRef };

/** How reports name the evaluated data. */
export function datasetTitle(d: DatasetRef): string {
  return d.kind === 'npy' ? `${d.inputs.path} / ${d.labels.path}` : BUILTIN_DATASET_TITLES[d.kind];
}

/** Everything that determines a sweep's results (the contents of sweep.json, less the shard). */
export interface SweepDefinition {
  version: 1;
  model: FileRef;
  dataset: DatasetRef;
  /** Side-by-side configurations, each with its resolved base config (--seed applied). */
  series: Series[];
  varies: Vary[];
  chips: number;
  /** Images per evaluation (null: the whole dataset). */
  limit: number | null;
  /** The adapter set every evaluation installs (src/adapters; absent: none). */
  adapters?: FileRef;
}

/** sweep.json: the definition plus which shard of it this folder runs (null: all of it). */
export interface SweepFile extends SweepDefinition {
  shard: Shard | null;
}

/** sha256 of a file's bytes, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The parts of a definition that decide results: file contents (not paths), series, varied
 * values (not how they were written), chips and limit. Two folders with equal keys hold parts
 * of the same sweep.
 */
export function definitionKey(d: SweepDefinition): unknown {
  return {
    model: d.model.sha256,
    dataset: d.dataset.kind !== 'npy' ? d.dataset.kind : { inputs: d.dataset.inputs.sha256, labels: d.dataset.labels.sha256 },
    series: d.series.map((s) => ({ label: s.label, config: s.config })),
    varies: d.varies.map((v) => ({ path: v.path, values: v.values })),
    chips: d.chips,
    limit: d.limit,
    ...(d.adapters ? { adapters: d.adapters.sha256 } : {}),
  };
}

/** null if `a` and `b` define the same sweep, else a short phrase naming the first difference. */
export function definitionDifference(a: SweepDefinition, b: SweepDefinition): string | null {
  const ka = definitionKey(a) as Record<string, unknown>;
  const kb = definitionKey(b) as Record<string, unknown>;
  if (canonicalJson(ka) === canonicalJson(kb)) return null;
  if (ka.model !== kb.model) return 'a different model file';
  if (canonicalJson(ka.dataset) !== canonicalJson(kb.dataset)) return 'a different dataset';
  const la = a.series.map((s) => s.label).join(', ');
  const lb = b.series.map((s) => s.label).join(', ');
  if (la !== lb) return `presets ${la} vs ${lb}`;
  for (let i = 0; i < a.series.length; i++) {
    if (canonicalJson(a.series[i].config) !== canonicalJson(b.series[i].config)) return `a different config for ${a.series[i].label}`;
  }
  const va = a.varies.map((v) => `${v.path}=${v.values.join(',')}`).join(' ');
  const vb = b.varies.map((v) => `${v.path}=${v.values.join(',')}`).join(' ');
  if (va !== vb) return `varies ${va} vs ${vb}`;
  if (a.chips !== b.chips) return `chips ${a.chips} vs ${b.chips}`;
  if (a.limit !== b.limit) return `limit ${a.limit ?? 'all'} vs ${b.limit ?? 'all'}`;
  if (a.adapters?.sha256 !== b.adapters?.sha256) return 'a different adapter set';
  return 'a different definition';
}

const fileRef = z.object({ path: z.string(), sha256: z.string() });
const varyValue = z.union([z.number(), z.string(), z.boolean()]);
const sweepFileSchema = z.object({
  version: z.literal(1),
  model: fileRef,
  adapters: fileRef.optional(),
  dataset: z.union([z.object({ kind: z.enum(BUILTIN_DATASETS) }), z.object({ kind: z.literal('npy'), inputs: fileRef, labels: fileRef })]),
  series: z.array(z.object({ label: z.string(), config: z.record(z.string(), z.unknown()) })).min(1),
  varies: z.array(
    z.object({ path: z.string(), spec: z.string(), scale: z.enum(['linear', 'log', 'list']), values: z.array(varyValue).min(1) }),
  ),
  chips: z.number().int().min(1),
  limit: z.number().int().min(1).nullable(),
  shard: z.object({ index: z.number().int().min(1), count: z.number().int().min(1) }).nullable(),
});

/** Reads DIR/sweep.json; undefined if there is none; a UsageError if it is not a sweep definition. */
export function readSweepFile(dir: string): SweepFile | undefined {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: not a sweep definition (${messageOf(e)})`);
  }
  const r = sweepFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UsageError(`${path}: not a sweep definition (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`);
  }
  const d = r.data;
  let series: Series[];
  try {
    series = d.series.map((s) => ({ label: s.label, config: resolveConfig(s.config) }));
  } catch (e) {
    throw new UsageError(`${path}: ${messageOf(e)}`);
  }
  return { ...d, series };
}

/** Writes DIR/sweep.json atomically. */
export function writeSweepFile(dir: string, file: SweepFile): void {
  writeTextAtomic(join(dir, SWEEP_FILE), `${JSON.stringify(file, null, 2)}\n`);
}
