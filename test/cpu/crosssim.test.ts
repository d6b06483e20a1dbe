// The `crosssim-isaac` preset (issue 16 item 8) against CrossSim 3.2.0 itself: its settings map
// ISAAC.json's, and one layer gives CrossSim's output up to the differences the preset documents.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { CROSSSIM_GAIN, crosssimDeviation } from '../helpers/crosssim.ts';

const cpu = { kind: 'cpu', reason: 'test' } as const;

describe('crosssim-isaac preset', () => {
  it('maps every ISAAC.json setting', () => {
    const c = resolveConfig({ preset: 'crosssim-isaac' });
    expect(c.array).toMatchObject({ rows: 128, cols: 128 });
    expect(c.weights).toEqual({ bits: 16, perChannel: false, mapping: 'offset', cellBits: 2, onOffRatio: 2e6 / 2e3 });
    expect(c.inputs).toEqual({ bits: 16 - 1, dacBits: 1 });
    expect(c.dataflow).toBe('digital-sa');
    // GRANULAR for offset bit slices (CrossSim simulator/circuits/adc/iadc.py): ymin = 1/(2^cell_bits − 1)
    // times the signed 16-bit DAC's 2^15/(2^15 − 1), range ±ymin·(2^(9−1) − 1): 255 codes per sign.
    const granular = (1 / (2 ** 2 - 1)) * (2 ** 15 / (2 ** 15 - 1)) * (2 ** (9 - 1) - 1);
    expect(c.adc).toMatchObject({ bits: 8, range: granular, subtract: 'digital', noise: 0, model: 'uniform' });
    expect(c.noise).toEqual(resolveConfig({}).noise);
  });

  it('with an ideal ADC, gives CrossSim ISAAC output divided by its 1.0010316 gain', async () => {
    const d = await crosssimDeviation(cpu, { adc: { bits: 0 } }, CROSSSIM_GAIN);
    expect(d.maxRel).toBeLessThan(1e-6); // f32 output rounding
  });

  it('as is, within 0.2% of full scale of CrossSim (the Gmin pedestal its unit column rounds away)', async () => {
    const d = await crosssimDeviation(cpu);
    // Per conversion the pedestal is Gmin·ΣV/ΔG ≤ 0.001·128·3 = 0.38 LSB, which CrossSim's ADC
    // rounds away and xbarsim subtracts: a bias of a fraction of one code per input bit and slice.
    expect(d.maxRel).toBeLessThan(2e-3);
    expect(d.maxRel).toBeGreaterThan(1e-4); // the difference is real, not a vanished term
    expect(Math.abs(d.medianRatio - 1)).toBeLessThan(1e-3);
  });
});
