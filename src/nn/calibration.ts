/**
 * The one calibration policy (DESIGN.md sections 3, 4 and 6), used by eval, sweep, vmm (a one-layer
 * network) and the browser app on either backend:
 * - input scale sx of each analog layer from the largest |input| it sees in an f32 forward pass over
 *   the calibration inputs (or given, when the inputs already hold quantization codes);
 * - the `calibrated` ADC range: the largest |ADC input| of the noise-free chip fed those same f32
 *   activations, one range per layer across its groups' matrices;
 * - global drift compensation per chip and matrix: Σ|Y_ideal| / Σ|Y_drifted| over the calibration
 *   inputs' f32 activations, without per-read noise or bias.
 * Calibration never sees device noise or the seed, so configs that differ only in those share it
 * (calibrationKey, CalibrationCache).
 */
import { deviceRange } from '../config/device.ts';
import type { XbarConfig } from '../config/types.ts';
import type { Network, UnaryOp } from '../ir/graph.ts';
import { outputRange } from '../readout/digital.ts';
import type { ExecBatch, ChipSet, CrossbarRun, Executor } from './exec/types.ts';
import type { MatrixLayer } from './matrices.ts';
import { forEachMatrix, walkNetwork } from './walk.ts';

/** Input scale and calibrated ADC range (one per group, all equal to the layer's) of one matrix layer. */
export interface LayerScales {
  sx: number;
  hi: number[];
  /** The near-memory digital unit's output LSB and ReLU fusion (layers with a `digital` block). */
  digital?: { outScale: number; relu: boolean };
}

/** Calibration inputs: n samples in the model input's per-sample layout. */
export interface CalibrationInputs {
  x: Float32Array;
  n: number;
}

/** The graph input holds quantization codes of matrix layer 0 with this input scale (vmm: the host quantized them in f64). */
export interface InputCodes {
  sx: number;
}

/** Whether the ADC range must be calibrated: a `calibrated` range that something reads (the ADC, or analog noise scaled by hi). */
export function needsCalibration(cfg: XbarConfig): boolean {
  return cfg.adc.range === 'calibrated' && (cfg.adc.bits > 0 || (cfg.dataflow !== 'digital-sa' && cfg.analog.noise > 0));
}

/** Whether global drift compensation is active (section 4: drift on and compensation "global"). */
export function needsDriftCompensation(cfg: XbarConfig): boolean {
  const d = cfg.noise.drift;
  return d.compensation === 'global' && d.t !== d.t0 && (d.nu > 0 || d.nuStd > 0);
}

/** Σ|v|. */
export function sumAbs(v: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < v.length; i++) a += Math.abs(v[i]);
  return a;
}

/** `mean|Y_ideal| / mean|Y_drifted|` over equally many outputs (1 when the drifted output is all zero). */
export function compensationFactor(ideal: ArrayLike<number>, drifted: ArrayLike<number>): number {
  return compensationFromSums(sumAbs(ideal), sumAbs(drifted));
}

/** Global drift compensation from Σ|Y_ideal| and Σ|Y_drifted| over the same outputs (1 when the drifted sum is 0). */
export function compensationFromSums(ideal: number, drifted: number): number {
  return drifted === 0 ? 1 : ideal / drifted;
}

/**
 * What a network's calibration depends on: the config without its device noise, analog
 * non-idealities and seed, which only the programmed chips and the reads see.
 */
export function calibrationKey(cfg: XbarConfig): string {
  const { noise: _n, analog: _a, seed: _s, preset: _p, ...rest } = cfg;
  // A device model's default range (Gmin, and gMax for the wires) shapes the noise-free chip too.
  return JSON.stringify({ ...rest, range: deviceRange(cfg) });
}

/** Calibrations already made, by calibrationKey and calibration set: a sweep's points share them. */
export class CalibrationCache {
  private readonly known = new Map<string, LayerScales[]>();

  private static key(cfg: XbarConfig, data: string): string {
    return `${data}\u0000${calibrationKey(cfg)}`;
  }

  /** The stored calibration of `cfg` on the calibration set named `data`, if any (a copy). */
  get(cfg: XbarConfig, data: string): LayerScales[] | undefined {
    return this.known.get(CalibrationCache.key(cfg, data))?.map(copyScales);
  }

  set(cfg: XbarConfig, data: string, scales: readonly LayerScales[]): void {
    this.known.set(CalibrationCache.key(cfg, data), scales.map(copyScales));
  }
}

/** A deep copy of one layer's scales. */
export function copyScales(s: LayerScales): LayerScales {
  return s.digital ? { sx: s.sx, hi: [...s.hi], digital: { ...s.digital } } : { sx: s.sx, hi: [...s.hi] };
}

