import { SingleBar, Presets } from 'cli-progress';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend, type Backend, type BackendChoice } from '../gpu/backend.ts';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../io/datasets/builtin.ts';
import { builtinEvalData, dataInputShapes, npyEvalData, type EvalData, type InputPart } from '../io/datasets/eval-data.ts';
import { readAdapterFile } from '../adapters/file.ts';
import { checkAdapterSet } from '../adapters/set.ts';
import { evaluateChip, type ChipEvaluation } from '../nn/evaluate.ts';
import { openNetwork, type AnalogLayerInfo } from '../nn/runner.ts';
import { loadModel } from '../nn/load-model.ts';
import { runCost, type RunCost } from '../nn/cost.ts';
import { costSummary, costLine } from './energy.ts';
import { INTERVAL_METHOD, accuracyStats, formatInterval } from '../sweep/stats.ts';
import { checkLayerKeys, configLayerKeys, matrixLayerRefs, modelClasses } from '../sweep/layers.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { fileTuningStore } from '../gpu/tuning-cache.ts';
import { tuneBackend } from '../kernels/autotune.ts';
import { processSolveStats } from '../reference/circuit.ts';
import { circuitLine } from './circuit-line.ts';
import { configFromFlags, intFlag } from './vmm.ts';
import { tracePhase } from '../trace.ts';
import { circuitBackend } from './backend-guard.ts';

/** Flags of `xbarsim eval` (DESIGN.md section 8). */
export interface EvalFlags {
  model: string;
  dataset?: string;
  inputs?: string;
  labels?: string;
  calibrate?: string;
  config?: string;
  preset?: string;
  digital?: boolean;
  chips: string;
  limit?: string;
  json?: boolean;
  backend: BackendChoice;
  seed?: string;
  batch?: string;
  adapters?: string;
  retune?: boolean;
}

/** The preset `eval` uses when neither --config nor --preset is given. */
export const EVAL_DEFAULT_PRESET = 'ideal';

/** The evaluated data from --dataset or --inputs/--labels, checked against the model's input shape and (with `classes`) its output size. */
export function evalDataFromFlags(
  f: Pick<EvalFlags, 'dataset' | 'inputs' | 'labels' | 'calibrate'>,
  inputShape: readonly number[],
  limit: number | undefined,
  calSamples: number,
  classes?: number,
  parts: readonly InputPart[] = [],
): EvalData {
  if (f.dataset !== undefined && (f.inputs !== undefined || f.labels !== undefined)) throw new UsageError('give either --dataset or --inputs with --labels, not both');
  if (f.dataset !== undefined) {
    if (!isBuiltinDataset(f.dataset)) throw new UsageError(`--dataset: unknown dataset "${f.dataset}" (allowed: ${BUILTIN_DATASETS.join(', ')}; other data: --inputs X.npy --labels y.npy)`);
    if (f.calibrate !== undefined) throw new UsageError(`--calibrate: ${f.dataset} calibrates on its training split; --calibrate goes with --inputs`);
    return builtinEvalData(f.dataset, inputShape, limit, calSamples, classes);
  }
  if (f.inputs === undefined || f.labels === undefined) throw new UsageError(`one of --dataset ${BUILTIN_DATASETS.join('|')} or --inputs X.npy --labels y.npy is required`);
  return npyEvalData(f.inputs, f.labels, f.calibrate, inputShape, limit, calSamples, classes, parts);
}

