/**
 * A programmed chip's cell conductances (ProgrammedLayer.G's layout) with what a device model adds to
 * them: each cell's per-read noise σ and the layer's drift compensation. A Float64Array, so every
 * consumer of a chip's G reads it unchanged; the crossbar reference reads the extras when present.
 */
export class DeviceCells extends Float64Array {
  /** Per-read noise σ of each cell in normalized units (Gmax = 1), or null for noise-free reads. */
  readSigma: Float64Array | null = null;
  /** Drift compensation factor of each output column (length N; all equal for "global"), or null. */
  columnScale: Float64Array | null = null;
}

/** The device extras of a chip's cells, if it was programmed with a device model. */
export function deviceExtras(G: ArrayLike<number>): { readSigma: Float64Array | null; columnScale: Float64Array | null } {
  return G instanceof DeviceCells ? { readSigma: G.readSigma, columnScale: G.columnScale } : { readSigma: null, columnScale: null };
}
