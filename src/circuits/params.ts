import { deviceRange } from '../config/device.ts';
import type { XbarConfig } from '../config/types.ts';

/**
 * Wire and terminal resistances of an array, in the units of its conductances: Ω against siemens for
 * `xbarsim array`, or multiplied by Gmax (S) against normalized conductances (Gmax = 1) inside a layer,
 * where only the dimensionless products r·G matter (the cells are linear, so currents scale with V).
 */
export interface WireParams {
  rRow: number;
  rCol: number;
  rTerminal: number;
  /** Stop when the estimated largest column-current error is below tolerance × the largest column current. */
  tolerance: number;
  maxIterations: number;
}

/** The config's circuit in normalized units: each resistance times Gmax (device.gMax, µS → S). */
export function normalizedWires(cfg: XbarConfig): WireParams {
  const gMaxS = deviceRange(cfg).gMax * 1e-6;
  const c = cfg.circuit;
  return { rRow: c.rRow * gMaxS, rCol: c.rCol * gMaxS, rTerminal: c.rTerminal * gMaxS, tolerance: c.tolerance, maxIterations: c.maxIterations };
}

/** Whether a layer's column currents differ from the ideal ΣV·G: a circuit model with some resistance. */
export function hasWires(cfg: XbarConfig): boolean {
  const c = cfg.circuit;
  if (c.model === 'approx') return c.rCol > 0;
  return c.model === 'solve' && (c.rRow > 0 || c.rCol > 0 || c.rTerminal > 0);
}
