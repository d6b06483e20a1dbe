import { resolveLayerConfig } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';

/** The config and each per-layer override resolved against it: every config a layer of the network may run with. */
function layerConfigs(cfg: XbarConfig): XbarConfig[] {
  return [cfg, ...Object.values(cfg.layers).map((ov) => resolveLayerConfig(cfg, ov))];
}

/**
 * Why the GPU kernels cannot run this config's readout chain, or null. The crossbar kernel evaluates
 * every ADC instance's transfer table (src/readout/tables.ts) and NNS+A's chains; left on the CPU
 * reference: NNS+A on analog-sa with proportional read noise (its per-slice G² sums are not built), and a
 * nonuniform ADC fitted by Lloyd-Max, whose calibration histogram the GPU does not collect. Never silently as the uniform ADC.
 */
export function gpuReadoutGap(cfg: XbarConfig): string | null {
  for (const c of layerConfigs(cfg)) {
    if (c.adc.model === 'nonuniform' && c.adc.nonuniform.levels.length === 0 && c.adc.bits > 0) return 'adc.model "nonuniform" with levels [] (fitted by Lloyd-Max on the calibration inputs)';
    if (c.analog.model === 'neural' && c.dataflow === 'analog-sa' && c.noise.read.sigma > 0 && c.noise.read.model === 'proportional') {
      return 'analog.model "neural" on analog-sa with proportional read noise';
    }
  }
  return null;
}

/** Largest fixed-point format (bits in all) whose coefficients an f32 holds exactly: the GPU unit's limit. */
export const GPU_DIGITAL_MAX_BITS = 24;

/**
 * Why the GPU executor cannot apply this config's near-memory digital unit, or null: its WGSL epilogue
 * holds the per-column coefficients in f32, exact up to 24-bit formats.
 */
export function digitalUnitGap(cfg: XbarConfig): string | null {
  for (const c of layerConfigs(cfg)) {
    const d = c.digital;
    if (d === undefined) continue;
    for (const [field, f] of [['scale', d.scale], ['offset', d.offset]] as const) {
      const m = /^[us](\d+)\.(\d+)$/.exec(f);
      if (m && Number(m[1]) + Number(m[2]) > GPU_DIGITAL_MAX_BITS) return `digital.${field} ${JSON.stringify(f)} (more than ${GPU_DIGITAL_MAX_BITS} bits)`;
    }
  }
  return null;
}

/**
 * Whether calibration fits this config's ADC (a nonuniform ADC with levels [], fitted by Lloyd-Max on
 * the calibration inputs): its calibration is then more than scales and ranges and is not shared.
 */
export function fitsAdcLevels(cfg: XbarConfig): boolean {
  return layerConfigs(cfg).some((c) => c.adc.model === 'nonuniform' && c.adc.nonuniform.levels.length === 0);
}
