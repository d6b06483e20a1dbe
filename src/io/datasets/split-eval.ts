import type { MnistSplit } from './mnist.ts';

/** Inputs and labels to evaluate, plus the calibration inputs DESIGN.md section 6 prescribes. */
export interface EvalData {
  name: string;
  /** [n, ...sampleShape] row-major f32. */
  x: Float32Array;
  labels: Int32Array;
  n: number;
  /** Elements per sample. */
  sampleSize: number;
  /** Calibration inputs: the first calibration.samples of the training split (built-in datasets) or of --calibrate, else of x. */
  calibration: { x: Float32Array; n: number } | null;
}

/**
 * The first `n` test images of a loaded split, calibrated on its first `calSamples` training images
 * (DESIGN.md section 6). No file access, so the CLI and the browser app build the same EvalData.
 */
export function splitEvalData(name: string, { train, test }: MnistSplit, n: number, calSamples: number, pixels: number): EvalData {
  const m = Math.min(n, test.n);
  const c = Math.min(calSamples, train.n);
  return {
    name,
    x: test.images.subarray(0, m * pixels),
    labels: test.labels.subarray(0, m),
    n: m,
    sampleSize: pixels,
    calibration: { x: train.images.subarray(0, c * pixels), n: c },
  };
}
