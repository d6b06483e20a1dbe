/**
 * `xbarsim adapt` (issue 17): trains digital low-rank adapters for an analog model with its weights
 * frozen, hardware-aware (a new chip per mini-batch) or on one chip (--chip K), and writes the set.
 * Every flag, file and the output are checked before the device is opened (exit 2, nothing written).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { writeAdapterFile } from '../adapters/file.ts';
import { adapterParams, type AdapterSet } from '../adapters/set.ts';
import { encodeAdapterJson, parseAdapterJson } from '../adapters/codec.ts';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend } from '../gpu/backend.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { checkOutputs, writeTextAtomic } from '../io/atomic-write.ts';
import type { EvalData } from '../io/datasets/eval-data.ts';
import type { LinearOp, Network } from '../ir/graph.ts';
import { fitReducedRank } from '../nn/adapt/rrr.ts';
import { AdapterTrainer, adaptedLayers, freshState, HW_CHIP_BASE, initialSet, type AdaptOptions, type TrainData, type TrainState } from '../nn/adapt/train.ts';
import { evaluateChip } from '../nn/evaluate.ts';
import { loadModel } from '../nn/load-model.ts';
import { openNetwork, type NetworkRunner } from '../nn/runner.ts';
import { evalConfig } from './eval.ts';
import { readoutBackend } from './readout-guard.ts';
import { intFlag } from './vmm.ts';
import { runAdaptFull } from './adapt-full.ts';
import { ADAPT_INITS, adaptData, floatFlag, pct, type AdaptFlags } from './adapt-common.ts';

export { ADAPT_INITS, type AdaptFlags };

/** What a checkpoint must match to be resumed: everything that decides the result. */
function runKey(f: AdaptFlags, cfg: XbarConfig, o: AdaptOptions, layers: readonly string[], limit: number, holdout: number): string {
  // --epochs is left out: a finished run resumed with more epochs trains on from where it stopped.
  return JSON.stringify({ model: createHash('sha256').update(readFileSync(f.model)).digest('hex'), dataset: f.dataset ?? [f.inputs, f.labels], cfg, o, layers, limit, holdout, init: f.init });
}

interface Checkpoint {
  version: 1;
  key: string;
  epochsDone: number;
  step: number;
  set: string;
  m: Record<string, { A: number[]; B: number[] }>;
  v: Record<string, { A: number[]; B: number[] }>;
  log: EpochLog[];
}

interface EpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
}

const moments = (m: TrainState['m']) => Object.fromEntries([...m].map(([k, v]) => [k, { A: Array.from(v.A), B: Array.from(v.B) }]));
const unmoments = (r: Checkpoint['m']) => new Map(Object.entries(r).map(([k, v]) => [k, { A: Float64Array.from(v.A), B: Float64Array.from(v.B) }]));

/** Adapters fitted layer by layer in closed form on one chip: each layer's error on the inputs it sees with the earlier layers' fits in place. */
async function reducedRankInit(net: Network, runner: NetworkRunner, layers: readonly LinearOp[], o: AdaptOptions, train: TrainData, chip: number): Promise<AdapterSet> {
  const set: AdapterSet = new Map();
  const n = Math.min(train.n, 512);
  const handle = await runner.program(chip);
  try {
    for (const op of layers) {
      runner.setAdapters(set);
      const r = await runner.forward(handle, train.x.subarray(0, n * train.sampleSize), n, 0, true);
      const X = r.values!.get(op.inputs[0])!;
      const Y = r.values!.get(op.output)!;
      const rows = X.length / op.K;
      const E = new Float64Array(rows * op.N);
      for (let i = 0; i < rows; i++) for (let j = 0; j < op.N; j++) {
        let v = op.bias ? op.bias[j] : 0;
        for (let k = 0; k < op.K; k++) v += X[i * op.K + k] * op.weight[k * op.N + j];
        E[i * op.N + j] = v - Y[i * op.N + j];
      }
      set.set(op.name, fitReducedRank(X, E, rows, op.K, op.N, o.rank, o.alpha));
    }
  } finally {
    handle.release();
  }
  runner.setAdapters(null);
  return set;
}

