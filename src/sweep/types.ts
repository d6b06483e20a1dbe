import type { XbarConfig } from '../config/types.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import type { BackendChoice } from '../gpu/backend.ts';

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
export interface SweepEvalSetup {
  /** Path of the ONNX model. */
  model: string;
  /** The built-in MNIST test split, or `.npy` inputs and integer labels. */
  dataset: 'mnist' | { inputs: string; labels: string };
  backend: BackendChoice;
  /** Evaluate only the first `limit` items (undefined: all). */
  limit?: number;
}

/** A value a `--vary` path takes at one grid point. */
export type VaryValue = number | string | boolean;