/** Resolved config of --config/--preset/--seed (default preset when neither is given). */
export function evalConfig(f: Pick<EvalFlags, 'config' | 'preset' | 'seed'>): XbarConfig {
  const cfg = configFromFlags(f.config, f.config === undefined && f.preset === undefined ? EVAL_DEFAULT_PRESET : f.preset);
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  return seed === undefined ? cfg : { ...cfg, seed };
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** `xbarsim eval`: accuracy over chips, event counts, images per second. */
export async function runEval(f: EvalFlags): Promise<void> {
  // Everything is validated before the GPU is opened.
  const chips = intFlag('--chips', f.chips, 1, 100000) ?? 1;
  const limit = intFlag('--limit', f.limit, 1, 2 ** 31);
  const batch = intFlag('--batch', f.batch, 1, 65536);
  const cfg = evalConfig(f);
  tracePhase('args');
  const net = loadModel(f.model, dataInputShapes(f.dataset, f.inputs));
  tracePhase('model');
  const data = evalDataFromFlags(f, net.input.shape, limit, cfg.calibration.samples, modelClasses(net), net.inputs);
  tracePhase('data');
  const digital = f.digital ?? false;
  checkLayerKeys(configLayerKeys(cfg, f.config !== undefined ? `--config ${f.config}` : 'config'), matrixLayerRefs(net));
  const adapters = f.adapters !== undefined ? readAdapterFile(f.adapters) : null;
  if (adapters) checkAdapterSet(adapters, net, `--adapters ${f.adapters}`);
  const backend = await nodeBackend(digital ? f.backend : circuitBackend([cfg], f.backend, 'eval'));
  tracePhase('adapter');
  try {
    if (!digital) await tuneBackend(backend, fileTuningStore(), { retune: f.retune ?? false, log: stderrLine });
    const runner = openNetwork(backend, net, cfg, digital);
    tracePhase('open');
    try {
      runner.setAdapters(adapters);
      if (!digital) await runner.calibrate(data.calibration!.x, data.calibration!.n);
      tracePhase('calibrate');
      const bar = !f.json && process.stderr.isTTY ? new SingleBar({ format: 'eval [{bar}] {percentage}% | chip {chip} | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic) : null;
      const runs = digital ? 1 : chips;
      bar?.start(runs * data.n, 0, { chip: 0 });
      const results: ChipEvaluation[] = [];
      for (let c = 0; c < runs; c++) {
        results.push(await evaluateChip(runner, data, c, digital, (done) => bar?.update(c * data.n + done, { chip: c }), batch ?? runner.maxBatch));
        if (!bar && !f.json && runs > 1) stderrLine(`eval: chip ${c + 1}/${runs} done, accuracy ${pct(results[c].accuracy)}`);
      }
      bar?.stop();
      report(f, cfg, backend, data, results, digital, runner.analogLayers, runCost(net, cfg, digital, results[0].counts, cfg.preset ?? 'config'));
      tracePhase('report');
    } finally {
      runner.destroy();
    }
  } finally {
    releaseBackend(backend);
    tracePhase('teardown');
  }
}

function report(f: EvalFlags, cfg: XbarConfig, backend: Backend, data: EvalData, results: ChipEvaluation[], digital: boolean, analogLayers: readonly AnalogLayerInfo[], cost: RunCost): void {
  const acc = accuracyStats(results.map((r) => r.accuracy));
  const seconds = results.reduce((a, r) => a + r.seconds, 0);
  const ips = (data.n * results.length) / Math.max(seconds, 1e-9);
  const counts = results[0].counts;
  const perInference = Object.fromEntries(Object.entries(counts.total).map(([k, v]) => [k, k === 'arrays' ? v : v / data.n]));
  if (f.json) {
    const out = {
      model: f.model,
      dataset: data.name,
      images: data.n,
      mode: digital ? 'digital' : 'crossbar',
      adapters: f.adapters ?? null,
      preset: digital ? null : (cfg.preset ?? null),
      backend: backend.kind,
      adapter: backendLine(backend),
      chips: results.map(({ chip, accuracy, correct, total, seconds: s }) => ({ chip, accuracy, correct, total, seconds: s })),
      accuracy: {
        mean: acc.mean,
        std: acc.std,
        ci95: acc.interval === null ? null : [acc.interval.low, acc.interval.high],
        ci95Clipped: acc.interval?.clipped ?? null,
        ci95FewChips: acc.interval?.fewChips ?? null,
        ci95Method: INTERVAL_METHOD,
      },
      // Every layer on crossbars (none under --digital; MatMul between activations is digital).
      analogLayers,
      counts,
      countsPerInference: perInference,
      // DESIGN.md section 10 names, from this run's counts (null with costNote when the config has no cost table).
      energyPerInference_J: cost.estimate?.energyPerInference_J ?? null,
      topsPerWatt: cost.estimate?.topsPerWatt ?? null,
      cost: cost.estimate ? costSummary(cost.estimate) : null,
      costNote: cost.note,
      imagesPerSecond: ips,
      ...(cfg.circuit.model === 'solve' && !digital ? { circuit: { ...processSolveStats } } : {}),
      config: digital ? null : cfg,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [
    `xbarsim eval: ${f.model} on ${data.name} (${data.n} images) | ${digital ? 'digital f32 (no crossbar)' : `${cfg.preset ?? 'custom config'} (${cfg.dataflow})`}${f.adapters !== undefined ? ` | adapters ${f.adapters}` : ''} | ${backendLine(backend)}`,
  ];
  for (const r of results) lines.push(`  chip ${r.chip}: accuracy ${pct(r.accuracy)} (${r.correct}/${r.total})`);
  if (results.length > 1) {
    lines.push(`accuracy over ${results.length} chips: mean ${pct(acc.mean)}, std ${pct(acc.std ?? 0)}, 95% CI ${formatInterval(acc.interval, pct)}`);
  } else lines.push(`accuracy: ${pct(acc.mean)}`);
  if (!digital) {
    lines.push(`per inference: ${Math.round(perInference.adcConversions ?? 0)} ADC conversions, ${Math.round(perInference.dacActivations ?? 0)} DAC activations, ${Math.round(perInference.cellReads ?? 0)} cell reads, ${counts.total.arrays} arrays`);
    for (const l of counts.layers) lines.push(`  ${l.name}: ${Math.round(l.adcConversions / data.n)} ADC conversions/inference, ${l.arrays} arrays`);
  }
  if (cfg.circuit.model === 'solve' && !digital) lines.push(circuitLine());
  if (!digital) lines.push(costLine(cost));
  lines.push(`speed: ${ips.toFixed(1)} images/s (forward passes only)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
