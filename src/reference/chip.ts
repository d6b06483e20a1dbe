import type { XbarConfig } from '../config/types.ts';
import { analogGains, hasStaticNoise, type ChipId } from '../crossbar/chip.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import { boxMuller, NoiseDraws, NOISE_STREAM, uniform24 } from '../random/philox.ts';

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

/** A programmed chip on the CPU reference: perturbed conductances (when the config has static noise) and analog gains. */
export function programChipReference(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId): { chip: ProgrammedLayer; gains: Float64Array } {
  const chip = hasStaticNoise(cfg) ? { ...layer, G: perturbConductancesReference(layer, cfg, id) } : layer;
  return { chip, gains: analogGains(cfg, layer.geom.blocks.length, layer.geom.N, id) };
}
