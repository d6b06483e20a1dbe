// The browser app's chart and table rows (web/app/sweep.ts) use src/sweep/stats.ts's interval, as
// summary.csv does: inside [0, 1], flagged with 2 chips (the app once showed "−15.94% – 161.94%").
import { describe, expect, it } from 'vitest';
import type { ResultLine } from '../../src/sweep/results.ts';
import { accuracyStats } from '../../src/sweep/stats.ts';
import { chartRows, planAppSweep } from '../../web/app/sweep.ts';

function line(preset: string, sigma: number, chip: number, accuracy: number): ResultLine {
  const zero = { adcConversions: 10, dacActivations: 0, cellReads: 0, analogAccumulations: 0, digitalShiftAdds: 0, arrays: 1 };
  return {
    id: `${preset}-${sigma}-${chip}`, preset, point: { 'noise.programming.sigma': sigma }, chip, seed: 0, accuracy, correct: 0, total: 20,
    counts: { layers: [], total: zero, vectors: 20 }, seconds: 0.1, adapter: 'x', config: {} as ResultLine['config'],
  };
}

describe('app rows', () => {
  it('two chips far apart: the interval is clipped to [0, 1] and flagged, equal to summary.csv\'s', () => {
    const plan = planAppSweep({ presets: ['isaac'], chips: 2, digits: 20, path: 'noise.programming.sigma', spec: '0,0.1', seed: 0, overrides: '' });
    const rows = chartRows(plan, [line('isaac', 0.1, 0, 0.57), line('isaac', 0.1, 1, 0.9), line('isaac', 0, 0, 0.95)]);
    expect(rows).toHaveLength(2);
    const noisy = rows.find((r) => r.x === 0.1)!;
    expect(noisy.interval).toEqual(accuracyStats([0.57, 0.9]).interval);
    expect([noisy.lo, noisy.hi]).toEqual([0, 1]);
    expect(noisy.interval).toMatchObject({ clipped: true, fewChips: true });
    expect(rows.find((r) => r.x === 0)!.interval).toBeNull();
  });

  it('a grid over the task limit is refused by the form, as by the CLI', () => {
    expect(() => planAppSweep({ presets: ['isaac', 'prime'], chips: 1000, digits: 20, path: 'noise.programming.sigma', spec: '0:0.1:100', seed: 0, overrides: '' })).toThrow(
      /^2 presets × 100 values of noise\.programming\.sigma × 1000 chips = 200,000 evaluations, over the limit of 100,000/,
    );
  });
});
