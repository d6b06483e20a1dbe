// Trains the shipped MNIST models (MLP and LeNet-5) on the CPU, deterministically, and exports them
// to ONNX under models/. Usage:
//   node --import ./bin/register.js scripts/train.ts [--model mlp|lenet5|all] [--epochs N] [--seed N] [--out DIR]
// The data split is always the CLI's default MNIST split (src/io/datasets, seed 0), so the documented
// test accuracies are on the same 2,000 digits that `xbarsim eval --dataset mnist` uses.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MNIST_DEFAULT_SEED } from '../src/io/datasets/mnist.ts';
import { loadMnist } from '../src/io/datasets/mnist-node.ts';
import { RECIPES, trainModel } from './train/loop.ts';
import type { EpochRecord } from './train/loop.ts';
import { buildModel, evaluate } from './train/model.ts';
import type { ModelName } from './train/model.ts';
import { exportOnnx, importOnnx } from './train/onnx.ts';
import { renderReadme } from './train/readme.ts';
import type { ModelReport } from './train/readme.ts';

/** Where the Fashion-MNIST models' section (written by scripts/train-fashion.py) begins in models/README.md. */
const FASHION_SECTION_MARKER = '<!-- BEGIN fashion-mnist';

const USAGE = 'usage: train.ts [--model mlp|lenet5|all] [--epochs N] [--seed N] [--out DIR] [--no-readme]';

function fail(msg: string): never {
  process.stderr.write(`train: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function intFlag(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        model: { type: 'string', default: 'all' },
        epochs: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string', default: 'models' },
        'no-readme': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const names: ModelName[] = args.model === 'all' ? ['mlp', 'lenet5'] : args.model === 'mlp' || args.model === 'lenet5' ? [args.model] : fail(`unknown --model "${args.model}"`);
  const epochs = intFlag(args.epochs, 'epochs', 1);
  const seed = intFlag(args.seed, 'seed', 0) ?? 0;
  const outDir = args.out;
  const command = ['node --import ./bin/register.js scripts/train.ts', ...process.argv.slice(2)].join(' ');
  mkdirSync(outDir, { recursive: true });

  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const { train, test } = loadMnist(MNIST_DEFAULT_SEED);
  log(`MNIST split seed ${MNIST_DEFAULT_SEED}: ${train.n} training, ${test.n} test digits; training seed ${seed}; node ${process.version}, ${cpus().length} CPUs`);

  const reports: ModelReport[] = [];
  for (const name of names) {
    const recipe = { ...RECIPES[name], ...(epochs ? { epochs } : {}) };
    const model = buildModel(name, seed);
    const lines: string[] = [];
    const tm = performance.now();
    const cm = cpuSeconds();
    log(`${name}: ${recipe.epochs} epochs, batch ${recipe.batchSize}, Adam lr ${recipe.lr} cosine, shifts ±${recipe.maxShift} px`);
    const records: EpochRecord[] = trainModel(model, train, test, {
      ...recipe,
      seed,
      log: (line) => {
        lines.push(line);
        log(line);
      },
    });
    const seconds = (performance.now() - tm) / 1000;
    const cpu = cpuSeconds() - cm;
    const bytes = exportOnnx(model);
    const file = join(outDir, `${name}.onnx`);
    writeAtomic(file, bytes);

    // Re-read what was written and evaluate it independently of the in-memory model.
    const reread = importOnnx(new Uint8Array(readFileSync(file)), file);
    const memory = evaluate(model, test);
    const onDisk = evaluate(reread, test);
    if (memory.accuracy !== onDisk.accuracy || memory.loss !== onDisk.loss) {
      throw new Error(`${file}: re-read model scores ${onDisk.accuracy} (loss ${onDisk.loss}), in memory ${memory.accuracy} (loss ${memory.loss})`);
    }
    log(`${name}: wrote ${file} (${bytes.length} bytes); re-read test accuracy ${(100 * onDisk.accuracy).toFixed(2)}% matches; ${seconds.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    reports.push({ name, recipe, seed, records, lines, seconds, cpuSeconds: cpu, sha256, accuracy: onDisk.accuracy, bytes: bytes.length, params: model.params.reduce((a, p) => a + p.data.length, 0) });
  }
  const total = (performance.now() - t0) / 1000;
  const totalCpu = cpuSeconds() - c0;
  log(`total wall time ${total.toFixed(1)} s, CPU time ${totalCpu.toFixed(1)} s`);
  if (!args['no-readme']) {
    const readme = join(outDir, 'README.md');
    if (names.length === 2) {
      const info = { seed, command, totalSeconds: total, totalCpuSeconds: totalCpu, cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU', node: process.version };
      // scripts/train-fashion.py owns the Fashion-MNIST section after the marker; keep it.
      const old = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
      const at = old.indexOf(FASHION_SECTION_MARKER);
      const kept = at < 0 ? '' : `\n${old.slice(at)}`;
      writeAtomic(readme, new TextEncoder().encode(renderReadme(reports, info) + kept));
      log(`wrote ${readme}`);
    } else {
      log(`${readme} not rewritten: it documents both models, so only a run of --model all rewrites it`);
    }
  }
}

/** User + system CPU time of this process, in seconds. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

main();
