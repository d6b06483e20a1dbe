import type { XbarConfig } from '../config/types.ts';
import type { EventCounts } from '../crossbar/counts.ts';

/** What one batch through a simulated chip returns. */
export interface ForwardResult {
  /** Network output [B, ...], f32. */
  output: Float32Array;
  /** Per matrix layer (planMatrices order) and group: input vectors that needed the X⁻ pass. */
  negVectors: number[][];
}

/** A programmed chip instance of a network: opaque to callers, freed with `release`. */
export interface ChipHandle {
  chip: number;
  release(): void;
}

/**
 * A network prepared for one config on one backend: calibrate once (DESIGN.md section 6), then
 * program any number of chips and run batches through them. Both backends implement it.
 */
export interface NetworkRunner {
  readonly backend: 'webgpu' | 'cpu';
  /** Name of each matrix layer (ONNX node name), in planMatrices order. */
  readonly layerNames: readonly string[];
  /** Per matrix layer: input scale sx and calibrated ADC range per group (after calibrate). */
  readonly scales: readonly { sx: number; hi: number[] }[];
  /** Calibrates input scales and ADC ranges on `n` samples (per-sample layout of the model input). */
  calibrate(x: Float32Array, n: number): Promise<void>;
  /**
   * Adopts another runner's calibration of the same network on the same calibration inputs. Exact
   * whenever the two configs share a calibrationKey: sx and the noise-free chip's ranges do not
   * depend on device noise or the seed.
   */
  adoptCalibration(scales: readonly { sx: number; hi: readonly number[] }[], x: Float32Array, n: number): void;
  /** Programs chip `chip` (static noise, gains; drift compensation measured on the calibration inputs). */
  program(chip: number): Promise<ChipHandle>;
  /** Runs B samples; `offset` is the first sample's position in the whole evaluated set (keys per-read noise). */
  forward(chip: ChipHandle | null, x: Float32Array, B: number, offset: number): Promise<ForwardResult>;
  /** Event counts of one matrix layer for `samples` samples, with each group's two-pass vector count. */
  layerCounts(layer: number, samples: number, negVectors: readonly number[]): EventCounts;
  /** Samples per batch that fit the adapter. */
  readonly maxBatch: number;
  destroy(): void;
}

/**
 * What a network's calibration depends on (DESIGN.md section 6): the config without its device noise,
 * analog non-idealities and seed, which only the programmed chips and the reads see.
 */
export function calibrationKey(cfg: XbarConfig): string {
  const { noise: _n, analog: _a, seed: _s, preset: _p, ...rest } = cfg;
  return JSON.stringify(rest);
}
