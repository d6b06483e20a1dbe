/** Fully resolved hardware config (DESIGN.md section 7): every field present, defaults applied. */
export type Dataflow = 'digital-sa' | 'buffered' | 'analog-sa';
export type Mapping = 'differential' | 'offset';
export type NoiseModel = 'additive' | 'proportional';
/** `"full"`, `"calibrated"`, or an absolute range in normalized conductance units. */
export type AdcRange = 'full' | 'calibrated' | number;

export interface XbarConfig {
  /** The preset this config was built on, if any (informational). */
  preset?: string;
  array: { rows: number; cols: number };
  weights: { bits: number; perChannel: boolean; mapping: Mapping; cellBits: number; onOffRatio: number };
  inputs: { bits: number; dacBits: number };
  adc: { bits: number; range: AdcRange; subtract: 'digital' | 'analog'; noise: number };
  dataflow: Dataflow;
  noise: {
    programming: { sigma: number; model: NoiseModel };
    read: { sigma: number; model: NoiseModel };
    drift: { nu: number; nuStd: number; t: number; t0: number; compensation: 'none' | 'global' };
    stuckAt: { sa0: number; sa1: number };
  };
  analog: { gainSigma: number; noise: number };
  calibration: { samples: number };
  /** Per-layer overrides by node name or index (used by networks). */
  layers: Record<string, LayerOverride>;
  seed: number;
}

/** A per-layer override: keep it digital, or replace parts of the config. */
export interface LayerOverride {
  digital?: boolean;
  preset?: string;
  weights?: Partial<XbarConfig['weights']>;
  inputs?: Partial<XbarConfig['inputs']>;
  adc?: Partial<XbarConfig['adc']>;
}

/** Deep-partial form users write in JSON files. */
export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type XbarConfigInput = DeepPartial<XbarConfig>;
