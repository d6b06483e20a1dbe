/**
 * What a backend provides to the one network walk (src/nn/walk.ts) and the one calibration policy
 * (src/nn/calibration.ts): the primitives for digital ops, f32 and crossbar matrices, and the few
 * measurements calibration takes. The CPU executor is the oracle; the GPU executor records the same
 * steps into one command buffer per batch.
 */
import type { AdapterLayer } from '../../adapters/set.ts';
import type { ConvOp } from '../../ir/graph.ts';
import type { DigitalOp } from '../ops/types.ts';

/** A value a batch computes, readable once the batch has finished. */
export interface Pending<V> {
  get(): V;
}

/** A programmed chip instance of every analog matrix of a network. */
export interface ChipSet {
  readonly chip: number;
  release(): void;
}

/** How one crossbar matrix runs in a batch. */
export interface CrossbarRun {
  /** The noise-free chip (calibration, drift compensation's reference) or a programmed instance. */
  chip: ChipSet | 'ideal';
  /** Rows are quantized as round(|x| / sxq): the layer's sx, or 1 when they already hold codes. */
  sxq: number;
  /** Output scale: sx times any drift compensation. */
  outScale: number;
  /** Position of the batch's first vector in the whole input set (keys the per-read noise). */
  rowOffset: number;
  /** Draw read, analog and ADC noise (off for drift compensation). */
  perRead: boolean;
  /** Add the layer's bias (linear layers; conv biases are added by the NCHW scatter). */
  bias: boolean;
  /** Vectors per GPU dispatch (results never depend on it); default: the adapter's limits. */
  vectorsPerDispatch?: number;
  /** Which use of a tied layer this is (default 0): each use draws its own per-read noise (perReadLayer). */
  use?: number;
}

/** One batch of recorded work: tensors are the backend's own (host arrays or GPU buffers). */
export interface ExecBatch<T> {
  /** The network input [B, ...inShape]. */
  input(x: Float32Array, B: number): T;
  digital(op: DigitalOp, inputs: readonly T[], B: number): T;
  /** A matrix layer in f32 (kept digital, or the calibration forward pass). */
  f32(layer: number, x: T, B: number): T;
  /** One group's im2col rows [B·OH·OW, (cin/group)·kh·kw] (DESIGN.md section 6). */
  im2col(op: ConvOp, x: T, B: number, group: number): T;
  /** A conv layer's NCHW output, filled group by group by `scatter` (which adds the bias). */
  convOutput(op: ConvOp, B: number): T;
  scatter(op: ConvOp, cols: T, out: T, B: number, group: number): void;
  /** Outputs [n, N] of one analog matrix on `run.chip`, and how many of the n vectors needed the X⁻ pass. */
  crossbar(layer: number, group: number, rows: T, n: number, run: CrossbarRun): { y: T; negVectors: Pending<number> };
  /** Largest |value| of a tensor. */
  maxAbs(t: T): Pending<number>;
  /**
   * Largest |ADC input| of the noise-free chip, per group, over the vectors a matrix layer reads from
   * its input `x` (B samples), quantized with `sxq`: each group's `calibrated` range.
   */
  layerMaxAdcInput(layer: number, x: T, B: number, sxq: number): Pending<number>[];
  /** Σ|Y| of one analog matrix's outputs (no bias) on `run.chip`: drift compensation's measurement. */
  sumAbsOutput(layer: number, group: number, rows: T, n: number, run: CrossbarRun): Pending<number>;
  /** A linear layer's output y [n, N] plus its adapter branch (α/r)·B·(A·x) for its input rows x [n, K] (src/adapters). */
  adapter(layer: number, x: T, y: T, n: number): T;
  /** The tensor's values. */
  read(t: T): Pending<Float32Array>;
  /**
   * A walk that recycles (walkNetwork's `recycle`) holds each value it produces and releases it after
   * its last reader: once no held value shares its storage, that storage may serve a later
   * allocation of the batch (recorded work runs in order). Absent: nothing is reused.
   */
  hold?(t: T): void;
  release?(t: T): void;
  /**
   * Runs what was recorded so far; afterwards its Pendings can be read, while every tensor stays valid
   * for more recording (calibration measures ADC ranges on the activations of the walk that gave sx).
   */
  flush(): Promise<void>;
  /** Runs what was recorded; afterwards every Pending of this batch can be read. Frees temporaries. */
  finish(): Promise<void>;
}

/** A network's analog and f32 matrices on one backend under one config. */
export interface Executor<T> {
  readonly kind: 'webgpu' | 'cpu';
  /** Samples per forward batch that fit the backend. */
  readonly maxBatch: number;
  /** Samples per calibration batch (the CPU takes them all at once). */
  readonly calibrationBatch: number;
  /** A batch whose first sample is at `sampleOffset` in the whole input set (the model's random draws are keyed by it). */
  batch(sampleOffset?: number): ExecBatch<T>;
  /** Installs one layer's calibrated ADC range per group. */
  setRanges(layer: number, hi: readonly number[]): void;
  /**
   * Installs the near-memory digital unit of a layer whose config has a `digital` block
   * (src/readout/digital.ts): its output LSB and whether a ReLU after the layer is fused into it.
   */
  setDigital(layer: number, outScale: number, relu: boolean): void;
  /** Installs (or with null removes) a linear layer's digital adapter; the programmed chips are untouched. */
  setAdapter(layer: number, a: AdapterLayer | null): void;
  /** Programs chip instance `chip` of every analog matrix (static noise, analog gains). */
  programChip(chip: number): ChipSet;
  destroy(): void;
}
