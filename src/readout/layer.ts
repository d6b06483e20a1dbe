import type { XbarConfig } from '../config/types.ts';
import { adcIsSigned } from '../crossbar/adc.ts';
import type { ChipId } from '../crossbar/chip.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import { codeRange, type CodeRange } from './codes.ts';
import { designNnadc, NeuralAdc } from './neural-adc.ts';
import { chainCoefficients } from './neural-sa.ts';
import { nonlinearThresholds, ThresholdAdc } from './nonlinear.ts';
import { LevelAdc } from './nonuniform.ts';
import type { AdcConverter } from './transfer.ts';
import { UniformAdc } from './uniform.ts';

/**
 * ADC channels of one row block, in the order the converters see them (DESIGN.md section 3): per output
 * column j, `planes` converted values, channel f = j·planes + plane with plane = s·pol + q (digital-sa,
 * digital subtract), s (digital-sa analog subtract, buffered) or 0 (analog-sa).
 */
export function adcPlanes(g: LayerGeometry, cfg: XbarConfig): number {
  if (cfg.dataflow === 'analog-sa') return 1;
  if (cfg.dataflow === 'buffered') return g.S;
  return cfg.adc.subtract === 'digital' || cfg.weights.mapping === 'offset' ? g.S * g.pol : g.S;
}

/** Whether the layer's readout differs from section 3's ideal chain (a non-uniform ADC or NNS+A). */
export function hasReadoutModel(cfg: XbarConfig): boolean {
  return cfg.adc.model !== 'uniform' || cfg.analog.model !== 'ideal';
}

/**
 * The readout of one layer on one chip: an ADC instance for every group of `adc.groupSize` channels of
 * a row block (instance index p·groups + floor(f / groupSize)), built when first used, and the NNS+A
 * chain coefficients. `id` null is the nominal chip (no per-chip variation).
 */
export class LayerReadout {
  readonly signed: boolean;
  readonly codes: CodeRange;
  readonly planes: number;
  /** ADC instances per row block. */
  readonly groups: number;
  private readonly adcs = new Map<number, AdcConverter>();
  private readonly cycles = new Map<number, Float64Array>();
  private readonly slices = new Map<number, Float64Array>();
  private shared: AdcConverter | null = null;

  constructor(
    readonly cfg: XbarConfig,
    readonly geom: LayerGeometry,
    readonly id: ChipId | null,
    /** Nonuniform levels fitted on the layer's calibration inputs (absolute units), when adc.nonuniform.levels is []. */
    readonly fittedLevels: Float64Array | null = null,
  ) {
    this.signed = adcIsSigned(cfg);
    this.codes = codeRange(cfg.adc.bits, this.signed);
    this.planes = adcPlanes(geom, cfg);
    this.groups = Math.ceil((geom.N * this.planes) / cfg.adc.groupSize);
  }

  /** ADC instance index of channel f of row block p. */
  instance(p: number, f: number): number {
    return p * this.groups + Math.floor(f / this.cfg.adc.groupSize);
  }

  /** The converter of channel f (= j·planes + plane) of row block p. */
  adc(p: number, f: number): AdcConverter {
    const inst = this.instance(p, f);
    const a = this.cfg.adc;
    if (a.model === 'uniform' || a.model === 'nonuniform') return (this.shared ??= this.sharedAdc());
    let conv = this.adcs.get(inst);
    if (conv === undefined) {
      conv =
        a.model === 'nonlinear'
          ? new ThresholdAdc(nonlinearThresholds(a.nonlinear, this.codes, this.id, inst), this.codes)
          : new NeuralAdc(designNnadc(a.bits, this.signed, a.neural.weightBits, a.neural.sigma), this.id, inst);
      this.adcs.set(inst, conv);
    }
    return conv;
  }

  private sharedAdc(): AdcConverter {
    const a = this.cfg.adc;
    if (a.model === 'uniform') return new UniformAdc(a.bits, this.signed, this.codes);
    if (a.nonuniform.levels.length > 0) return new LevelAdc(Float64Array.from(a.nonuniform.levels), true, this.codes);
    if (!this.fittedLevels) throw new Error('adc.nonuniform: levels [] are fitted on the calibration inputs, but this layer was not calibrated');
    return new LevelAdc(this.fittedLevels, false, this.codes);
  }

  /** Whether NNS+A replaces the ideal analog accumulation. */
  get neuralAccumulation(): boolean {
    return this.cfg.analog.model === 'neural' && this.cfg.dataflow !== 'digital-sa';
  }

  /** NNS+A cycle coefficients c_t (t = 0…T−1) of slice s of column j in row block p. */
  cycleCoefficients(p: number, j: number, s: number): Float64Array {
    const chain = 2 * ((p * this.geom.N + j) * this.geom.S + s);
    let c = this.cycles.get(chain);
    if (c === undefined) {
      const n = this.cfg.analog.neural;
      c = chainCoefficients(this.geom.T, this.geom.b, n.weightBits, n.sigma, this.id, chain);
      this.cycles.set(chain, c);
    }
    return c;
  }

  /** NNS+A slice coefficients c_s (s = 0…S−1) of column j in row block p (analog-sa). */
  sliceCoefficients(p: number, j: number): Float64Array {
    const chain = 2 * (p * this.geom.N + j) + 1;
    let c = this.slices.get(chain);
    if (c === undefined) {
      const n = this.cfg.analog.neural;
      c = chainCoefficients(this.geom.S, this.geom.c, n.weightBits, n.sigma, this.id, chain);
      this.slices.set(chain, c);
    }
    return c;
  }
}

const cache = new WeakMap<LayerGeometry, Map<string, LayerReadout>>();

/**
 * The LayerReadout of a layer on a chip, shared by every call with the same geometry object, config and
 * chip (the reference runs one per batch: per-chip draws are made once, and never depend on the batch).
 */
export function layerReadout(cfg: XbarConfig, geom: LayerGeometry, id: ChipId | null, fittedLevels: Float64Array | null = null): LayerReadout {
  let byKey = cache.get(geom);
  if (byKey === undefined) {
    byKey = new Map();
    cache.set(geom, byKey);
  }
  const key = JSON.stringify([cfg.adc, cfg.analog.model, cfg.analog.neural, cfg.dataflow, cfg.weights.mapping, id]);
  let r = byKey.get(key);
  if (r === undefined || r.fittedLevels !== fittedLevels) {
    if (byKey.size >= 64) byKey.clear();
    r = new LayerReadout(cfg, geom, id, fittedLevels);
    byKey.set(key, r);
  }
  return r;
}
