import { existsSync, statSync } from 'node:fs';
import { basename, extname, relative } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { PRESET_NAMES, isPresetName } from '../config/presets.ts';
import { resolveConfig } from '../config/schema.ts';
import { UsageError, messageOf } from '../errors.ts';
import { BACKEND_CHOICES } from '../gpu/backend.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../io/datasets/builtin.ts';
import { readAdapterFile } from '../adapters/file.ts';
import { datasetTitle, sha256File, readSweepFile, definitionDifference } from '../sweep/definition.ts';
import type { DatasetRef, FileRef, SweepFile } from '../sweep/definition.ts';
import { DEMO_CHIPS, DEMO_LIMIT, DEMO_MODEL, DEMO_OUT, DEMO_PRESETS, DEMO_VARY } from '../sweep/demo.ts';
import { buildPoints, countTasks, parseShard, buildTasks, shardTasks } from '../sweep/grid.ts';
import type { Series, Shard } from '../sweep/grid.ts';
import { createProgress, formatDuration } from '../sweep/progress.ts';
import { readResults } from '../sweep/results.ts';
import { checkLayerKeys, configLayerKeys, varyLayerKeys } from '../sweep/layers.ts';
import { refuseIfLocked } from '../sweep/lock.ts';
import { runSweep } from '../sweep/run.ts';
import { parseVaries } from '../sweep/spec.ts';
import type { Vary } from '../sweep/spec.ts';
import type { Evaluator, EvaluatorOptions, SweepEvalSetup } from '../sweep/types.ts';
import { checkInputsOutsideOutputs, checkOutDir } from '../sweep/outdir.ts';
import { modelDigest } from '../nn/load-model.ts';
import { registerMergeCommand } from './merge.ts';
import { circuitBackend } from './backend-guard.ts';

export type { SweepEvalSetup } from '../sweep/types.ts';

/** Makes the evaluator a sweep runs on (the network evaluator; tests pass a fake). */
export type EvaluatorFactory = (setup: SweepEvalSetup, opts?: EvaluatorOptions) => Promise<Evaluator>;

/** Flags of `xbarsim sweep`, as commander hands them over. */
export interface SweepFlags {
  model?: string;
  dataset?: string;
  inputs?: string;
  labels?: string;
  preset?: string[];
  config?: string;
  vary?: string[];
  chips?: string;
  limit?: string;
  out?: string;
  resume?: boolean;
  shard?: string;
  backend: BackendChoice;
  retune?: boolean;
  seed?: string;
  adapters?: string;
}

/** A checked sweep, ready to run: nothing has been written yet. */
export interface SweepPlan {
  dir: string;
  file: SweepFile;
  setup: SweepEvalSetup;
  resume: boolean;
  demo: boolean;
  /** Tasks in the whole grid and in this shard. */
  gridTasks: number;
  shardTasks: number;
}

/** Commander parser for repeatable options (no default, so help shows none). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Parses an integer flag in [min, max]; undefined when absent; a one-line UsageError otherwise. */
function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${name}: must be an integer ${min}–${max} (got ${value})`);
  }
  return Number(value);
}

/** A file that must exist: its path and sha256 (a UsageError naming the flag otherwise). */
function fileRef(flag: string, path: string, digest: (path: string) => string = sha256File): FileRef {
  if (!existsSync(path)) throw new UsageError(`${flag} ${path}: not found`);
  if (!statSync(path).isFile()) throw new UsageError(`${flag} ${path}: is not a file`);
  try {
    return { path, sha256: digest(path) };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} ${path}: cannot read: ${messageOf(e)}`);
  }
}

