import type { XbarConfig } from '../config/types.ts';
import { analogGains, hasStaticNoise, type ChipId } from '../crossbar/chip.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import { DeviceCells } from '../devices/cells.ts';
import { compensationFactors, eyeReadout } from '../devices/compensation.ts';
import { cellDevice, type CellDevice } from '../devices/model.ts';
import { boxMuller, NoiseDraws, NOISE_STREAM, uniform24 } from '../random/philox.ts';

/**
 * The CPU oracle of a chip's static noise (DESIGN.md section 4), per cell in f64 and in the normative
 * order: programming noise, stuck-at faults, drift, clipping G at 0 after each. Returns new conductances
 * in ProgrammedLayer.G's layout; the input layer is the noise-free programming. With a device model
 * (noise.device, section 12) the model replaces programming and drift, and the result is a DeviceCells
 * carrying the per-read noise and drift compensation too (perturbDeviceRef).
 */
export function perturbConductancesRef(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId): Float64Array {
  const dev = cellDevice(cfg);
  if (dev !== null) return perturbDeviceRef(layer, cfg, id, dev);
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
 * A chip under a device model (DESIGN.md section 12), per cell in f64, in µS inside and normalized
 * (Gmax = 1) outside: target g_T = G·gMax; programming from g_T with draw n₁ (stream
 * deviceProgramming); stuck-at faults as section 4 (stream stuckAt); the model's time step to
 * noise.time with draw n₂ (stream deviceDrift), from the cell's target and its programmed or stuck
 * value (a model that re-draws around the target, reram-wan2022, leaves stuck cells stuck). Then the
 * per-read σ of each cell and, with noise.drift.compensation, the compensation factors from the eye
 * readouts of the programmed and the time-t state (src/devices/compensation.ts).
 *
 * aihwkit converts programmed weights back and re-maps them before drifting (inference/noise/base.py:
 * 100-127), which merges each differential pair into one device holding the net conductance; here every
 * cell stays its own device and drifts from its own state, as the measured models describe devices.
 */
export function perturbDeviceRef(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId, dev: CellDevice): DeviceCells {
  const n = layer.G.length;
  const out = new DeviceCells(n);
  const programmed = new Float64Array(n);
  const readSigma = dev.reads ? new Float64Array(n) : null;
  const { stuckAt } = cfg.noise;
  const progScaled = cfg.noise.device.progScale > 0;
  const prog = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.deviceProgramming);
  const stuck = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.stuckAt);
  const dr = new NoiseDraws(id.seed, id.chip, id.layer, NOISE_STREAM.deviceDrift);
  const gMax = dev.gMax;
  const Gmin = layer.geom.Gmin;
  const faults = stuckAt.sa0 > 0 || stuckAt.sa1 > 0;
  for (let i = 0; i < n; i++) {
    const gT = layer.G[i] * gMax;
    let g = dev.program(gT, progScaled ? prog.normal(i) : 0);
    let isStuck = false;
    if (faults) {
      const r = uniform24(stuck.words(i)[0]);
      if (r < stuckAt.sa0) (g = Gmin * gMax), (isStuck = true);
      else if (r < stuckAt.sa0 + stuckAt.sa1) (g = gMax), (isStuck = true);
    }
    programmed[i] = g / gMax;
    const gProg = g;
    if (dev.drifts && !(isStuck && dev.holdsStuck)) g = dev.atTime(gT, gProg, dr.normal(i));
    out[i] = g / gMax;
    if (readSigma) readSigma[i] = dev.readSigma(gProg, g) / gMax;
  }
  out.readSigma = readSigma;
  const mode = cfg.noise.drift.compensation;
  if (mode !== 'none') {
    const offset = cfg.weights.mapping === 'offset';
    out.columnScale = compensationFactors(mode, layer.geom, eyeReadout(layer.geom, programmed, offset), eyeReadout(layer.geom, out, offset));
  }
  return out;
}

/** A programmed chip on the CPU reference: perturbed conductances (when the config has static noise) and analog gains. */
export function programChipRef(layer: ProgrammedLayer, cfg: XbarConfig, id: ChipId): { chip: ProgrammedLayer; gains: Float64Array } {
  const chip = hasStaticNoise(cfg) ? { ...layer, G: perturbConductancesRef(layer, cfg, id) } : layer;
  return { chip, gains: analogGains(cfg, layer.geom.blocks.length, layer.geom.N, id) };
}
