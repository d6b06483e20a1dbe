import type { DigitalConfig, XbarConfig } from './types.ts';

/** Deep-freezes a plain object tree so shared defaults and presets cannot be mutated by callers. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The documented default of every config field (DESIGN.md section 7). A user's JSON, and any
 * preset, override these. Frozen: resolveConfig returns fresh copies.
 */
export const DEFAULT_CONFIG: XbarConfig = deepFreeze<XbarConfig>({
  array: {
    rows: 128, // crossbar rows (word lines) per array: inputs are cut into row blocks of this size
    cols: 128, // crossbar columns (bit lines) per array
    partitions: {
      rows: 1, // horizontal partitions: sub-arrays stacked along the columns, each with its own sense amplifiers, summed in the periphery
      cols: 1, // vertical partitions: sub-arrays side by side along the rows, each with its own row drivers
    },
  },
  weights: {
    bits: 8, // weight precision in bits, sign included (Qw = 2^(bits-1) - 1)
    perChannel: true, // one weight scale per output column (false: one per tensor)
    mapping: 'differential', // signed mapping: separate positive/negative columns ("offset": biased weights)
    cellBits: 2, // bits stored per RRAM cell (bit slicing)
    onOffRatio: 100, // Gmax/Gmin; Gmin = 1/onOffRatio (0 = infinite ratio, Gmin = 0)
  },
  inputs: {
    bits: 8, // input (activation) precision in bits, magnitude (sign handled by two passes)
    dacBits: 1, // bits applied per input cycle by the row DAC (1 = bit-serial)
  },
  adc: {
    bits: 8, // ADC resolution (0 = ideal, no quantization)
    range: 'calibrated', // ADC full scale: "full" (worst case), "calibrated" (max seen), or an absolute number
    subtract: 'digital', // digital-sa only: subtract the two polarities after ("digital") or before ("analog") the ADC
    noise: 0, // Gaussian ADC input noise, sigma in LSB
    model: 'uniform', // transfer function: "uniform" (section 3), "nonlinear", "nonuniform" or "neural" (src/readout/README.md)
    groupSize: 1, // converted channels of a row block sharing one ADC instance (each group its own per-chip transfer function)
    nonlinear: {
      inl: [], // systematic INL in LSB: polynomial coefficients over the transitions mapped to [-1, 1], or table values
      inlKind: 'polynomial', // how `inl` is read: "polynomial" or "table" (evenly spaced over [-1, 1], linear in between)
      comparatorSigma: 0, // per-comparator threshold offset sigma in LSB, drawn per chip and ADC instance
      gainError: 0, // systematic relative gain error: the ADC converts (1 + gain)·x
      gainSigma: 0, // per-instance relative gain error sigma, drawn per chip
      offsetError: 0, // systematic offset error in LSB
      offsetSigma: 0, // per-instance offset error sigma in LSB, drawn per chip
    },
    nonuniform: {
      levels: [], // output levels in units of the range (increasing); [] = fitted by Lloyd-Max on the calibration inputs
    },
    neural: {
      weightBits: 3, // NNADC crossbar weight precision, sign included (Neural-PIM: 3-bit RRAM)
      sigma: 0.025, // relative conductance variation of each NNADC cell, drawn per chip (Neural-PIM: 0.025)
    },
  },
  dataflow: 'digital-sa', // where shift-and-add happens: "digital-sa", "buffered" or "analog-sa"
  noise: {
    programming: {
      sigma: 0, // conductance programming error sigma (units of Gmax, or relative when proportional)
      model: 'additive', // "additive": G + sigma*n; "proportional": G*(1 + sigma*n)
    },
    read: {
      sigma: 0, // per-read cell current noise sigma
      model: 'additive', // "additive" or "proportional" (to the cell's conductance)
    },
    drift: {
      nu: 0, // mean drift exponent: G(t) = G*(t/t0)^(-nu)
      nuStd: 0, // per-cell standard deviation of nu
      t: 1, // read time (seconds after programming)
      t0: 1, // reference time of programming
      compensation: 'none', // "global": rescale each layer's output by the measured mean drift; "column": per output column (device models)
    },
    stuckAt: {
      sa0: 0, // probability a cell is stuck at Gmin
      sa1: 0, // probability a cell is stuck at Gmax
    },
    device: {
      model: 'none', // "pcm-joshi2020", "reram-wan2022" or "reram-cmo" (aihwkit's models); replaces programming, read and drift while set
      progScale: 1, // aihwkit's prog_noise_scale
      readScale: 1, // aihwkit's read_noise_scale
      driftScale: 1, // aihwkit's drift_scale
    },
    time: 0, // seconds since programming (device models; aihwkit's t_inference)
  },
  device: {
    gMax: null, // largest cell conductance in µS (null: the device model's g_max, 25 µS without one)
    gMin: null, // smallest in µS (null: gMax / weights.onOffRatio, or reram-cmo's 9 µS); when set it replaces onOffRatio
  },
  circuit: {
    model: 'none', // "solve": the resistive network of each array; "approx": aihwkit's closed-form IR drop
    rRow: 0, // Ω per cell segment of a row wire
    rCol: 0, // Ω per cell segment of a column wire
    rTerminal: 0, // Ω of each row driver and each column's sense terminal
    tolerance: 1e-6, // solve: largest estimated column-current error, relative to the largest column current
    maxIterations: 1000, // solve: line sweeps before a solve is reported as not converged
  },
  analog: {
    gainSigma: 0, // per-chip gain error sigma of the analog accumulators (buffered, analog-sa)
    noise: 0, // Gaussian noise added to each analog accumulation, relative to the ADC's range
    model: 'ideal', // "ideal" or "neural" (NNS+A: accumulation weights realised by varied RRAM cells; src/readout/README.md)
    neural: {
      weightBits: 3, // NNS+A crossbar weight precision, sign included
      sigma: 0.025, // relative conductance variation of each NNS+A cell, drawn per chip
    },
  },
  calibration: {
    samples: 256, // number of calibration inputs for the input scale and a "calibrated" ADC range
  },
  // digital: absent = f32. When given, every field defaults as in DIGITAL_DEFAULTS below.
  layers: {}, // per-layer overrides by node name or index (none: every Linear/Conv layer is analog)
  seed: 0, // random seed (Philox key) for all noise
});

/**
 * Defaults of the near-memory digital unit's fields (a `digital` block is absent by default: f32). The
 * formats are the NMPU's (Ferro et al., 2024): per-column scale unsigned 1.7, offset signed 7.1.
 */
export const DIGITAL_DEFAULTS: Readonly<DigitalConfig> = deepFreeze<DigitalConfig>({
  scale: 'u1.7', // per-column scale: unsigned, 1 integer and 7 fractional bits (times a per-layer power of two)
  offset: 's7.1', // per-column offset (bias, folded BatchNorm shift) in output LSB: signed, 7 integer and 1 fractional bit
  rounding: 'half-even', // rounding of the output code: "half-even", "half-up", "floor" or "truncate"
  saturate: true, // clamp the output code to outputBits (false: wrap around as two's complement)
  relu: false, // apply ReLU before requantization
  outputBits: 8, // requantize to this many bits (the next layer's input bits; sign included when relu is false)
});