/** The series (side-by-side configs) from --preset (repeatable) and --config. */
function seriesFromFlags(presets: readonly string[], config: string | undefined, demo: boolean): Series[] {
  const seen = new Set<string>();
  for (const p of presets) {
    if (!isPresetName(p)) throw new UsageError(`--preset ${p}: unknown preset (allowed: ${PRESET_NAMES.join(', ')})`);
    if (seen.has(p)) throw new UsageError(`--preset ${p}: given twice`);
    seen.add(p);
  }
  if (presets.length > 0) {
    // As in `xbarsim vmm`: the preset is the base and the --config file's fields override it.
    return presets.map((p) => ({ label: p, config: config !== undefined ? loadConfigFile(config, p) : resolveConfig({}, { preset: p }) }));
  }
  if (config !== undefined) return [{ label: basename(config, extname(config)) || 'config', config: loadConfigFile(config) }];
  if (demo) return DEMO_PRESETS.map((p) => ({ label: p, config: resolveConfig({}, { preset: p }) }));
  throw new UsageError('sweep: one of --preset NAME (repeatable) or --config FILE is required');
}

/**
 * Checks every flag and the output folder, and builds the sweep definition; writes nothing.
 * With none of --model, --dataset, --inputs, --labels, --preset, --config, --vary given, the
 * built-in demo fills in what is missing (demo.ts).
 */
export function planSweep(flags: SweepFlags): SweepPlan {
  const f = { ...flags, preset: flags.preset ?? [], vary: flags.vary ?? [] };
  const demo =
    f.model === undefined && f.dataset === undefined && f.inputs === undefined && f.labels === undefined &&
    f.preset.length === 0 && f.config === undefined && f.vary.length === 0;

  const varies: Vary[] = parseVaries(f.vary.length > 0 ? f.vary : demo ? [DEMO_VARY] : []);
  if (varies.length === 0) throw new UsageError('sweep: --vary PATH=SPEC is required (e.g. --vary noise.programming.sigma=0:0.1:5)');
  const shard: Shard | null = f.shard === undefined ? null : parseShard(f.shard);
  const chips = intFlag('--chips', f.chips, 1, 1_000_000) ?? (demo ? DEMO_CHIPS : 1);
  const limitFlag = intFlag('--limit', f.limit, 1, 2 ** 31 - 1);
  const limit = limitFlag ?? (demo ? DEMO_LIMIT : null);
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);

  if (f.dataset !== undefined && (f.inputs !== undefined || f.labels !== undefined)) {
    throw new UsageError('sweep: --dataset and --inputs/--labels are alternatives; give one');
  }
  if ((f.inputs === undefined) !== (f.labels === undefined)) throw new UsageError('sweep: --inputs and --labels go together');
  let dataset: DatasetRef;
  let setupData: SweepEvalSetup['dataset'];
  if (f.inputs !== undefined && f.labels !== undefined) {
    dataset = { kind: 'npy', inputs: fileRef('--inputs', f.inputs), labels: fileRef('--labels', f.labels) };
    setupData = { inputs: f.inputs, labels: f.labels };
  } else if (f.dataset !== undefined || demo) {
    const kind = f.dataset ?? 'mnist';
    if (!isBuiltinDataset(kind)) throw new UsageError(`--dataset: unknown dataset "${kind}" (allowed: ${BUILTIN_DATASETS.join(', ')})`);
    dataset = { kind };
    setupData = kind;
  } else {
    throw new UsageError(`sweep: one of --dataset ${BUILTIN_DATASETS.join('|')} or --inputs X.npy --labels y.npy is required`);
  }

  if (f.model === undefined && !demo) throw new UsageError('sweep: --model m.onnx is required');
  // The model's weights may sit in external data files: a change there is a different sweep too.
  const model = fileRef('--model', f.model ?? (relative(process.cwd(), DEMO_MODEL) || DEMO_MODEL), modelDigest);

  let series = seriesFromFlags(f.preset, f.config, demo);
  if (seed !== undefined) series = series.map((s) => ({ ...s, config: { ...s.config, seed } }));
  countTasks(series.length, varies, chips); // before building anything: a huge grid is refused at once
  const points = buildPoints(series, varies); // every point's config checked here
  const tasks = buildTasks(points, chips);
  const mine = shardTasks(tasks, shard);

  const out = f.out ?? (demo ? DEMO_OUT : undefined);
  if (out === undefined) throw new UsageError('sweep: --out DIR is required');
  checkOutDir(out);
  const inputs = [
    { flag: '--model', path: model.path },
    ...(f.inputs !== undefined ? [{ flag: '--inputs', path: f.inputs }] : []),
    ...(f.labels !== undefined ? [{ flag: '--labels', path: f.labels }] : []),
    ...(f.config !== undefined ? [{ flag: '--config', path: f.config }] : []),
  ];
  const adapters = f.adapters !== undefined ? fileRef('--adapters', f.adapters) : undefined;
  if (f.adapters !== undefined) readAdapterFile(f.adapters); // its layout, before anything is written
  if (f.adapters !== undefined) inputs.push({ flag: '--adapters', path: f.adapters });
  checkInputsOutsideOutputs(out, inputs);
  const file: SweepFile = { version: 1, model, dataset, series, varies, chips, limit, shard, ...(adapters ? { adapters } : {}) };
  const resume = f.resume === true;
  if (existsSync(out)) {
    refuseIfLocked(out);
    const existing = readSweepFile(out);
    // A corrupt line mid-file is a usage error now, not after loading the model.
    const results = readResults(out).lines.length > 0;
    // A folder without a result line holds nothing to keep: a rerun may replace its definition.
    if (results && !resume) {
      throw new UsageError(`--out ${out}: already holds a sweep; pass --resume to continue it, or choose another folder`);
    }
    if (results && existing !== undefined) {
      const diff = definitionDifference(existing, file);
      if (diff !== null) throw new UsageError(`--resume: ${out} holds a different sweep (${diff}); choose another --out`);
    } else if (results) {
      throw new UsageError(`--resume: ${out} has results.jsonl but no sweep.json; choose another --out`);
    }
  }

  const backend = circuitBackend(points.map((p) => p.config), f.backend, 'sweep');
  const setup: SweepEvalSetup = { model: model.path, dataset: setupData, backend, ...(limit === null ? {} : { limit }), ...(f.adapters !== undefined ? { adapters: f.adapters } : {}) };
  return { dir: out, file, setup, resume, demo, gridTasks: tasks.length, shardTasks: mine.length };
}

