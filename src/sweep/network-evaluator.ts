import type { XbarConfig } from '../config/types.ts';
import { backendLine, releaseBackend, type Backend } from '../gpu/backend.ts';
import type { EvalData } from '../io/datasets/eval-data.ts';
import { builtinEvalData, dataInputShapes, npyEvalData } from '../io/datasets/eval-data.ts';
import type { EvalRequest, EvalResult, Evaluator, EvaluatorOptions, LayerRef, SweepEvalSetup } from './types.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { fileTuningStore } from '../gpu/tuning-cache.ts';
import { tuneBackend } from '../kernels/autotune.ts';
import { evaluateChip } from '../nn/evaluate.ts';
import type { Network } from '../ir/graph.ts';
import { matrixLayerRefs, modelClasses } from './layers.ts';
import { CalibrationCache } from '../nn/calibration.ts';
import { loadModel } from '../nn/load-model.ts';
import { costFields, runCost } from '../nn/cost.ts';
import { readAdapterFile } from '../adapters/file.ts';
import { checkAdapterSet, type AdapterSet } from '../adapters/set.ts';
import { calibrateCached, openNetwork, type NetworkRunner } from '../nn/runner.ts';

/**
 * The sweep's evaluator: the model, the data and the device are opened once; each config is
 * calibrated once (DESIGN.md section 6: calibration is per config, not per chip) and kept while its
 * chips run, so a grid point's chips share one calibration.
 */
export class NetworkEvaluator implements Evaluator {
  private current: { key: string; runner: NetworkRunner; data: EvalData } | null = null;
  /** Calibrations done so far (small: one scale and range per layer); points differing only in noise or seed share them. */
  private readonly calibrations = new CalibrationCache();

  private constructor(
    private readonly backend: Backend,
    private readonly net: Network,
    private readonly setup: SweepEvalSetup,
    private readonly adapters: AdapterSet | null,
  ) {}

  /**
   * Opens the model, checks the data against it (shapes, finite values, at least one sample, every
   * label below the model's output size), then the backend: bad data is refused before a sweep
   * writes anything.
   */
  static async open(setup: SweepEvalSetup, opts: EvaluatorOptions = {}): Promise<NetworkEvaluator> {
    const net = loadModel(setup.model, typeof setup.dataset === 'string' ? dataInputShapes(setup.dataset, undefined) : dataInputShapes(undefined, setup.dataset.inputs));
    dataFor(net, setup, setup.limit, 1);
    const adapters = setup.adapters !== undefined ? readAdapterFile(setup.adapters) : null;
    if (adapters && setup.adapters !== undefined) checkAdapterSet(adapters, net, `--adapters ${setup.adapters}`);
    const backend = await nodeBackend(setup.backend);
    await tuneBackend(backend, fileTuningStore(), { retune: opts.retune, log: stderrLine });
    return new NetworkEvaluator(backend, net, setup, adapters);
  }

  /** The model's Linear/Conv layers, for checking `layers` keys. */
  matrixLayers(): readonly LayerRef[] {
    return matrixLayerRefs(this.net);
  }

  private data(cfg: XbarConfig, limit: number | undefined): EvalData {
    return dataFor(this.net, this.setup, limit, cfg.calibration.samples);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const limit = req.limit ?? this.setup.limit;
    const key = JSON.stringify([req.config, limit]);
    if (this.current?.key !== key) {
      const prev = this.current;
      this.current = null;
      const data = this.data(req.config, limit);
      const runner = openNetwork(this.backend, this.net, req.config, false);
      runner.setAdapters(this.adapters);
      await calibrateCached(runner, req.config, this.calibrations, `limit=${String(limit)}`, data.calibration!);
      prev?.runner.destroy();
      this.current = { key, runner, data };
    }
    const { runner, data } = this.current;
    const r = await evaluateChip(runner, data, req.chip, false);
    const cost = costFields(runCost(this.net, req.config, false, r.counts, req.config.preset ?? 'config'));
    return { accuracy: r.accuracy, correct: r.correct, total: r.total, counts: r.counts, seconds: r.seconds, adapter: backendLine(this.backend), seed: req.config.seed, cost };
  }

  close(): void {
    this.current?.runner.destroy();
    this.current = null;
    releaseBackend(this.backend);
  }
}

/** The sweep's data for `net`, checked against its input shape and its number of classes. */
function dataFor(net: Network, setup: SweepEvalSetup, limit: number | undefined, calSamples: number): EvalData {
  const d = setup.dataset;
  const classes = modelClasses(net);
  return typeof d === 'string'
    ? builtinEvalData(d, net.input.shape, limit, calSamples, classes)
    : npyEvalData(d.inputs, d.labels, undefined, net.input.shape, limit, calSamples, classes, net.inputs);
}