/** `xbarsim adapt`. */
export async function runAdapt(f: AdaptFlags): Promise<void> {
  if (f.full) return runAdaptFull(f);
  const t0 = performance.now();
  const rank = intFlag('--rank', f.rank, 1, 4096)!;
  const alpha = floatFlag('--alpha', f.alpha, 0, 1e6);
  const chip = intFlag('--chip', f.chip, 0, HW_CHIP_BASE - 1) ?? null;
  const epochs = intFlag('--epochs', f.epochs, 1, 100000)!;
  const lr = floatFlag('--lr', f.lr, 0, 1);
  const batch = intFlag('--batch', f.batch, 1, 65536)!;
  const limit = intFlag('--limit', f.limit, 1, 2 ** 31)!;
  const holdout = intFlag('--holdout', f.holdout, 1, 2 ** 31)!;
  const evalLimit = intFlag('--eval-limit', f.evalLimit, 1, 2 ** 31)!;
  if (!(ADAPT_INITS as readonly string[]).includes(f.init)) throw new UsageError(`--init: "${f.init}" (allowed: ${ADAPT_INITS.join(', ')})`);
  if (!f.out.endsWith('.npz') && !f.out.endsWith('.json')) throw new UsageError(`--out ${f.out}: unknown file type (allowed: .npz, .json)`);
  if (f.config === undefined && f.preset === undefined) throw new UsageError('adapt: one of --config FILE or --preset NAME is required');
  const cfg = evalConfig(f);
  const net = loadModel(f.model);
  const names = f.layers === undefined ? null : f.layers.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names !== null && names.length === 0) throw new UsageError('--layers: give one or more linear layer names, comma-separated');
  const layers = adaptedLayers(net, cfg, names);
  const seed = cfg.seed;
  const o: AdaptOptions = { rank, alpha, layers: names, chip, lr, batch, seed };
  const { train, held, evalData } = adaptData(f, net, cfg, limit, holdout, evalLimit);
  const ckptPath = `${f.out}.checkpoint.json`;
  const inputs = [{ flag: '--model', path: f.model }, ...(f.inputs ? [{ flag: '--inputs', path: f.inputs }, { flag: '--labels', path: f.labels! }] : []), ...(f.config ? [{ flag: '--config', path: f.config }] : [])];
  checkOutputs([{ flag: '--out', path: f.out }, { flag: '--out (checkpoint)', path: ckptPath }], inputs);
  const key = runKey(f, cfg, o, layers.map((l) => l.name), limit, holdout);
  let ckpt: Checkpoint | null = null;
  if (existsSync(ckptPath)) {
    if (!f.resume) throw new UsageError(`--out ${f.out}: a checkpoint ${ckptPath} exists; pass --resume to continue it, or delete it`);
    try {
      ckpt = JSON.parse(readFileSync(ckptPath, 'utf8')) as Checkpoint;
    } catch {
      throw new UsageError(`--resume: ${ckptPath} is not a readable checkpoint; delete it to start again`);
    }
    if (ckpt.version !== 1 || ckpt.key !== key) throw new UsageError(`--resume: ${ckptPath} belongs to a run with other flags, model, data or config; delete it or repeat that run's flags`);
  }

  const backend = await nodeBackend(readoutBackend([cfg], f.backend, 'adapt'));
  try {
    const runner = openNetwork(backend, net, cfg, false);
    try {
      await runner.calibrate(evalData.calibration!.x, evalData.calibration!.n);
      const evalChip = chip ?? 0;
      const before = await evaluateChip(runner, evalData, evalChip, false);
      let state: TrainState;
      if (ckpt) {
        const set = parseAdapterJson(ckpt.set, ckptPath);
        state = { set, m: unmoments(ckpt.m), v: unmoments(ckpt.v), step: ckpt.step };
      } else {
        const init = f.init === 'rrr' ? await reducedRankInit(net, runner, layers, o, train, chip ?? HW_CHIP_BASE - 1) : initialSet(layers, rank, alpha, seed);
        state = freshState(init);
      }
      const log: EpochLog[] = ckpt?.log ?? [];
      const trainer = new AdapterTrainer(net, cfg, runner, o, state, backend.kind === 'webgpu' ? backend.session : null);
      const perEpoch = Math.ceil(train.n / batch);
      const first = Math.min(ckpt?.epochsDone ?? 0, epochs);
      const bar = !f.json && process.stderr.isTTY
        ? new SingleBar({ format: 'adapt [{bar}] {percentage}% | epoch {epoch}/{epochs} | loss {loss} | held-out {held} | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic)
        : null;
      bar?.start(Math.max(1, (epochs - first) * perEpoch), 0, { epoch: first + 1, epochs, loss: '-', held: log.length ? pct(log[log.length - 1].heldOutAccuracy) : '-' });
      let done = 0;
      try {
        for (let e = first; e < epochs; e++) {
          let runLoss = 0;
          let steps = 0;
          const r = await trainer.epoch(train, e, (s) => {
            runLoss += s.loss;
            steps++;
            bar?.update(++done, { epoch: e + 1, loss: (runLoss / steps).toFixed(4) });
          });
          const h = await evaluateChip(runner, held, evalChip, false);
          log.push({ epoch: e + 1, loss: r.loss, trainAccuracy: r.accuracy, heldOutAccuracy: h.accuracy });
          bar?.update(done, { held: pct(h.accuracy) });
          if (!bar && !f.json) stderrLine(`adapt: epoch ${e + 1}/${epochs}: loss ${r.loss.toFixed(4)}, training accuracy ${pct(r.accuracy)}, held-out ${pct(h.accuracy)}`);
          const c: Checkpoint = { version: 1, key, epochsDone: e + 1, step: state.step, set: encodeAdapterJson(state.set), m: moments(state.m), v: moments(state.v), log };
          writeTextAtomic(ckptPath, JSON.stringify(c), ckptPath);
        }
      } finally {
        bar?.stop();
        trainer.release();
      }
      runner.setAdapters(state.set);
      const after = await evaluateChip(runner, evalData, evalChip, false);
      writeAdapterFile(f.out, state.set);
      report(f, net, cfg, backendLine(backend), state.set, layers, o, evalData, before.accuracy, after.accuracy, log, (performance.now() - t0) / 1000, epochs, trainer.backwardOn);
    } finally {
      runner.destroy();
    }
  } finally {
    releaseBackend(backend);
  }
}

function report(f: AdaptFlags, net: Network, cfg: XbarConfig, adapter: string, set: AdapterSet, layers: readonly LinearOp[], o: AdaptOptions, evalData: EvalData, before: number, after: number, log: EpochLog[], seconds: number, epochs: number, backward: 'webgpu' | 'cpu'): void {
  let analog = 0;
  for (const op of net.ops) if (op.kind === 'linear' || op.kind === 'conv') analog += op.weight.length;
  const params = adapterParams(set);
  const mode = o.chip === null ? 'hardware-aware' : 'on-chip';
  const evalChip = o.chip ?? 0;
  if (f.json) {
    const out = {
      model: f.model,
      out: f.out,
      mode,
      chip: o.chip,
      evalChip,
      rank: o.rank,
      alpha: o.alpha,
      layers: layers.map((l) => l.name),
      epochs,
      lr: o.lr,
      batch: o.batch,
      seed: cfg.seed,
      adapterParams: params,
      analogParams: analog,
      paramShare: params / analog,
      evaluation: { data: evalData.name, images: evalData.n, accuracyWithout: before, accuracyWith: after },
      epochLog: log,
      seconds,
      backend: adapter,
      backward,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [
    `xbarsim adapt: ${f.model} | ${cfg.preset ?? 'custom config'} | ${mode}${o.chip !== null ? ` on chip ${o.chip}` : ''} | rank ${o.rank}, alpha ${o.alpha} on ${layers.map((l) => l.name).join(', ')} | ${adapter}`,
    `adapters: ${params} parameters (${(100 * params / analog).toFixed(2)}% of the ${analog} analog weights) written to ${f.out}`,
    `accuracy on ${evalData.name} (${evalData.n} images), chip ${evalChip}: ${pct(before)} without adapters, ${pct(after)} with`,
    `time: ${seconds.toFixed(1)} s (backward on ${backward === 'webgpu' ? 'WebGPU' : 'the CPU reference'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