function listValues(v: Vary): string {
  const vals = v.values.map(String);
  const shown = vals.length > 6 ? [...vals.slice(0, 3), '…', ...vals.slice(-2)] : vals;
  return `${v.path} = ${shown.join(', ')}`;
}

/** One line saying what the sweep will do (the demo prints its chosen numbers this way). */
export function describePlan(p: SweepPlan): string {
  const d = p.file;
  const data = datasetTitle(d.dataset);
  const limit = d.limit === null ? 'all' : `first ${d.limit}`;
  const shard = d.shard === null ? '' : ` (shard ${d.shard.index}/${d.shard.count}: ${p.shardTasks})`;
  return [
    `xbarsim sweep${p.demo ? ' (demo)' : ''}: ${d.model.path} on ${data} (${limit})`,
    `presets ${d.series.map((s) => s.label).join(', ')}`,
    d.varies.map(listValues).join('; '),
    `${d.chips} chip${d.chips === 1 ? '' : 's'} per point`,
    `${p.gridTasks} evaluations${shard} -> ${p.dir}`,
  ].join(' | ');
}

/** Result lines in `dir` (0 when there is no folder or no readable file). */
function readResultsIfAny(dir: string): number {
  try {
    return existsSync(dir) ? readResults(dir).lines.length : 0;
  } catch {
    return 0;
  }
}

