import { deviceRange } from '../config/device.ts';
import type { DeviceModelName, XbarConfig } from '../config/types.ts';
import { pcmDrift, pcmNu, pcmProgram, pcmReadSigmaRel } from './pcm.ts';
import { cmoAtTime, cmoProgram, cmoReadSigma } from './reram-cmo.ts';
import { wanAtTime, wanProgram } from './reram-wan.ts';

/**
 * One cell's life under a device model of DESIGN.md section 12, in µS: programmed from its target with
 * one standard-normal draw, taken to `noise.time` with a second, then read with a per-read σ. Both
 * backends apply these same formulas (the GPU in f32); the draws come from Philox streams
 * deviceProgramming and deviceDrift at the cell's index (src/random/philox.ts).
 */
export interface CellDevice {
  model: Exclude<DeviceModelName, 'none'>;
  gMax: number;
  gMin: number;
  /** Whether the time step draws and changes anything (false: g(t) = g_prog). */
  drifts: boolean;
  /** Whether reads carry the model's noise. */
  reads: boolean;
  /** Whether a stuck cell keeps its stuck value through the time step (a model that re-draws around the target would heal it). */
  holdsStuck: boolean;
  /** g_prog from target g_T and the programming draw n. */
  program(gT: number, n: number): number;
  /** g(t) from target, programmed (or stuck) value and the time-step draw n. */
  atTime(gT: number, gProg: number, n: number): number;
  /** σ (µS) of one read of a cell programmed (or stuck) at gProg that holds g at time t. */
  readSigma(gProg: number, g: number): number;
}

/** The device model `cfg` selects, with its range and time bound in; null for `none`. */
export function cellDevice(cfg: XbarConfig): CellDevice | null {
  const d = cfg.noise.device;
  const { gMax, gMin } = deviceRange(cfg);
  const time = cfg.noise.time;
  switch (d.model) {
    case 'none':
      return null;
    case 'pcm-joshi2020':
      return {
        model: d.model,
        gMax,
        gMin,
        drifts: time > 0 && d.driftScale > 0,
        reads: d.readScale > 0,
        holdsStuck: false,
        program: (gT, n) => pcmProgram(gT, gMax, d.progScale, n),
        atTime: (gT, gProg, n) => pcmDrift(gProg, pcmNu(gT, gMax, d.driftScale, n), time),
        readSigma: (gProg, g) => d.readScale * pcmReadSigmaRel(gProg, gMax, time) * Math.abs(g),
      };
    case 'reram-wan2022':
      return {
        model: d.model,
        gMax,
        gMin,
        drifts: time > 0,
        reads: false,
        holdsStuck: true,
        program: (gT, n) => wanProgram(gT, gMax, d.progScale, n),
        atTime: (gT, gProg, n) => wanAtTime(gT, gProg, gMax, d.driftScale, time, n),
        readSigma: () => 0,
      };
    case 'reram-cmo':
      return {
        model: d.model,
        gMax,
        gMin,
        drifts: time > 0,
        reads: time > 0 && d.readScale > 0,
        holdsStuck: false,
        program: (gT, n) => cmoProgram(gT, d.progScale, n),
        atTime: (_gT, gProg, n) => cmoAtTime(gProg, gMin, gMax, d.driftScale, time, n),
        readSigma: (_gProg, g) => d.readScale * cmoReadSigma(g, time),
      };
  }
}
