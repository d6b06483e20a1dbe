import type { XbarConfig } from '../config/types.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import type { BuiltinDataset } from '../io/datasets/builtin.ts';
import type { CostFields } from '../nn/cost.ts';

/** One evaluation the sweep asks for: a whole network on one chip instance of one config. */
export interface EvalRequest {
  config: XbarConfig;
  chip: number;
  limit?: number;
}

/** What one evaluation reports (DESIGN.md section 5 counts, summed over the evaluated images). */
export interface EvalResult {
  accuracy: number;
  correct: number;
  total: number;
  counts: { layers: ({ name: string } & EventCounts)[]; total: EventCounts; vectors: number };
  seconds: number;
  adapter: string;
  seed: number;
  /** Energy, latency, throughput and area per inference from these counts (src/energy); null when the config has no cost table; absent from evaluators that do not cost. */
  cost?: CostFields | null;
}

/** A Linear/Conv layer of the model, as `layers` keys name it: by ONNX node name or by index. */
export interface LayerRef {
  index: number;
  name: string;
}

/** Runs networks for the sweep; the real one is the network evaluator, tests inject a fake. */
export interface Evaluator {
  evaluate(req: EvalRequest): Promise<EvalResult>;
  close(): Promise<void> | void;
  /** The model's crossbar layers, so `layers` keys are checked before anything is written; absent for an evaluator without a model. */
  matrixLayers?(): readonly LayerRef[];
}

/** What the evaluator factory needs to load the model and the data once per sweep. */
/** How a sweep's evaluator starts, beside what its results depend on (never stored with them). */
export interface EvaluatorOptions {
  /** Measure the crossbar kernel's tiling again instead of reading the tuning cache (--retune). */
  retune?: boolean;
}

export interface SweepEvalSetup {
  /** Path of the ONNX model. */
  model: string;
  /** A built-in dataset's test split, or `.npy` inputs and integer labels. */
  dataset: BuiltinDataset | { inputs: string; labels: string };
  backend: BackendChoice;
  /** Evaluate only the first `limit` items (undefined: all). */
  limit?: number;
  /** Adapter set file (.npz or .json, src/adapters) installed on every evaluation. */
  adapters?: string;
}

/** A value a `--vary` path takes at one grid point. */
export type VaryValue = number | string | boolean;
