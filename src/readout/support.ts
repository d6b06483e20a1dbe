import { resolveLayerConfig } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';

/** The config and each per-layer override resolved against it: every config a layer of the network may run with. */
function layerConfigs(cfg: XbarConfig): XbarConfig[] {
  return [cfg, ...Object.values(cfg.layers).map((ov) => resolveLayerConfig(cfg, ov))];
}

/**
 * Why the GPU kernels cannot run this config's readout chain yet, or null. The WGSL epilogue of
 * issue 14 item 4 (per-chip transfer tables in shaders/xbar.wgsl) waits for the kernel-family refactor;
 * until then these models run on the CPU reference only, never silently as the uniform ADC.
 */
export function gpuReadoutGap(cfg: XbarConfig): string | null {
  for (const c of layerConfigs(cfg)) {
    if (c.adc.model !== 'uniform') return `adc.model ${JSON.stringify(c.adc.model)}`;
    if (c.analog.model !== 'ideal') return `analog.model ${JSON.stringify(c.analog.model)}`;
  }
  return null;
}

/**
 * Why the GPU executor cannot apply this config's near-memory digital unit yet, or null: the CPU
 * executor applies it (src/nn/exec/cpu.ts); the WGSL epilogue waits with the readout models'.
 */
export function digitalUnitGap(cfg: XbarConfig): string | null {
  return cfg.digital === undefined ? null : 'the digital block (near-memory fixed-point unit)';
}

/**
 * Whether calibration fits this config's ADC (a nonuniform ADC with levels [], fitted by Lloyd-Max on
 * the calibration inputs): its calibration is then more than scales and ranges and is not shared.
 */
export function fitsAdcLevels(cfg: XbarConfig): boolean {
  return layerConfigs(cfg).some((c) => c.adc.model === 'nonuniform' && c.adc.nonuniform.levels.length === 0);
}
