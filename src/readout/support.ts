import { resolveLayerConfig } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';

/** The config and each per-layer override resolved against it: every config a layer of the network may run with. */
function layerConfigs(cfg: XbarConfig): XbarConfig[] {
  return [cfg, ...Object.values(cfg.layers).map((ov) => resolveLayerConfig(cfg, ov))];
}

/**
 * Whether calibration fits this config's ADC (a nonuniform ADC with levels [], fitted by Lloyd-Max on
 * the calibration inputs): its calibration is then more than scales and ranges and is not shared.
 */
export function fitsAdcLevels(cfg: XbarConfig): boolean {
  return layerConfigs(cfg).some((c) => c.adc.model === 'nonuniform' && c.adc.nonuniform.levels.length === 0);
}
