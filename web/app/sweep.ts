// A sweep in the browser: presets side by side × one varied config path × chips, on MNIST or
// Fashion-MNIST. The CLI's
// grid (src/sweep/grid.ts) and runner (src/sweep/run.ts) write files through node: modules, so the
// browser builds its small grid here from the same browser-safe pieces (parseVary, resolveConfig,
// applyOverrides) and writes result lines of the CLI's results.jsonl shape.
import { applyOverrides, resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import { COUNT_NAMES, type EventCounts } from '../../src/crossbar/counts.ts';
import { messageOf } from '../../src/errors.ts';
import { backendLine, type Backend } from '../../src/gpu/backend.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { costFields, runCost } from '../../src/nn/cost.ts';
import { CalibrationCache } from '../../src/nn/calibration.ts';
import { calibrateCached, openNetwork, type NetworkRunner } from '../../src/nn/runner.ts';
import type { ResultLine } from '../../src/sweep/results.ts';
import { parseVary, type Vary } from '../../src/sweep/spec.ts';
import type { VaryValue } from '../../src/sweep/types.ts';
import { taskId } from '../../src/sweep/ids.ts';
import { countTasks } from '../../src/sweep/grid.ts';
import type { BuiltinDataset } from '../../src/io/datasets/builtin.ts';
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { APP_DATASETS, MNIST_CHOICE, calibrationProblem, type DataChoice } from './dataset-info.ts';
import type { LoadedModel } from './models.ts';
import { accuracyStats, type AccuracyInterval } from '../../src/sweep/stats.ts';
import { csvCell, snake } from '../../src/sweep/csv.ts';

/** What the form asks for, as text and numbers (validated by planAppSweep). */
export interface SweepForm {
  presets: string[];
  chips: number;
  digits: number;
  /** A configPaths() entry. */
  path: string;
  /** parseVary's SPEC: `start:stop:count`, `log:start:stop:count` or a comma list. */
  spec: string;
  seed: number;
  /** JSON object of extra config fields applied over every preset (empty: none). */
  overrides: string;
}

/** One grid point: a preset at one value of the varied path. */
export interface PlanPoint {
  index: number;
  series: string;
  point: Record<string, VaryValue>;
  value: VaryValue;
  config: XbarConfig;
}

export interface AppSweepPlan {
  /** The dataset evaluated, and what the app holds of it. */
  data: DataChoice;
  vary: Vary;
  series: string[];
  /** Value-major (every preset at the first value, then the next), so the chart's lines grow together. */
  points: PlanPoint[];
  chips: number;
  digits: number;
}

/** Most chips one run may ask for (the most test images: the dataset's test split, DataChoice.testImages). */
export const MAX_CHIPS = 1000;

function intIn(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be an integer from ${lo} to ${hi} (got ${Number.isNaN(v) ? 'nothing' : v})`);
  return v;
}

/** Parses the overrides textarea: empty means none; otherwise a JSON object without `preset`. */
export function parseOverrides(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`overrides: not valid JSON (${messageOf(e)})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('overrides: must be a JSON object, e.g. {"adc": {"bits": 6}}');
  if ('preset' in v) throw new Error('overrides: "preset" is chosen with the preset checkboxes, not here');
  return v as Record<string, unknown>;
}

/**
 * Validates the form for dataset `data` (default MNIST) and builds every grid point's config; throws
 * an Error with a one-line message.
 */
export function planAppSweep(f: SweepForm, data: DataChoice = MNIST_CHOICE): AppSweepPlan {
  if (f.presets.length === 0) throw new Error('pick at least one preset');
  const chips = intIn('chips', f.chips, 1, MAX_CHIPS);
  const digits = intIn(APP_DATASETS[data.dataset].noun, f.digits, 1, data.testImages);
  const seed = intIn('seed', f.seed, 0, 2 ** 32 - 1);
  const overrides = parseOverrides(f.overrides);
  let vary: Vary;
  try {
    vary = parseVary(`${f.path}=${f.spec}`);
  } catch (e) {
    // parseVary speaks in CLI flags; the form has no --vary.
    throw new Error(messageOf(e).replace(/^--vary /, 'varied '));
  }
  try {
    countTasks(f.presets.length, [vary], chips); // before building the grid, as the CLI does
  } catch (e) {
    throw new Error(messageOf(e).replace(/^sweep: /, ''));
  }
  const bases = f.presets.map((preset) => {
    try {
      return { preset, config: { ...resolveConfig(overrides, { preset }), seed } };
    } catch (e) {
      throw new Error(`overrides (preset ${preset}): ${messageOf(e)}`);
    }
  });
  const points: PlanPoint[] = [];
  for (const value of vary.values) {
    for (const b of bases) {
      let config: XbarConfig;
      try {
        config = applyOverrides(b.config, vary.path, value);
      } catch (e) {
        throw new Error(`varied ${vary.path}: value ${String(value)} (preset ${b.preset}): ${messageOf(e)}`);
      }
      const calibration = calibrationProblem(data, config.calibration.samples);
      if (calibration) throw new Error(vary.path === 'calibration.samples' ? `varied ${calibration}` : calibration);
      points.push({ index: points.length, series: b.preset, point: { [vary.path]: value }, value, config });
    }
  }
  return { data, vary, series: f.presets, points, chips, digits };
}

/** Where results were computed, worded as in the CLI. */
export const backendText = backendLine;

/** Thrown through evaluateChip's progress callback to end a chip early when the user stops. */
class Stopped extends Error {}

/** A result line of the app: the CLI's results.jsonl line, naming the dataset it was evaluated on. */
export interface AppResultLine extends ResultLine {
  dataset: BuiltinDataset;
}

export interface SweepCallbacks {
  /** The first `n` test images and the first `calSamples` calibration images of the plan's dataset. */
  loadData(n: number, calSamples: number): Promise<EvalData>;
  /** Called after each (point, chip) with the new line; awaited, so the chart is drawn before going on. */
  onResult(line: AppResultLine): Promise<void>;
  onProgress(text: string): void;
  shouldStop(): boolean;
}

/** Samples per batch: small enough that progress and Stop respond within a moment on a slow adapter. */
const BATCH = 128;

/**
 * Runs every (point, chip) of `plan`, point-major with chips fastest, calibrating once per config
 * (DESIGN.md section 6; points that differ only in noise or seed share it). Returns 'stopped' if the
 * user stopped it; throws on a failure.
 */
export async function runAppSweep(plan: AppSweepPlan, model: LoadedModel, backend: Backend, cb: SweepCallbacks): Promise<'done' | 'stopped'> {
  const total = plan.points.length * plan.chips;
  let done = 0;
  const calibrations = new CalibrationCache();
  const { title, noun } = APP_DATASETS[plan.data.dataset];
  for (const p of plan.points) {
    if (cb.shouldStop()) return 'stopped';
    const where = `${p.series}, ${plan.vary.path} = ${String(p.value)}`;
    cb.onProgress(`${where}: loading ${title} and calibrating (${done}/${total} evaluations done)`);
    const data = await cb.loadData(plan.digits, p.config.calibration.samples);
    // A lost device is replaced by the runtime; each point takes the live session.
    const live = await currentBackend(backend);
    const adapter = backendText(live);
    let runner: NetworkRunner | null = null;
    try {
      runner = openNetwork(live, model.net, p.config, false);
      await calibrateCached(runner, p.config, calibrations, `${plan.data.dataset} ${noun}=${plan.digits}`, data.calibration ?? { x: data.x, n: data.n });
      for (let chip = 0; chip < plan.chips; chip++) {
        if (cb.shouldStop()) return 'stopped';
        const r = await evaluateChip(
          runner,
          data,
          chip,
          false,
          (n) => {
            if (cb.shouldStop()) throw new Stopped();
            cb.onProgress(`${where}, chip ${chip + 1}/${plan.chips}: ${n}/${data.n} ${noun} (${done}/${total} evaluations done)`);
          },
          Math.min(BATCH, runner.maxBatch),
        );
        done++;
        await cb.onResult({
          id: taskId(p.series, p.point, chip),
          preset: p.series,
          point: p.point,
          chip,
          seed: p.config.seed,
          accuracy: r.accuracy,
          correct: r.correct,
          total: r.total,
          counts: r.counts,
          seconds: r.seconds,
          adapter,
          config: p.config,
          cost: costFields(runCost(model.net, p.config, false, r.counts, p.series)),
          dataset: plan.data.dataset,
        });
      }
    } catch (e) {
      if (e instanceof Stopped) return 'stopped';
      throw e;
    } finally {
      runner?.destroy();
    }
  }
  return 'done';
}

async function currentBackend(b: Backend): Promise<Backend> {
  if (b.kind === 'cpu') return b;
  const session = await b.runtime.session();
  if (!session) throw new Error('the WebGPU device was lost and no adapter is available any more');
  return { ...b, session };
}

/** One chart point and table row: a grid point's chips summarized. */
export interface ChartRow {
  preset: string;
  /** The varied value (the chart's x). */
  x: VaryValue;
  pointIndex: number;
  chips: number;
  images: number;
  mean: number;
  std: number | null;
  /** The 95% interval of src/sweep/stats.ts (inside [0, 1]; null with one chip), as summary.csv has it. */
  lo: number | null;
  hi: number | null;
  interval: AccuracyInterval | null;
  /** Per inference (image): Σ counts.total / Σ total, as the CLI's summary.csv. */
  adcPerInference: number;
  /** The cost model's energy per inference (J), mean over chips; null for a config it cannot cost. */
  energyPerInference: number | null;
  seconds: number;
}

/** Chart and table rows, in plan order, of the points that have at least one result. */
export function chartRows(plan: AppSweepPlan, lines: readonly ResultLine[]): ChartRow[] {
  const byId = new Map<string, ResultLine[]>();
  for (const l of lines) {
    const k = `${l.preset}\u0000${JSON.stringify(l.point)}`;
    const list = byId.get(k);
    if (list) list.push(l);
    else byId.set(k, [l]);
  }
  const rows: ChartRow[] = [];
  for (const p of plan.points) {
    const rs = byId.get(`${p.series}\u0000${JSON.stringify(p.point)}`);
    if (!rs || rs.length === 0) continue;
    const s = accuracyStats(rs.map((r) => r.accuracy));
    const images = rs.reduce((a, r) => a + r.total, 0);
    const adc = rs.reduce((a, r) => a + r.counts.total.adcConversions, 0);
    rows.push({
      preset: p.series,
      x: p.value,
      pointIndex: p.index,
      chips: rs.length,
      images: images / rs.length,
      mean: s.mean,
      std: s.std,
      lo: s.interval?.low ?? null,
      hi: s.interval?.high ?? null,
      interval: s.interval,
      adcPerInference: images > 0 ? adc / images : 0,
      energyPerInference: meanEnergy(rs),
      seconds: rs.reduce((a, r) => a + r.seconds, 0),
    });
  }
  return rows;
}

function meanEnergy(rs: readonly ResultLine[]): number | null {
  const v = rs.map((r) => r.cost?.energyPerInference_J).filter((x): x is number => typeof x === 'number');
  return v.length === 0 ? null : v.reduce((a, x) => a + x, 0) / v.length;
}

/** results.jsonl: one JSON object per (point, chip), the CLI's line format. */
export function resultsJsonl(lines: readonly ResultLine[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

/**
 * results.csv: one row per (point, chip). Columns: id, preset, the varied path, chip, seed,
 * accuracy, correct, total, seconds, adapter, then DESIGN.md section 5's counts summed over the
 * evaluated images (`adc_conversions`, …; `arrays` per chip), then the cost model's
 * `energy_per_inference_J` and `tops_per_watt` (empty for a config it cannot cost), then the
 * `dataset` (last, so the columns before it keep their places).
 */
export function resultsCsv(path: string, lines: readonly AppResultLine[]): string {
  const header = ['id', 'preset', path, 'chip', 'seed', 'accuracy', 'correct', 'total', 'seconds', 'adapter', ...COUNT_NAMES.map(snake), 'energy_per_inference_J', 'tops_per_watt', 'dataset'];
  const out = [header.map(csvCell).join(',')];
  for (const l of lines) {
    const counts: EventCounts = l.counts.total;
    const cells = [l.id, l.preset, l.point[path] ?? null, l.chip, l.seed, l.accuracy, l.correct, l.total, l.seconds, l.adapter, ...COUNT_NAMES.map((k) => counts[k]), l.cost?.energyPerInference_J ?? null, l.cost?.topsPerWatt ?? null, l.dataset];
    out.push(cells.map(csvCell).join(','));
  }
  return `${out.join('\n')}\n`;
}
