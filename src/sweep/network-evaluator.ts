import type { XbarConfig } from '../config/types.ts';
import { backendLine, releaseBackend, type Backend } from '../gpu/backend.ts';
import type { EvalData } from '../io/datasets/eval-data.ts';
import { builtinEvalData, npyEvalData } from '../io/datasets/eval-data.ts';
import type { EvalRequest, EvalResult, Evaluator, SweepEvalSetup } from './types.ts';
import { nodeBackend } from '../gpu/node-backend.ts';
import { evaluateChip, openNetwork } from '../nn/evaluate.ts';
import type { Network } from '../ir/graph.ts';
import { loadModel } from '../nn/load-model.ts';
import { calibrationKey, type NetworkRunner } from '../nn/network-runner.ts';

/**
 * The sweep's evaluator: the model, the data and the device are opened once; each config is
 * calibrated once (DESIGN.md section 6: calibration is per config, not per chip) and kept while its
 * chips run, so a grid point's chips share one calibration.
 */
export class NetworkEvaluator implements Evaluator {
  private current: { key: string; runner: NetworkRunner; data: EvalData } | null = null;
  /** Calibrations done so far, by calibrationKey (small: one scale and range per layer). */
  private readonly calibrations = new Map<string, NetworkRunner['scales']>();

  private constructor(
    private readonly backend: Backend,
    private readonly net: Network,
    private readonly setup: SweepEvalSetup,
  ) {}

  /** Opens the model and the backend of a sweep. */
  static async open(setup: SweepEvalSetup): Promise<NetworkEvaluator> {
    const net = loadModel(setup.model);
    return new NetworkEvaluator(await nodeBackend(setup.backend), net, setup);
  }

  private data(cfg: XbarConfig, limit: number | undefined): EvalData {
    const d = this.setup.dataset;
    return typeof d === 'string'
      ? builtinEvalData(d, this.net.input.shape, limit, cfg.calibration.samples)
      : npyEvalData(d.inputs, d.labels, undefined, this.net.input.shape, limit, cfg.calibration.samples);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const limit = req.limit ?? this.setup.limit;
    const key = JSON.stringify([req.config, limit]);
    if (this.current?.key !== key) {
      const prev = this.current;
      this.current = null;
      const data = this.data(req.config, limit);
      const runner = openNetwork(this.backend, this.net, req.config, false);
      const calKey = calibrationKey(req.config);
      // Points that differ only in noise or seed share one calibration (it never sees the noise).
      const known = this.calibrations.get(calKey);
      if (known) runner.adoptCalibration(known, data.calibration!.x, data.calibration!.n);
      else await runner.calibrate(data.calibration!.x, data.calibration!.n);
      this.calibrations.set(calKey, runner.scales.map((sc) => ({ sx: sc.sx, hi: [...sc.hi] })));
      prev?.runner.destroy();
      this.current = { key, runner, data };
    }
    const { runner, data } = this.current;
    const r = await evaluateChip(runner, data, req.chip, false);
    return { accuracy: r.accuracy, correct: r.correct, total: r.total, counts: r.counts, seconds: r.seconds, adapter: backendLine(this.backend), seed: req.config.seed };
  }

  close(): void {
    this.current?.runner.destroy();
    this.current = null;
    releaseBackend(this.backend);
  }
}
