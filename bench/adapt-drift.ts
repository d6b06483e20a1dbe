// npm run bench:adapt-drift — issue 17's closing-note table: the shipped transformer
// (models/fmnist-vit.onnx, Fashion-MNIST) on PCM with drift, accuracy mean ± std over chips at
// 1 h, 1 day, 1 month, 1 year and 10 years after programming for
//   digital (--digital), analog without adapters, hardware-aware adapters (trained once at
//   --train-time, a new chip per mini-batch, evaluated at every time), per-chip adapters
//   (`adapt --chip K` at each time) and the all-weights baseline (`adapt --full`, trained once at
//   --train-time, evaluated at every time),
// plus the adapters' parameters as a share of the analog weights and the wall / CPU time of each adapt.
// Every number comes from the CLI run as a subprocess (`xbarsim eval|adapt --json`), so this bench
// measures exactly what users run. JSON goes to bench/results/adapt-drift-<timestamp>.json, the
// markdown table to stdout.
//
// Config: the setup of Li et al. 2024 (issue 17) as far as xbarsim expresses it:
// - PCM: noise.device.model "pcm-joshi2020" (aihwkit's PCMLikeNoiseModel, g_max 25 µS, its default),
//   noise.time = the evaluation time, noise.drift.compensation "global" (GlobalDriftCompensation).
// - 8-bit DAC: inputs.bits 8 with dacBits 8 (one input cycle, as aihwkit's inp_res 2^8 levels);
//   8-bit ADC: adc.bits 8, range "calibrated" (aihwkit's out_res, its out_bound ↔ the ADC's hi).
// - weights: 8-bit, cellBits 8 (one slice per polarity, differential pair, as aihwkit maps a weight
//   to one g+/g− pair); preset prime for its 256×256 arrays and differential mapping.
// - "output noise 0.04 of the output bound" (aihwkit out_noise, Gaussian on each analog MVM output,
//   in units of out_bound): analog.noise 0.04, which DESIGN.md section 4 defines as Gaussian noise
//   with sigma relative to the ADC's hi added to each converted sum J — the closest field. It applies
//   to dataflows "buffered" and "analog-sa", so the dataflow is "analog-sa"; with one input cycle and
//   one weight slice it converts each (row block, output column) once, i.e. the same sums as
//   digital-sa, one noise draw per output as in aihwkit (per row block where a layer spans several
//   arrays). Difference: xbarsim's hi is calibrated per layer on the noise-free chip, aihwkit's
//   out_bound is a fixed clip in normalized units, so the absolute noise level differs somewhat.
// - calibration.samples 64 (cheaper than the default 256 on lavapipe), seed 4 for every run: chip K
//   is the same programmed chip at every time (noise.time only advances its drift and read noise).
// Adapters: rank 8, α 32 on every analog linear layer (the paper's LoRA), lr 0.003; the all-weights
// baseline lr 0.0005, batch 16 (README's settings). Per-chip accuracy is adapt's own final accuracy
// on chip K over the first --limit test images, which `eval --adapters` reproduces exactly (README).
// Usage:
//   npm run bench:adapt-drift -- [--chips 10] [--limit 1000] [--train 256] [--holdout 32] [--epochs 1]
//     [--times 3600,86400,2592000,31536000,315360000] [--train-time 86400] [--backend webgpu] [--quick]
//     [--columns analog,hardware-aware,per-chip,full]
// --quick: per-chip adapters only for chip 0 at the first and last time (the table says so).
// --columns: the columns to measure (default all; digital always); the others print as —.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({
  options: {
    chips: { type: 'string', default: '10' },
    limit: { type: 'string', default: '1000' },
    train: { type: 'string', default: '256' },
    holdout: { type: 'string', default: '32' },
    epochs: { type: 'string', default: '1' },
    times: { type: 'string', default: '3600,86400,2592000,31536000,315360000' },
    'train-time': { type: 'string', default: '86400' },
    backend: { type: 'string', default: 'webgpu' },
    quick: { type: 'boolean', default: false },
    columns: { type: 'string', default: 'analog,hardware-aware,per-chip,full' },
  },
});

const COLUMNS = ['analog', 'hardware-aware', 'per-chip', 'full'] as const;
const columns = new Set(values.columns.split(','));
for (const c of columns) {
  if (!(COLUMNS as readonly string[]).includes(c)) {
    process.stderr.write(`bench:adapt-drift: --columns ${JSON.stringify(c)}: one of ${COLUMNS.join(', ')} (comma-separated)\n`);
    process.exit(2);
  }
}

function posInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:adapt-drift: --${name} must be an integer ≥ 1 (got ${JSON.stringify(v)})\n`);
    process.exit(2);
  }
  return n;
}
const chips = posInt('chips', values.chips);
const limit = posInt('limit', values.limit);
const train = posInt('train', values.train);
const holdout = posInt('holdout', values.holdout);
const epochs = posInt('epochs', values.epochs);
const times = values.times.split(',').map((t) => Number(t));
const trainTime = Number(values['train-time']);
if (times.some((t) => !(Number.isFinite(t) && t >= 0)) || !(Number.isFinite(trainTime) && trainTime >= 0)) {
  process.stderr.write('bench:adapt-drift: --times must be a comma-separated list of seconds ≥ 0, --train-time seconds ≥ 0\n');
  process.exit(2);
}
const quick = values.quick;
const backend = values.backend;
const perChipChips = quick ? [0] : Array.from({ length: chips }, (_, k) => k);
const perChipTimes = quick ? [...new Set([times[0], times[times.length - 1]])] : times;

const MODEL = 'models/fmnist-vit.onnx';
const DATASET = 'fashion-mnist';
const SEED = 4;
const RANK = 8;
const ALPHA = 32;

/** The paper's setup at `time` seconds after programming (see the header for each field). */
function config(time: number): object {
  return {
    preset: 'prime',
    weights: { bits: 8, cellBits: 8 },
    inputs: { bits: 8, dacBits: 8 },
    adc: { bits: 8 },
    dataflow: 'analog-sa',
    analog: { noise: 0.04 },
    noise: { device: { model: 'pcm-joshi2020' }, time, drift: { compensation: 'global' } },
    calibration: { samples: 64 },
    seed: SEED,
  };
}

const work = mkdtempSync(join(tmpdir(), 'xbarsim-adapt-drift-'));
const configFile = (time: number): string => {
  const f = join(work, `config-${time}.json`);
  writeFileSync(f, JSON.stringify(config(time)));
  return f;
};

const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** Children's user + system CPU seconds so far (Linux /proc/self/stat fields cutime, cstime). */
function childCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / ticks;
}

interface Run {
  json: Record<string, unknown>;
  wall: number;
  cpu: number;
}
/** One `xbarsim ... --json` subprocess; its progress lines pass through on stderr. */
function xbarsim(args: string[]): Run {
  const cpu0 = childCpu();
  const t0 = performance.now();
  process.stderr.write(`$ xbarsim ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['bin/xbarsim.js', ...args, '--json', '--backend', backend], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`bench:adapt-drift: xbarsim ${args[0]} exited ${r.status}\n`);
    process.exit(1);
  }
  return { json: JSON.parse(r.stdout.toString()) as Record<string, unknown>, wall, cpu: childCpu() - cpu0 };
}

interface Acc {
  mean: number;
  std: number;
  perChip: number[];
}
function evalAcc(run: Run): Acc {
  const a = run.json.accuracy as { mean: number; std: number };
  return { mean: a.mean, std: a.std, perChip: (run.json.chips as { accuracy: number }[]).map((c) => c.accuracy) };
}
function meanStd(xs: number[]): Acc {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return { mean: m, std: Math.sqrt(v), perChip: xs };
}

const data = ['--model', MODEL, '--dataset', DATASET];
const evalArgs = (cfg: string, extra: string[] = []): string[] => ['eval', ...data, '--config', cfg, '--chips', String(chips), '--limit', String(limit), ...extra];
const adaptArgs = (cfg: string, out: string, extra: string[]): string[] => [
  'adapt', ...data, '--config', cfg, '--limit', String(train), '--holdout', String(holdout), '--epochs', String(epochs), '--out', out, ...extra,
];

interface AdaptTiming {
  what: string;
  wall_s: number;
  cpu_s: number;
  adapt_seconds: number;
}
const timings: AdaptTiming[] = [];
const timing = (what: string, r: Run): void => {
  timings.push({ what, wall_s: r.wall, cpu_s: r.cpu, adapt_seconds: r.json.seconds as number });
};

const started = new Date().toISOString();
const digital = xbarsim(['eval', ...data, '--digital', '--limit', String(limit)]);
const adapterLine = digital.json.adapter as string;
const digitalAcc = evalAcc(digital);

// Trained once at the training time, evaluated at every time. --eval-limit is kept small: their
// final accuracy on chip 0 is not used (the evals below measure every chip).
const hwFile = join(work, 'hw.npz');
const hw = columns.has('hardware-aware') ? xbarsim(adaptArgs(configFile(trainTime), hwFile, ['--rank', String(RANK), '--alpha', String(ALPHA), '--lr', '0.003', '--eval-limit', '20'])) : null;
if (hw) timing(`hardware-aware adapters (t = ${trainTime} s)`, hw);
const fullFile = join(work, 'full.onnx');
const full = columns.has('full') ? xbarsim(adaptArgs(configFile(trainTime), fullFile, ['--full', '--lr', '0.0005', '--batch', '16', '--eval-limit', '20'])) : null;
if (full) timing(`all weights --full (t = ${trainTime} s)`, full);

