/** Fully resolved hardware config (DESIGN.md section 7): every field present, defaults applied. */
export type Dataflow = 'digital-sa' | 'buffered' | 'analog-sa';
export type Mapping = 'differential' | 'offset';
export type NoiseModel = 'additive' | 'proportional';
/** `"full"`, `"calibrated"`, or an absolute range in normalized conductance units. */
export type AdcRange = 'full' | 'calibrated' | number;
/** ADC transfer-function models (DESIGN.md section 11; src/readout/README.md). */
export type AdcModel = 'uniform' | 'nonlinear' | 'nonuniform' | 'neural';
/** Analog accumulation models of buffered and analog-sa (DESIGN.md section 11). */
export type AnalogModel = 'ideal' | 'neural';
/** Rounding of the near-memory digital unit. */
export type DigitalRounding = 'half-even' | 'half-up' | 'floor' | 'truncate';

/** A per-chip ADC with a systematic INL curve, comparator offsets and gain/offset errors (src/readout). */
export interface NonlinearAdcConfig {
  inl: number[];
  inlKind: 'polynomial' | 'table';
  comparatorSigma: number;
  gainError: number;
  gainSigma: number;
  offsetError: number;
  offsetSigma: number;
}

/** The near-memory fixed-point unit (DESIGN.md section 11): absent = f32. */
export interface DigitalConfig {
  /** Per-column scale format, `u<int>.<frac>` or `s<int>.<frac>` (NMPU: u1.7). */
  scale: string;
  /** Per-column offset (bias) format (NMPU: s7.1). */
  offset: string;
  rounding: DigitalRounding;
  saturate: boolean;
  relu: boolean;
  outputBits: number;
}
/** Conductance-dependent device models (DESIGN.md section 12), named after their IBM aihwkit sources; `none` = section 4's blocks. */
export type DeviceModelName = 'none' | 'pcm-joshi2020' | 'reram-wan2022' | 'reram-cmo';
/** Drift compensation: none, one factor per layer, or one per output column (device models only). */
export type Compensation = 'none' | 'global' | 'column';
/** Array circuit (DESIGN.md section 13): ideal ΣV·G, the solved resistive network, or aihwkit's closed-form IR drop. */
export type CircuitModel = 'none' | 'solve' | 'approx';

export interface XbarConfig {
  /** The preset this config was built on, if any (informational). */
  preset?: string;
  array: { rows: number; cols: number; partitions: { rows: number; cols: number } };
  /** Physical conductance range in µS; null = the device model's default (src/config/device.ts). */
  device: { gMax: number | null; gMin: number | null };
  weights: { bits: number; perChannel: boolean; mapping: Mapping; cellBits: number; onOffRatio: number };
  inputs: { bits: number; dacBits: number };
  adc: {
    bits: number;
    range: AdcRange;
    subtract: 'digital' | 'analog';
    noise: number;
    model: AdcModel;
    groupSize: number;
    nonlinear: NonlinearAdcConfig;
    nonuniform: { levels: number[] };
    neural: { weightBits: number; sigma: number };
  };
  dataflow: Dataflow;
  noise: {
    programming: { sigma: number; model: NoiseModel };
    read: { sigma: number; model: NoiseModel };
    drift: { nu: number; nuStd: number; t: number; t0: number; compensation: Compensation };
    stuckAt: { sa0: number; sa1: number };
    /** A conductance-dependent device model; while set it replaces programming, read and drift (not compensation). */
    device: { model: DeviceModelName; progScale: number; readScale: number; driftScale: number };
    /** Seconds since programming, for the device models. */
    time: number;
  };
  circuit: { model: CircuitModel; rRow: number; rCol: number; rTerminal: number; tolerance: number; maxIterations: number };
  analog: { gainSigma: number; noise: number; model: AnalogModel; neural: { weightBits: number; sigma: number } };
  /** The near-memory fixed-point unit; absent = f32 (today's behaviour). */
  digital?: DigitalConfig;
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
  adc?: DeepPartial<XbarConfig['adc']>;
}

/** Deep-partial form users write in JSON files. */
export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type XbarConfigInput = DeepPartial<XbarConfig>;