/** Whether a ReLU is the only consumer of a layer's output: the digital unit then fuses it (an unsigned output code). */
export function reluFollows(net: Network, output: string): boolean {
  const users = net.ops.filter((o) => o.inputs.includes(output));
  return net.output !== output && users.length === 1 && users[0].kind === 'unary' && (users[0] as UnaryOp).fn === 'relu';
}

/** Samples per calibration batch of `ex` over `cal`. */
function calibrationStep<T>(ex: Executor<T>, cal: CalibrationInputs): number {
  return Math.max(1, Math.min(cal.n, ex.calibrationBatch));
}

/**
 * Walks the calibration inputs in f32, in batches of the executor's calibration size. `visit` sees
 * each matrix layer's input and records measurements into the batch; what it hands to `later` runs
 * once the batch's recorded work has run (its Pending values are readable then), in the order given.
 * `more`, when given, records more work into the same batch after that, on tensors the walk kept.
 */
async function overCalibration<T>(
  net: Network,
  ex: Executor<T>,
  cal: CalibrationInputs,
  visit: (b: ExecBatch<T>, layer: number, x: T, B: number, later: (f: () => void) => void) => void,
  seen?: (b: ExecBatch<T>, layer: number, y: T, later: (f: () => void) => void) => void,
  more?: (b: ExecBatch<T>, B: number, later: (f: () => void) => void) => void,
): Promise<void> {
  const per = cal.n === 0 ? 0 : cal.x.length / cal.n;
  const step = calibrationStep(ex, cal);
  for (let s0 = 0; s0 < cal.n; s0 += step) {
    const B = Math.min(step, cal.n - s0);
    // The batch's position in the calibration set keys a model's own random draws, as forward's does.
    const b = ex.batch(s0);
    const after: (() => void)[] = [];
    const later = (f: () => void): void => void after.push(f);
    const run = (): void => {
      for (const f of after.splice(0)) f();
    };
    walkNetwork(net, b, cal.x.subarray(s0 * per, (s0 + B) * per), B, (layer, x) => {
      visit(b, layer, x, B, later);
      const y = b.f32(layer, x, B);
      seen?.(b, layer, y, later);
      return y;
    });
    if (more) {
      await b.flush();
      run();
      more(b, B, later);
    }
    await b.finish();
    run();
  }
}

/**
 * Calibrates every analog layer (sections 3 and 6): input scales, then calibrated ADC ranges, which
 * it installs in the executor. Returns the scales per matrix layer. When the calibration inputs fit
 * one batch, the ranges are measured on the activations of the very walk that gave the scales (one
 * f32 forward pass); otherwise every batch is walked again once the scales are known.
 */
export async function calibrateNetwork<T>(net: Network, layers: readonly MatrixLayer[], ex: Executor<T>, cal: CalibrationInputs, codes?: InputCodes): Promise<LayerScales[]> {
  const scales: LayerScales[] = layers.map((l) => ({ sx: 1, hi: l.parts.map(() => 0) }));
  const measured = (i: number): boolean => layers[i].cfg !== null && !(codes && i === 0);
  // Pass 1: f32 forward; each analog layer's sx from the largest |input| it sees, and a digital unit's
  // output LSB from the largest |output| (after a fused ReLU: the largest output) of its layer.
  const digital = (i: number): boolean => layers[i].cfg?.digital !== undefined;
  const ranged = (i: number): boolean => layers[i].cfg !== null && needsCalibration(layers[i].cfg!);
  const relu = layers.map((l) => l.cfg?.digital !== undefined && (l.cfg.digital.relu || l.ops.every((op) => reluFollows(net, op.output))));
  const maxOut = layers.map(() => 0);
  const maxAbs = layers.map(() => 0);
  const wantRanges = layers.some((_, i) => ranged(i));
  // One walk needs a batch to measure the ranges in: with no calibration inputs the scales are set below.
  const oneWalk = wantRanges && cal.n > 0 && calibrationStep(ex, cal) >= cal.n;
  // Each use's input (a tied layer is read at several steps): [layer, input] in walk order.
  const kept: [number, T][] = [];
  const setScales = (): void => {
    layers.forEach((l, i) => {
      if (measured(i)) scales[i].sx = maxAbs[i] === 0 ? 1 : maxAbs[i] / (2 ** l.cfg!.inputs.bits - 1);
    });
    if (codes && layers[0]?.cfg) scales[0].sx = codes.sx;
    layers.forEach((l, i) => {
      if (!digital(i)) return;
      // A graph fed quantization codes (vmm) computed its f32 outputs in codes: times sx they are outputs.
      const peak = maxOut[i] * (codes && i === 0 ? codes.sx : 1);
      const top = outputRange(l.cfg!.digital!.outputBits, relu[i]).hi;
      scales[i].digital = { outScale: peak > 0 ? peak / top : 1, relu: relu[i] };
    });
  };
  // Pass 2: the noise-free chip fed those same f32 inputs gives each calibrated ADC range.
  const measureRanges = (b: ExecBatch<T>, layer: number, x: T, B: number, later: (f: () => void) => void): void => {
    const his = b.layerMaxAdcInput(layer, x, B, quantScale(scales, layer, codes));
    later(() => his.forEach((m, group) => (scales[layer].hi[group] = Math.max(scales[layer].hi[group], m.get()))));
  };
  if (oneWalk || layers.some((_, i) => measured(i) || digital(i))) {
    await overCalibration(
      net,
      ex,
      cal,
      (b, layer, x, _B, later) => {
        if (oneWalk && ranged(layer)) kept.push([layer, x]);
        if (!measured(layer)) return;
        const m = b.maxAbs(x);
        later(() => (maxAbs[layer] = Math.max(maxAbs[layer], m.get())));
      },
      (b, layer, y, later) => {
        if (!digital(layer)) return;
        const v = b.read(y);
        later(() => {
          for (const e of v.get()) maxOut[layer] = Math.max(maxOut[layer], relu[layer] ? e : Math.abs(e));
        });
      },
      oneWalk
        ? (b, B, later) => {
            setScales();
            for (const [layer, x] of kept) measureRanges(b, layer, x, B, later);
          }
        : undefined,
    );
  }
  if (!oneWalk) setScales();
  if (wantRanges) {
    if (!oneWalk) await overCalibration(net, ex, cal, (b, layer, x, B, later) => {
      if (ranged(layer)) measureRanges(b, layer, x, B, later);
    });
    // One calibrated range per layer (section 3), across its groups' matrices.
    layers.forEach((l, i) => {
      if (!ranged(i)) return;
      const hi = Math.max(...scales[i].hi);
      scales[i].hi = scales[i].hi.map(() => hi);
    });
  }
  installScales(layers, ex, scales);
  return scales;
}

