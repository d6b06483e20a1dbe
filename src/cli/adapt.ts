/**
 * `xbarsim adapt` (issue 17): trains digital low-rank adapters for an analog model with its weights
 * frozen, hardware-aware (a new chip per mini-batch) or on one chip (--chip K), and writes the set.
 * Every flag, file and the output are checked before the device is opened (exit 2, nothing written).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeAdapterFile } from '../adapters/file.ts';
import { adapterParams, type AdapterSet } from '../adapters/set.ts';
import { encodeAdapterJson, parseAdapterJson } from '../adapters/codec.ts';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend } from '../gpu/backend.ts';
import { nodeBackend } from '../gpu/node-backend.ts';
import { writeTextAtomic } from '../io/atomic-write.ts';
import { dataInputShapes } from '../io/datasets/eval-data.ts';
import type { LinearOp, Network } from '../ir/graph.ts';
import { fitReducedRank } from '../nn/adapt/rrr.ts';
import { AdapterTrainer, adaptedLayers, freshState, HW_CHIP_BASE, initialSet, type AdaptOptions, type TrainData, type TrainState } from '../nn/adapt/train.ts';
import { evaluateChip } from '../nn/evaluate.ts';
import { loadModel } from '../nn/load-model.ts';
import { openNetwork, type NetworkRunner } from '../nn/runner.ts';
import { evalConfig } from './eval.ts';
import { intFlag } from './vmm.ts';
import { runAdaptFull } from './adapt-full.ts';
import { ADAPT_INITS, adaptData, analogWeightCount, checkAdaptOutputs, floatFlag, pct, printReport, readCheckpoint, runEpochs, runNumbers, type AdaptFlags, type EpochLog, type ReportCommon, layerNames } from './adapt-common.ts';
import { circuitBackend } from './backend-guard.ts';

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
  const { chip, epochs, lr, batch, limit, holdout, evalLimit } = runNumbers(f);
  if (!(ADAPT_INITS as readonly string[]).includes(f.init)) throw new UsageError(`--init: "${f.init}" (allowed: ${ADAPT_INITS.join(', ')})`);
  if (!f.out.endsWith('.npz') && !f.out.endsWith('.json')) throw new UsageError(`--out ${f.out}: unknown file type (allowed: .npz, .json)`);
  if (f.config === undefined && f.preset === undefined) throw new UsageError('adapt: one of --config FILE or --preset NAME is required');
  const cfg = evalConfig(f);
  const net = loadModel(f.model, dataInputShapes(f.dataset, f.inputs));
  const names = layerNames(f.layers, 'linear');
  const layers = adaptedLayers(net, cfg, names);
  const seed = cfg.seed;
  const o: AdaptOptions = { rank, alpha, layers: names, chip, lr, batch, seed };
  const { train, held, evalData } = adaptData(f, net, cfg, limit, holdout, evalLimit);
  const ckptPath = checkAdaptOutputs(f);
  const key = runKey(f, cfg, o, layers.map((l) => l.name), limit, holdout);
  const ckpt = readCheckpoint<Checkpoint>(ckptPath, f, (c) => c.version === 1 && c.key === key);

  const backend = await nodeBackend(circuitBackend([cfg], f.backend, 'adapt'));
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
      try {
        await runEpochs('adapt', f, epochs, Math.min(ckpt?.epochsDone ?? 0, epochs), Math.ceil(train.n / batch), log, {
          epoch: (e, onStep) => trainer.epoch(train, e, onStep),
          heldOut: async () => (await evaluateChip(runner, held, evalChip, false)).accuracy,
          save: (epochsDone, l) => {
            const c: Checkpoint = { version: 1, key, epochsDone, step: state.step, set: encodeAdapterJson(state.set), m: moments(state.m), v: moments(state.v), log: l };
            writeTextAtomic(ckptPath, JSON.stringify(c), ckptPath);
          },
        });
      } finally {
        trainer.release();
      }
      runner.setAdapters(state.set);
      const after = await evaluateChip(runner, evalData, evalChip, false);
      writeAdapterFile(f.out, state.set);
      const params = adapterParams(state.set);
      const analog = analogWeightCount(net);
      const mode = chip === null ? 'hardware-aware' : 'on-chip';
      const common: ReportCommon = {
        mode, chip, evalChip, layers: layers.map((l) => l.name), epochs, lr, batch, seed,
        evaluation: { data: evalData.name, images: evalData.n, accuracyWithout: before.accuracy, accuracyWith: after.accuracy },
        epochLog: log, seconds: (performance.now() - t0) / 1000, backend: backendLine(backend), backward: trainer.backwardOn,
      };
      printReport(f, common, { rank, alpha }, { adapterParams: params, analogParams: analog, paramShare: params / analog }, [
        `xbarsim adapt: ${f.model} | ${cfg.preset ?? 'custom config'} | ${mode}${chip !== null ? ` on chip ${chip}` : ''} | rank ${rank}, alpha ${alpha} on ${common.layers.join(', ')} | ${common.backend}`,
        `adapters: ${params} parameters (${(100 * params / analog).toFixed(2)}% of the ${analog} analog weights) written to ${f.out}`,
        `accuracy on ${evalData.name} (${evalData.n} images), chip ${evalChip}: ${pct(before.accuracy)} without adapters, ${pct(after.accuracy)} with`,
      ]);
    } finally {
      runner.destroy();
    }
  } finally {
    releaseBackend(backend);
  }
}
