import type { XbarConfig } from '../config/types.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import { boxMuller, NoiseDraws, NOISE_STREAM, uniform24 } from '../random/philox.ts';

/** Which chip a layer is programmed onto: the counter key and layer field of DESIGN.md section 4. */
export interface ChipId {
  seed: number;
  chip: number;
  /** The crossbar layer's index in its network (0 for a single layer). */
  layer: number;
}

/** True when any static (per-chip) noise of section 4 changes conductances. */
export function hasStaticNoise(cfg: XbarConfig): boolean {
  const n = cfg.noise;
  return n.programming.sigma > 0 || n.stuckAt.sa0 > 0 || n.stuckAt.sa1 > 0 || (n.drift.t !== n.drift.t0 && (n.drift.nu > 0 || n.drift.nuStd > 0));
}

/**
 * The CPU oracle of a chip's static noise (DESIGN.md section 4), per cell in f64 and in the normative
 * order: programming noise, stuck-at faults, drift, clipping G at 0 after each. Returns new conductances
 * in ProgrammedLayer.G's layout; the input layer is the noise-free programming.
 */
export function perturbConductancesReference(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId): Float64Array {
  const G = Float64Array.from(layer.G);
  const { programming, stuckAt, drift } = cfg.noise;
  const prog = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.programming);
  const stuck = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.stuckAt);
  const dr = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.drift);
  const logRatio = Math.log(drift.t / drift.t0);
  const doDrift = logRatio !== 0 && (drift.nu > 0 || drift.nuStd > 0);
  const Gmin = layer.geom.Gmin;
  for (let i = 0; i < G.length; i++) {
    let g = G[i];
    if (programming.sigma > 0) {
      const n = prog.normal(i);
      g = Math.max(0, programming.model === 'additive' ? g + programming.sigma * n : g * (1 + programming.sigma * n));
    }
    if (stuckAt.sa0 > 0 || stuckAt.sa1 > 0) {
      const r = uniform24(stuck.words(i)[0]);
      if (r < stuckAt.sa0) g = Gmin;
      else if (r < stuckAt.sa0 + stuckAt.sa1) g = 1;
    }
    if (doDrift) {
      const w = dr.words(i);
      const nu = Math.max(0, drift.nu + drift.nuStd * boxMuller(w[0], w[1]));
      g = Math.max(0, g * Math.exp(-nu * logRatio));
    }
    G[i] = g;
  }
  return G;
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
