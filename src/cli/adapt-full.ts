/**
 * `xbarsim adapt --full` (issue 17 item 3): hardware-aware training of every analog linear and conv
 * layer's weights and biases, the baseline the adapters are compared with; writes the model with the trained
 * tensors as an ONNX file that `xbarsim eval --model` runs like any other. Every flag, file and output
 * is checked before the device is opened (exit 2, nothing written).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend } from '../gpu/backend.ts';
import { nodeBackend } from '../gpu/node-backend.ts';
import { writeFileAtomic, writeTextAtomic } from '../io/atomic-write.ts';
import { dataInputShapes, type EvalData } from '../io/datasets/eval-data.ts';
import { importOnnx } from '../io/onnx/import.ts';
import { OnnxParamWriter } from '../io/onnx/rewrite.ts';
import type { Network } from '../ir/graph.ts';
import { biasAdd, FullTrainer, fullLayers, fullParamCount, fullState, type FullOptions, type FullState } from '../nn/adapt/full.ts';
import { evaluateChip } from '../nn/evaluate.ts';
import { externalDataBeside, loadModel } from '../nn/load-model.ts';
import { openNetwork } from '../nn/runner.ts';
import type { Backend } from '../gpu/backend.ts';
import { adaptData, analogWeightCount, checkAdaptOutputs, pct, printReport, readCheckpoint, runEpochs, runNumbers, type AdaptFlags, type EpochLog, type ReportCommon, layerNames } from './adapt-common.ts';
import { evalConfig } from './eval.ts';
import { circuitBackend } from './backend-guard.ts';

interface FullCheckpoint {
  version: 1;
  mode: 'full';
  key: string;
  epochsDone: number;
  step: number;
  params: Record<string, { data: number[]; m: number[]; v: number[] }>;
  log: EpochLog[];
}

/** Accuracy of `net` on chip `chip` of `data`, calibrated as `xbarsim eval` calibrates it. */
async function chipAccuracy(backend: Backend, net: Network, cfg: XbarConfig, data: EvalData, calibration: EvalData, chip: number): Promise<number> {
  const runner = openNetwork(backend, net, cfg, false);
  try {
    await runner.calibrate(calibration.calibration!.x, calibration.calibration!.n);
    return (await evaluateChip(runner, data, chip, false)).accuracy;
  } finally {
    runner.destroy();
  }
}