/** Installs ranges and digital units of every analog layer in the executor. */
function installScales<T>(layers: readonly MatrixLayer[], ex: Executor<T>, scales: readonly LayerScales[]): void {
  layers.forEach((l, i) => {
    if (!l.cfg) return;
    ex.setRanges(i, scales[i].hi);
    const d = scales[i].digital;
    if (d) ex.setDigital(i, d.outScale, d.relu);
  });
}

/** Installs a calibration made elsewhere (exact when the configs share a calibrationKey). */
export function adoptCalibration<T>(layers: readonly MatrixLayer[], ex: Executor<T>, scales: readonly LayerScales[]): LayerScales[] {
  const own = scales.map(copyScales);
  installScales(layers, ex, own);
  return own;
}

/** The scale rows of layer `layer` are quantized with: sx, or 1 when the graph input holds its codes. */
export function quantScale(scales: readonly LayerScales[], layer: number, codes?: InputCodes): number {
  return codes && layer === 0 ? 1 : scales[layer].sx;
}

/** Global drift compensation of chip `chip`, per matrix layer and group (1 where it is off). */
export async function measureCompensation<T>(
  net: Network,
  layers: readonly MatrixLayer[],
  ex: Executor<T>,
  cal: CalibrationInputs,
  scales: readonly LayerScales[],
  chip: ChipSet,
  codes?: InputCodes,
): Promise<number[][]> {
  const comp = layers.map((l) => l.parts.map(() => 1));
  const on = (i: number): boolean => layers[i].cfg !== null && needsDriftCompensation(layers[i].cfg!);
  if (!layers.some((_, i) => on(i))) return comp;
  const sums = layers.map((l) => l.parts.map(() => [0, 0]));
  await overCalibration(net, ex, cal, (b, layer, x, B, later) => {
    if (!on(layer)) return;
    const sx = scales[layer].sx;
    const run = (c: ChipSet | 'ideal'): CrossbarRun => ({ chip: c, sxq: quantScale(scales, layer, codes), outScale: sx, rowOffset: 0, perRead: false, bias: false });
    forEachMatrix(b, layers[layer], x, B, (group, rows, n) => {
      const ideal = b.sumAbsOutput(layer, group, rows, n, run('ideal'));
      const drifted = b.sumAbsOutput(layer, group, rows, n, run(chip));
      // Per batch, as the ratio of the sums over all batches equals the ratio of the means.
      later(() => {
        sums[layer][group][0] += ideal.get();
        sums[layer][group][1] += drifted.get();
      });
    });
  });
  sums.forEach((groups, i) => groups.forEach(([a, d], g) => (comp[i][g] = compensationFromSums(a, d))));
  return comp;
}
