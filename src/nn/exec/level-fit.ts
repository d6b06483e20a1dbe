import type { XbarConfig } from '../../config/types.ts';
import type { ProgrammedLayer } from '../../crossbar/program.ts';
import { calibrateAdcRangeRef } from '../../reference/vmm.ts';

/**
 * The calibration rows of the matrices whose ADC levels are fitted by Lloyd-Max (adc.nonuniform.levels
 * [], src/readout/nonuniform.ts), kept on the host as the CPU executor quantizes them, until the fit.
 * The GPU executor fits with the CPU's own code (calibrateAdcRangeRef over every row in one call, as the
 * CPU executor's one calibration batch), so both backends upload the same levels.
 */
export class LevelFitRows {
  private readonly rows = new Map<string, { parts: Int32Array[]; n: number }>();

  /** Adds n quantized rows of matrix (layer, group), in calibration order. */
  add(layer: number, group: number, xq: Int32Array, n: number): void {
    const key = `${layer}/${group}`;
    const r = this.rows.get(key) ?? { parts: [], n: 0 };
    r.parts.push(xq);
    r.n += n;
    this.rows.set(key, r);
  }

  /** Fits the levels of matrix (layer, group) into `pl.adcLevels` from the rows collected, then forgets them; false when none were. */
  fit(layer: number, group: number, pl: ProgrammedLayer, cfg: XbarConfig): boolean {
    const key = `${layer}/${group}`;
    const r = this.rows.get(key);
    if (!r) return false;
    this.rows.delete(key);
    const all = new Int32Array(r.parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of r.parts) {
      all.set(p, at);
      at += p.length;
    }
    calibrateAdcRangeRef(pl, cfg, all, r.n);
    return true;
  }
}