interface Row {
  time_s: number;
  analog: Acc | null;
  hardwareAware: Acc | null;
  perChip: Acc | null;
  fullWeights: Acc | null;
}
const rows: Row[] = [];
for (const t of times) {
  const cfg = configFile(t);
  const analog = columns.has('analog') ? evalAcc(xbarsim(evalArgs(cfg))) : null;
  const hardwareAware = hw ? evalAcc(xbarsim(evalArgs(cfg, ['--adapters', hwFile]))) : null;
  const fullWeights = full ? evalAcc(xbarsim(['eval', '--model', fullFile, '--dataset', DATASET, '--config', cfg, '--chips', String(chips), '--limit', String(limit)])) : null;
  let perChip: Acc | null = null;
  if (columns.has('per-chip') && perChipTimes.includes(t)) {
    const accs: number[] = [];
    for (const k of perChipChips) {
      const r = xbarsim(adaptArgs(cfg, join(work, `chip${k}-${t}.npz`), ['--chip', String(k), '--rank', String(RANK), '--alpha', String(ALPHA), '--lr', '0.003', '--eval-limit', String(limit)]));
      timing(`per-chip adapters (chip ${k}, t = ${t} s)`, r);
      accs.push((r.json.evaluation as { accuracyWith: number }).accuracyWith);
    }
    perChip = meanStd(accs);
  }
  rows.push({ time_s: t, analog, hardwareAware, perChip, fullWeights });
}

const result = {
  bench: 'adapt-drift',
  started,
  finished: new Date().toISOString(),
  adapter: adapterLine,
  backend,
  model: MODEL,
  dataset: DATASET,
  testImages: limit,
  chips,
  trainImages: train,
  holdout,
  epochs,
  trainTime_s: trainTime,
  quick,
  columns: [...columns],
  perChipChips,
  perChipTimes_s: perChipTimes,
  rank: RANK,
  alpha: ALPHA,
  config: config(0),
  adapterParams: hw?.json.adapterParams ?? null,
  analogParams: hw?.json.analogParams ?? null,
  paramShare: hw?.json.paramShare ?? null,
  fullTrainedParams: full?.json.trainedParams ?? null,
  digital: digitalAcc,
  rows,
  adaptTimings: timings,
};
mkdirSync('bench/results', { recursive: true });
const outFile = join('bench/results', `adapt-drift-${started.replace(/[:.]/g, '-')}.json`);
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });

const pc = (a: Acc | null): string => (a === null ? '—' : `${(100 * a.mean).toFixed(1)} ± ${(100 * a.std).toFixed(1)}`);
const human = (t: number): string => {
  const units: [number, string][] = [[315360000, '10 years'], [31536000, '1 year'], [2592000, '1 month'], [604800, '1 week'], [86400, '1 day'], [3600, '1 h']];
  for (const [s, name] of units) if (t === s) return name;
  return `${t} s`;
};
const lines = [
  `## ${MODEL} on ${DATASET}: PCM (pcm-joshi2020, global drift compensation), 8-bit DAC/ADC, analog.noise 0.04`,
  '',
  `${adapterLine}; ${chips} chips, ${limit} test images; adapters rank ${RANK}, α ${ALPHA}, ${train} training images, ${epochs} epoch(s); hardware-aware adapters and --full trained at ${human(trainTime)}.`,
  !columns.has('per-chip') ? `columns measured: ${[...columns].join(', ')}.` : quick ? `--quick: per-chip adapters only for chip(s) ${perChipChips.join(', ')} at ${perChipTimes.map(human).join(', ')}.` : `per-chip adapters: every chip at every time.`,
  '',
  '| time | digital | analog, no adapters | hardware-aware adapters | per-chip adapters | all weights (--full) |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${human(r.time_s)} | ${pc(digitalAcc)} | ${pc(r.analog)} | ${pc(r.hardwareAware)} | ${pc(r.perChip)} | ${pc(r.fullWeights)} |`),
  '',
  [
    'accuracy % (mean ± std over chips).',
    hw ? `Adapters: ${result.adapterParams as number} parameters = ${(100 * (result.paramShare as number)).toFixed(2)}% of the ${result.analogParams as number} analog weights.` : '',
    full ? `--full trains ${result.fullTrainedParams as number} weights and biases.` : '',
  ].filter((l) => l !== '').join(' '),
  '',
  '| adapt run | wall s | CPU s (user+sys) |',
  '|---|---|---|',
  ...timings.map((t) => `| ${t.what} | ${t.wall_s.toFixed(1)} | ${t.cpu_s.toFixed(1)} |`),
  '',
  `results: ${outFile}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
