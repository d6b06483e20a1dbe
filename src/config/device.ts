import type { DeviceModelName, XbarConfig } from './types.ts';

/** The device models a config can select (`noise.device.model`), `none` first. */
export const DEVICE_MODEL_NAMES = ['none', 'pcm-joshi2020', 'reram-wan2022', 'reram-cmo'] as const satisfies readonly DeviceModelName[];

/**
 * The inference times (s) at which aihwkit's ReRamWan2022NoiseModel has fits (1 s, 1 day, 2 days;
 * inference/noise/reram.py:89-93, aihwkit 1.1.0), plus 0: the programmed state before any drift.
 */
export const WAN_TIMES: readonly number[] = [0, 1, 86400, 172800];

/**
 * Default conductance range of each device model, in µS, from IBM aihwkit 1.1.0 (commit 4545f11b):
 * - pcm-joshi2020: `PCMLikeNoiseModel` takes g_max from its `SinglePairConductanceConverter`, 25 µS
 *   (inference/noise/pcm.py:76-79, inference/converter/conductance.py:22-78).
 * - reram-wan2022: the fit of `ReRamWan2022NoiseModel` is "defined in respect to 40.0 uS"
 *   (inference/noise/reram.py:86-94). aihwkit's own default converter has g_max 25 µS and then uses
 *   the 40 µS fit unscaled; we take 40 µS, where the fit and aihwkit's code agree (src/devices/reram-wan.ts).
 * - reram-cmo: `ReRamCMONoiseModel` always uses `SingleDeviceConductanceConverter(g_max=88.199997,
 *   g_min=9.0)` (reram.py:222, conductance.py:347-397) and clamps every conductance to [g_min, g_max].
 * - none: 25 µS, aihwkit's converter default, so outputs in µS have a scale without a model.
 * `gMin: null` means gMax / weights.onOffRatio (DESIGN.md section 3's Gmin), the rule for models
 * whose formulas need no floor (aihwkit's single-pair g_min = 0 is onOffRatio 0).
 */
const MODEL_RANGE: Readonly<Record<DeviceModelName, { gMax: number; gMin: number | null }>> = {
  none: { gMax: 25, gMin: null },
  'pcm-joshi2020': { gMax: 25, gMin: null },
  'reram-wan2022': { gMax: 40, gMin: null },
  'reram-cmo': { gMax: 88.199997, gMin: 9.0 },
};

/** The physical range a config programs: gMax, gMin in µS and Gmin in normalized units (Gmax = 1). */
export interface DeviceRange {
  gMax: number;
  gMin: number;
  /** Gmin / Gmax: exactly 1 / onOffRatio (0 for an infinite ratio) when gMin follows the ratio. */
  GminNorm: number;
}

/** The effective conductance range of `cfg`: `device.gMax`/`gMin` where set, else the model's defaults. */
export function deviceRange(cfg: Pick<XbarConfig, 'device' | 'weights' | 'noise'>): DeviceRange {
  const model = MODEL_RANGE[cfg.noise.device.model];
  const gMax = cfg.device.gMax ?? model.gMax;
  const gMin = cfg.device.gMin ?? model.gMin;
  if (gMin === null) {
    // Kept as 1/ratio (not gMin/gMax) so configs that never name a device compute exactly what they did.
    const r = cfg.weights.onOffRatio;
    const GminNorm = r === 0 ? 0 : 1 / r;
    return { gMax, gMin: gMax * GminNorm, GminNorm };
  }
  return { gMax, gMin, GminNorm: gMin / gMax };
}
