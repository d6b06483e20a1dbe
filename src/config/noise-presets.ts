import { deepFreeze } from './defaults.ts';
import type { DeepPartial, DeviceModelName, XbarConfig } from './types.ts';

/** Names of the built-in device noise presets, usable as `"noise": { "preset": NAME, ... }` in any config. */
export const NOISE_PRESET_NAMES = ['wan2022-rram', 'cmo-reram', 'pcm-joshi2020'] as const;
export type NoisePresetName = (typeof NOISE_PRESET_NAMES)[number];

/** True if `name` is a built-in noise preset. */
export function isNoisePresetName(name: string): name is NoisePresetName {
  return (NOISE_PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * The exact conductance-dependent model (DESIGN.md section 12, `noise.device.model`) each preset is a
 * reduction of: `{"noise": {"device": {"model": …}}}` runs that model itself, with aihwkit's formulas.
 */
export const NOISE_PRESET_MODEL: Readonly<Record<NoisePresetName, Exclude<DeviceModelName, 'none'>>> = deepFreeze({
  'wan2022-rram': 'reram-wan2022',
  'cmo-reram': 'reram-cmo',
  'pcm-joshi2020': 'pcm-joshi2020',
});

/**
 * Device noise blocks. The cited models make sigma depend on the target conductance; section 4's
 * models are state-independent (additive) or linear in G (proportional), so each preset takes the
 * closest form and states how its numbers were reduced. Conductances are in units of Gmax.
 */
export const NOISE_PRESETS: Readonly<Record<NoisePresetName, DeepPartial<XbarConfig['noise']>>> = deepFreeze<Record<NoisePresetName, DeepPartial<XbarConfig['noise']>>>({
  /**
   * Wan et al., "A compute-in-memory chip based on resistive random-access memory", Nature 608 (2022),
   * as fitted in IBM aihwkit's ReRamWan2022NoiseModel (model "reram-wan2022"): programming sigma (µS, t = 1 s) is the quartic
   * 0.348 + 16.03x − 43.853x² + 45.393x³ − 16.815x⁴ of x = G/Gmax with Gmax = 40 µS. Its mean over
   * x in [0, 1] is 1.73 µS = 0.043 Gmax (additive). Read noise: the ~1 % additive short-term noise
   * that model's documentation recommends adding. No drift (ReRAM shows no power-law drift there).
   */
  'wan2022-rram': {
    programming: { sigma: 0.043, model: 'additive' },
    read: { sigma: 0.01, model: 'additive' },
  },
  /**
   * CMO/HfOx ReRAM of IBM Research Zurich (Falcone et al.), as in aihwkit's ReRamCMONoiseModel (model
   * "reram-cmo"; its exact default uses the 0.2 % fit, src/devices/reram-cmo.ts):
   * programming sigma = 0.0112 µS + 0.0113·G for the 2 % program-and-verify acceptance range, i.e.
   * 1.13 % of the target conductance (proportional; the constant term is negligible). Read noise:
   * the ~1 % additive short-term noise the model's documentation recommends. Its conductance decay is
   * a log-time additive shift, not section 4's power law, so it is not included.
   */
  'cmo-reram': {
    programming: { sigma: 0.0113, model: 'proportional' },
    read: { sigma: 0.01, model: 'additive' },
  },
  /**
   * Phase-change memory of Joshi et al., Nat. Commun. 11, 2473 (2020) and Nandakumar et al., ICECS
   * 2019, as in aihwkit's PCMLikeNoiseModel (model "pcm-joshi2020"; Gmax = 25 µS): programming sigma 0.26348 + 1.9650x −
   * 1.1731x² µS, mean 0.855 µS = 0.034 Gmax over x in [0, 1] (additive); drift ν with mean clamped to
   * 0.049–0.1 (0.049 at Gmax, 0.060 at 0.1 Gmax: 0.055 taken) and spread 0.008–0.045 (0.015 taken),
   * first read t0 = 20 s, here evaluated one hour after programming with global compensation.
   */
  'pcm-joshi2020': {
    programming: { sigma: 0.034, model: 'additive' },
    drift: { nu: 0.055, nuStd: 0.015, t: 3620, t0: 20, compensation: 'global' },
  },
});
