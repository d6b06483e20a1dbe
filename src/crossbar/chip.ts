import type { XbarConfig } from '../config/types.ts';
import { NoiseDraws, NOISE_STREAM } from '../random/philox.ts';

/** Which chip a layer is programmed onto: the counter key and layer field of DESIGN.md section 4. */
export interface ChipId {
  seed: number;
  chip: number;
  /** The crossbar layer's index in its network (0 for a single layer). */
  layer: number;
}

/** True when any static (per-chip) noise of section 4, or a device model of section 12, changes conductances. */
export function hasStaticNoise(cfg: XbarConfig): boolean {
  const n = cfg.noise;
  return n.device.model !== 'none' || n.programming.sigma > 0 || n.stuckAt.sa0 > 0 || n.stuckAt.sa1 > 0 || (n.drift.t !== n.drift.t0 && (n.drift.nu > 0 || n.drift.nuStd > 0));
}

/**
 * Per-chip analog gain errors `g ~ N(0, gainSigma)` for each row block p and logical output column j
 * (index p·N + j), as `1 + g`; all ones when gainSigma is 0 or the dataflow converts no analog sum.
 * Both backends use these same numbers (they are few: blocks × N).
 */
export function analogGains(cfg: XbarConfig, blocks: number, N: number, id: ChipId): Float64Array {
  const gains = new Float64Array(blocks * N).fill(1);
  if (cfg.analog.gainSigma === 0 || cfg.dataflow === 'digital-sa') return gains;
  const d = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.gain);
  for (let i = 0; i < gains.length; i++) gains[i] = 1 + cfg.analog.gainSigma * d.normal(i);
  return gains;
}