/** `xbarsim adapt --full`. */
export async function runAdaptFull(f: AdaptFlags): Promise<void> {
  const t0 = performance.now();
  const { chip, epochs, lr, batch, limit, holdout, evalLimit } = runNumbers(f);
  if (!f.out.endsWith('.onnx')) throw new UsageError(`--out ${f.out}: --full writes the re-programmed model, an .onnx file (allowed: .onnx)`);
  if (f.init !== 'zero') throw new UsageError(`--init ${f.init}: --full trains the weights themselves and has no adapters to initialise (drop --init)`);
  if (f.config === undefined && f.preset === undefined) throw new UsageError('adapt: one of --config FILE or --preset NAME is required');
  const cfg = evalConfig(f);
  const bytes = readFileSync(f.model);
  const net = loadModel(f.model, dataInputShapes(f.dataset, f.inputs));
  // The data's shapes as the import fixed them: the original and the written file take the same.
  const shapes = Object.fromEntries(net.inputs.map((v) => [v.name, v.shape]));
  const original = loadModel(f.model, shapes);
  const names = layerNames(f.layers, 'linear or conv');
  const layers = fullLayers(net, cfg, names);
  const writer = new OnnxParamWriter(bytes, f.model, externalDataBeside(f.model));
  for (const op of layers) {
    if (op.kind === 'conv') writer.addConv(op);
    else writer.addLinear(op);
    const b = biasAdd(net, op);
    if (b) writer.addBiasAdd(b);
  }
  const o: FullOptions = { chip, lr, batch, seed: cfg.seed };
  const { train, held, evalData } = adaptData(f, net, cfg, limit, holdout, evalLimit);
  const ckptPath = checkAdaptOutputs(f);
  // --epochs is left out: a finished run resumed with more epochs trains on from where it stopped.
  const key = JSON.stringify({ full: true, model: createHash('sha256').update(bytes).digest('hex'), dataset: f.dataset ?? [f.inputs, f.labels], cfg, o, layers: layers.map((l) => l.name), limit, holdout });
  const state: FullState = fullState(net, layers);
  const ckpt = readCheckpoint<FullCheckpoint>(ckptPath, f, (c) => c.version === 1 && c.mode === 'full' && c.key === key);
  if (ckpt) {
    for (const p of state.params) {
      const c = ckpt.params[p.key];
      if (!c || c.data.length !== p.data.length) throw new UsageError(`--resume: ${ckptPath} has no tensor ${p.key} of ${p.data.length} values; delete it to start again`);
      p.data.set(c.data);
      p.m.set(c.m);
      p.v.set(c.v);
    }
    state.step = ckpt.step;
  }

  const backend = await nodeBackend(circuitBackend([cfg], f.backend, 'adapt --full'));
  try {
    const evalChip = chip ?? 0;
    const before = await chipAccuracy(backend, original, cfg, evalData, evalData, evalChip);
    const log: EpochLog[] = ckpt?.log ?? [];
    const trainer = new FullTrainer(backend, net, cfg, evalData.calibration!, layers, o, state);
    const arr = (a: ArrayLike<number>) => Array.from(a);
    await runEpochs('adapt --full', f, epochs, Math.min(ckpt?.epochsDone ?? 0, epochs), Math.ceil(train.n / batch), log, {
      epoch: (e, onStep) => trainer.epoch(train, e, onStep),
      heldOut: () => chipAccuracy(backend, net, cfg, held, evalData, evalChip),
      save: (epochsDone, l) => {
        const c: FullCheckpoint = { version: 1, mode: 'full', key, epochsDone, step: state.step, params: Object.fromEntries(state.params.map((p) => [p.key, { data: arr(p.data), m: arr(p.m), v: arr(p.v) }])), log: l };
        writeTextAtomic(ckptPath, JSON.stringify(c), ckptPath);
      },
    });
    // The reported accuracy is that of the written file itself, imported as eval imports it.
    const out = writer.encode();
    const after = await chipAccuracy(backend, importOnnx(out, f.out, { inputShapes: shapes }), cfg, evalData, evalData, evalChip);
    writeFileAtomic(f.out, out, f.out);
    const params = fullParamCount(state);
    const analog = analogWeightCount(net);
    const mode = chip === null ? 'hardware-aware' : 'on-chip';
    const common: ReportCommon = {
      mode, chip, evalChip, layers: layers.map((l) => l.name), epochs, lr, batch, seed: cfg.seed,
      evaluation: { data: evalData.name, images: evalData.n, accuracyWithout: before, accuracyWith: after },
      epochLog: log, seconds: (performance.now() - t0) / 1000, backend: backendLine(backend), backward: trainer.backwardOn,
    };
    printReport(f, common, { full: true }, { trainedParams: params, analogParams: analog }, [
      `xbarsim adapt --full: ${f.model} | ${cfg.preset ?? 'custom config'} | ${mode}${chip !== null ? ` on chip ${chip}` : ''} | weights and biases of ${common.layers.join(', ')} | ${common.backend}`,
      `trained: ${params} parameters (${layers.reduce((n, l) => n + l.weight.length, 0)} of the model's ${analog} analog weights, and their biases); re-programmed model written to ${f.out}`,
      `accuracy on ${evalData.name} (${evalData.n} images), chip ${evalChip}: ${pct(before)} before, ${pct(after)} after (the written model, as eval runs it)`,
    ]);
  } finally {
    releaseBackend(backend);
  }
}