/** Runs `xbarsim sweep`; on SIGINT/SIGTERM it stops promptly, keeps what is written, and exits 130/143. */
export async function runSweepCommand(f: SweepFlags, makeEvaluator: EvaluatorFactory): Promise<void> {
  const plan = planSweep(f);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  say(describePlan(plan));

  // Opening the evaluator loads the model and checks the data against it: still nothing written.
  const evaluator = await makeEvaluator(plan.setup, { retune: f.retune ?? false });
  try {
    const layers = evaluator.matrixLayers?.();
    if (layers !== undefined) {
      for (const s of plan.file.series) {
        checkLayerKeys([...configLayerKeys(s.config, f.config !== undefined ? `--config ${f.config}` : `preset ${s.label}`), ...varyLayerKeys(plan.file.varies)], layers);
      }
    }
  } catch (e) {
    await evaluator.close();
    throw e;
  }
  const ac = new AbortController();
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalName !== undefined) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: now
    signalName = sig;
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = performance.now();
  let interrupted = false;
  try {
    const o = await runSweep({ dir: plan.dir, sweep: plan.file, signal: ac.signal }, evaluator, createProgress(process.stderr));
    interrupted = o.interrupted;
    const took = formatDuration((performance.now() - t0) / 1000);
    if (o.interrupted) {
      say(`xbarsim sweep: interrupted after ${o.ran} new evaluations (${o.skipped + o.ran}/${o.shardTasks} done); rerun with --resume to continue`);
    } else {
      const skipped = o.skipped > 0 ? ` (${o.skipped} were already done)` : '';
      say(`xbarsim sweep: ${o.ran} evaluations in ${took}${skipped}; ${o.results} results -> ${plan.dir}/results.jsonl, summary.csv, report.html, accuracy.svg`);
      if (o.shardTasks === 0) say('xbarsim sweep: warning: this shard has no tasks (more shards than evaluations)');
    }
  } catch (e) {
    // A failure mid-run keeps every finished evaluation; say so unless it is a one-line usage error.
    if (!(e instanceof UsageError) && readResultsIfAny(plan.dir) > 0) say(`xbarsim sweep: stopped by an error; finished evaluations are kept in ${plan.dir} (rerun with --resume)`);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interrupted) {
      // An evaluation may still be running on the device: give close() a moment, then leave.
      await Promise.race([Promise.resolve(evaluator.close()), new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => undefined);
    } else {
      await evaluator.close();
    }
  }
  if (interrupted) process.exit(signalName === 'SIGTERM' ? 143 : 130);
}

/** Registers `xbarsim sweep` and `xbarsim merge` on `program`; `makeEvaluator` supplies the network evaluator. */
export function registerSweepCommands(program: Command, makeEvaluator: EvaluatorFactory): void {
  program
    .command('sweep')
    .description('Monte Carlo sweep over presets, a grid of config values and chip instances; with no options, the built-in demo')
    .option('--model <m.onnx>', 'ONNX model (demo: models/lenet5.onnx)')
    .addOption(new Option('--dataset <name>', 'built-in dataset (test split)').choices(BUILTIN_DATASETS))
    .option('--inputs <X.npy>', 'inputs (with --labels), instead of --dataset')
    .option('--labels <y.npy>', 'integer class labels for --inputs')
    .option('--preset <name>', `preset to run; repeat to compare side by side (${PRESET_NAMES.join(', ')})`, collect)
    .option('--config <cfg.json>', 'hardware config (with --preset: overrides each preset\'s fields)')
    .option('--vary <PATH=SPEC>', 'config path (or layers.<name or index>.<field>) and values: start:stop:count, log:start:stop:count or a,b,c; repeat for a grid (at most 100,000 evaluations in all)', collect)
    .option('--chips <n>', 'chip instances per point (default 1; demo: more)')
    .option('--limit <n>', 'evaluate only the first n items (default all; demo: fewer)')
    .option('--out <dir>', 'output folder (new, empty, or this sweep\'s; one run at a time): results.jsonl, sweep.json, summary.csv, report.html, accuracy.svg')
    .option('--resume', 'continue a sweep in --out, skipping what is done')
    .option('--shard <i/n>', 'run only tasks whose grid index % n == i-1 (1 <= i <= n); combine with xbarsim merge')
    .addOption(new Option('--backend <name>', 'compute backend (auto: WebGPU, else the CPU reference)').choices(BACKEND_CHOICES).default('auto'))
    .option('--seed <n>', 'random seed (overrides the config)')
    .option('--adapters <FILE>', 'digital low-rank adapter set (.npz or .json, README "Adapter sets") on every evaluation')
    .option('--retune', 'measure the crossbar kernel\'s tiling on this adapter again (default: the tuning cache)')
    .action(async (opts: SweepFlags) => runSweepCommand(opts, makeEvaluator));
  registerMergeCommand(program);
}
