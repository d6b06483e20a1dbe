/**
 * `xbarsim adapt --full` (issue 17 item 3): hardware-aware training of every analog linear and conv
 * layer's weights and biases, the baseline the adapters are compared with; writes the model with the trained
 * tensors as an ONNX file that `xbarsim eval --model` runs like any other. Every flag, file and output
 * is checked before the device is opened (exit 2, nothing written).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend } from '../gpu/backend.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { checkOutputs, writeFileAtomic, writeTextAtomic } from '../io/atomic-write.ts';
import type { EvalData } from '../io/datasets/eval-data.ts';
import { importOnnx } from '../io/onnx/import.ts';
import { OnnxParamWriter } from '../io/onnx/rewrite.ts';
import type { Network } from '../ir/graph.ts';
import { biasAdd, FullTrainer, fullLayers, fullParamCount, fullState, type FullLayer, type FullOptions, type FullState } from '../nn/adapt/full.ts';
import { HW_CHIP_BASE } from '../nn/adapt/train.ts';
import { evaluateChip } from '../nn/evaluate.ts';
import { loadModel } from '../nn/load-model.ts';
import { openNetwork } from '../nn/runner.ts';
import type { Backend } from '../gpu/backend.ts';
import { adaptData, floatFlag, pct, type AdaptFlags } from './adapt-common.ts';
import { evalConfig } from './eval.ts';
import { intFlag } from './vmm.ts';
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

interface EpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
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
  const chip = intFlag('--chip', f.chip, 0, HW_CHIP_BASE - 1) ?? null;
  const epochs = intFlag('--epochs', f.epochs, 1, 100000)!;
  const lr = floatFlag('--lr', f.lr, 0, 1);
  const batch = intFlag('--batch', f.batch, 1, 65536)!;
  const limit = intFlag('--limit', f.limit, 1, 2 ** 31)!;
  const holdout = intFlag('--holdout', f.holdout, 1, 2 ** 31)!;
  const evalLimit = intFlag('--eval-limit', f.evalLimit, 1, 2 ** 31)!;
  if (!f.out.endsWith('.onnx')) throw new UsageError(`--out ${f.out}: --full writes the re-programmed model, an .onnx file (allowed: .onnx)`);
  if (f.init !== 'zero') throw new UsageError(`--init ${f.init}: --full trains the weights themselves and has no adapters to initialise (drop --init)`);
  if (f.config === undefined && f.preset === undefined) throw new UsageError('adapt: one of --config FILE or --preset NAME is required');
  const cfg = evalConfig(f);
  const bytes = readFileSync(f.model);
  const net = loadModel(f.model);
  const original = loadModel(f.model);
  const names = f.layers === undefined ? null : f.layers.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names !== null && names.length === 0) throw new UsageError('--layers: give one or more linear or conv layer names, comma-separated');
  const layers = fullLayers(net, cfg, names);
  const writer = new OnnxParamWriter(bytes, f.model);
  for (const op of layers) {
    if (op.kind === 'conv') writer.addConv(op);
    else writer.addLinear(op);
    const b = biasAdd(net, op);
    if (b) writer.addBiasAdd(b);
  }
  const o: FullOptions = { chip, lr, batch, seed: cfg.seed };
  const { train, held, evalData } = adaptData(f, net, cfg, limit, holdout, evalLimit);
  const ckptPath = `${f.out}.checkpoint.json`;
  const inputs = [{ flag: '--model', path: f.model }, ...(f.inputs ? [{ flag: '--inputs', path: f.inputs }, { flag: '--labels', path: f.labels! }] : []), ...(f.config ? [{ flag: '--config', path: f.config }] : [])];
  checkOutputs([{ flag: '--out', path: f.out }, { flag: '--out (checkpoint)', path: ckptPath }], inputs);
  // --epochs is left out: a finished run resumed with more epochs trains on from where it stopped.
  const key = JSON.stringify({ full: true, model: createHash('sha256').update(bytes).digest('hex'), dataset: f.dataset ?? [f.inputs, f.labels], cfg, o, layers: layers.map((l) => l.name), limit, holdout });
  const state: FullState = fullState(net, layers);
  let ckpt: FullCheckpoint | null = null;
  if (existsSync(ckptPath)) {
    if (!f.resume) throw new UsageError(`--out ${f.out}: a checkpoint ${ckptPath} exists; pass --resume to continue it, or delete it`);
    try {
      ckpt = JSON.parse(readFileSync(ckptPath, 'utf8')) as FullCheckpoint;
    } catch {
      throw new UsageError(`--resume: ${ckptPath} is not a readable checkpoint; delete it to start again`);
    }
    if (ckpt.version !== 1 || ckpt.mode !== 'full' || ckpt.key !== key) throw new UsageError(`--resume: ${ckptPath} belongs to a run with other flags, model, data or config; delete it or repeat that run's flags`);
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
    const perEpoch = Math.ceil(train.n / batch);
    const first = Math.min(ckpt?.epochsDone ?? 0, epochs);
    const bar = !f.json && process.stderr.isTTY
      ? new SingleBar({ format: 'adapt --full [{bar}] {percentage}% | epoch {epoch}/{epochs} | loss {loss} | held-out {held} | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic)
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
        const h = await chipAccuracy(backend, net, cfg, held, evalData, evalChip);
        log.push({ epoch: e + 1, loss: r.loss, trainAccuracy: r.accuracy, heldOutAccuracy: h });
        bar?.update(done, { held: pct(h) });
        if (!bar && !f.json) stderrLine(`adapt --full: epoch ${e + 1}/${epochs}: loss ${r.loss.toFixed(4)}, training accuracy ${pct(r.accuracy)}, held-out ${pct(h)}`);
        const arr = (a: ArrayLike<number>) => Array.from(a);
        const c: FullCheckpoint = { version: 1, mode: 'full', key, epochsDone: e + 1, step: state.step, params: Object.fromEntries(state.params.map((p) => [p.key, { data: arr(p.data), m: arr(p.m), v: arr(p.v) }])), log };
        writeTextAtomic(ckptPath, JSON.stringify(c), ckptPath);
      }
    } finally {
      bar?.stop();
    }
    // The reported accuracy is that of the written file itself, imported as eval imports it.
    const out = writer.encode();
    const after = await chipAccuracy(backend, importOnnx(out, f.out), cfg, evalData, evalData, evalChip);
    writeFileAtomic(f.out, out, f.out);
    report(f, net, cfg, backendLine(backend), state, layers, o, evalData, before, after, log, (performance.now() - t0) / 1000, epochs, trainer.backwardOn);
  } finally {
    releaseBackend(backend);
  }
}

function report(f: AdaptFlags, net: Network, cfg: XbarConfig, adapter: string, state: FullState, layers: readonly FullLayer[], o: FullOptions, evalData: EvalData, before: number, after: number, log: EpochLog[], seconds: number, epochs: number, backward: 'webgpu' | 'cpu'): void {
  let analog = 0;
  for (const op of net.ops) if (op.kind === 'linear' || op.kind === 'conv') analog += op.weight.length;
  const params = fullParamCount(state);
  const mode = o.chip === null ? 'hardware-aware' : 'on-chip';
  const evalChip = o.chip ?? 0;
  if (f.json) {
    const out = {
      model: f.model,
      out: f.out,
      mode,
      full: true,
      chip: o.chip,
      evalChip,
      layers: layers.map((l) => l.name),
      epochs,
      lr: o.lr,
      batch: o.batch,
      seed: cfg.seed,
      trainedParams: params,
      analogParams: analog,
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
    `xbarsim adapt --full: ${f.model} | ${cfg.preset ?? 'custom config'} | ${mode}${o.chip !== null ? ` on chip ${o.chip}` : ''} | weights and biases of ${layers.map((l) => l.name).join(', ')} | ${adapter}`,
    `trained: ${params} parameters (${layers.reduce((n, l) => n + l.weight.length, 0)} of the model's ${analog} analog weights, and their biases); re-programmed model written to ${f.out}`,
    `accuracy on ${evalData.name} (${evalData.n} images), chip ${evalChip}: ${pct(before)} before, ${pct(after)} after (the written model, as eval runs it)`,
    `time: ${seconds.toFixed(1)} s (backward on ${backward === 'webgpu' ? 'WebGPU' : 'the CPU reference'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
