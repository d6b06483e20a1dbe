import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { ISAAC_CHIP_TILES_MM2 } from '../../src/energy/architectures.ts';
import { countsOnlyNetwork, type ShapeNetwork } from '../../src/energy/layers.ts';
import { BREAKDOWN_KEYS, estimate, ratios } from '../../src/energy/model.ts';
import { balance, type StageInput } from '../../src/energy/schedule.ts';
import { rng } from '../helpers/random.ts';

/** Two layers: a signed-input 200×40 layer seen by 4 vectors per inference, then a 40×10 layer after a ReLU. */
const NET: ShapeNetwork = {
  name: 'two-layer',
  source: 'test',
  inputShape: [200],
  layers: [
    { name: 'a', layerIndex: 0, K: 200, N: 40, groups: 1, vectorsPerSample: 4, inputNonNegative: false },
    { name: 'b', layerIndex: 1, K: 40, N: 10, groups: 1, vectorsPerSample: 1, inputNonNegative: true },
  ],
};

// Table I numbers and their per-event forms, written out here by hand (ISCA 2016 Table I; Accelergy's formulas at 1.28 GS/s).
const ADC8 = 16e-3 / 8 / 1.28e9;
const SH = 10e-6 / (8 * 1.28e9);
const DAC = (4e-3 / 1024) * 100e-9;
const CELL = (2.4e-3 / (8 * 128 * 128)) * 100e-9;
const SA = 0.2e-3 / (8 * 1.28e9);
const IR = (1.24e-3 / 1024) * 100e-9;
const OR = 0.23e-3 / (8 * 1.28e9);
const EDRAM = ((20.7e-3 / 12) * 1.6e-6) / ((16384 + 2048) * 2);
const BUS = ((7e-3 / 12) * 1.6e-6) / (16384 + 2048);
const ROUTER = ((42e-3 / 4 / 12) * 1.6e-6) / (16384 + 2048);
const TILE_DIGITAL = ((1.68e-3 + 0.52e-3 + 0.4e-3 + 0.05e-3) * 1.6e-6) / (12 * 128);

/** Section 5 counts of the two layers by hand (8-bit inputs: T = 8; 128-row arrays: layer a has blocks of 128 and 72 rows). */
interface Hand {
  adc: number;
  dac: number;
  cells: number;
  acc: number;
  arrays: number;
  /** Energy of one section-5 accumulation, of one conversion (S+H excluded), and one vector pass's time. */
  accJ: number;
  adcJ: number;
  /** One DAC activation when not ISAAC's 1-bit DAC. */
  dacJ?: number;
  pass_s: number;
}
// The SAR law of adc-law.ts at 6, 7 and 10 bits, written out: (2.9·N/8 + 0.2·2^(N−8)) / 3.1.
const law = (n: number): number => (2.9 * (n / 8) + 0.2 * 2 ** (n - 8)) / 3.1;
const HAND: Record<string, Hand> = {
  // offset, 2-bit cells: S = 4, pol = 1, κ = T·S = 32. a: 8 passes (4 vectors × 2), A_p = ceil(40·4/128) = 2.
  isaac: { adc: 8 * 2 * 40 * 32 + 10 * 32, dac: 8 * 200 * 8 * 2 + 40 * 8 * 1, cells: 8 * 200 * 8 * 40 * 4 + 40 * 8 * 10 * 4, acc: 0, arrays: 4 + 1, accJ: 0, adcJ: ADC8, pass_s: 800e-9 },
  // differential, 2-bit cells: S = 4, pol = 2, κ = S. A_p = ceil(40·8/128) = 3 (a), 1 (b).
  cascade: { adc: 8 * 2 * 40 * 4 + 10 * 4, dac: 8 * 200 * 8 * 3 + 40 * 8 * 1, cells: 8 * 200 * 8 * 40 * 8 + 40 * 8 * 10 * 8, acc: 8 * 2 * 40 * 4 * 8 + 10 * 4 * 8, arrays: 6 + 1, accJ: ADC8 / 77.5, adcJ: ADC8, pass_s: 800e-9 },
  // differential, 1-bit cells: S = 7, pol = 2, κ = 1; 4-bit DACs: T = 2. A_p = ceil(40·14/128) = 5 (a), ceil(10·14/128) = 2 (b).
  // Table 2 (Neural-PIM, IEEE TC 2022): NNADC 6 mW / (4 · 1.2 GS/s); NNS+A 19 mW / (64 · 80 MHz) per output and cycle, i.e. / S per
  // section-5 accumulation; 4-bit DAC 0.1 W · 100 ns / (128 · 64). A pass: 2 cycles, but the array's one NNS+A takes its
  // 128/14 outputs per cycle at 80 MHz (2 · 114.3 ns), then waits for 128/14 conversions on 4/64 of an NNADC at 1.2 GS/s.
  'neural-pim': {
    adc: 8 * 2 * 40 + 10,
    dac: 8 * 200 * 2 * 5 + 40 * 2 * 2,
    cells: 8 * 200 * 2 * 40 * 14 + 40 * 2 * 10 * 14,
    acc: 8 * 2 * 40 * 7 * 2 + 10 * 7 * 2,
    arrays: 10 + 2,
    accJ: 19e-3 / (64 * 80e6) / 7,
    adcJ: 6e-3 / (4 * 1.2e9),
    dacJ: (0.1 * 100e-9) / (128 * 64),
    pass_s: (2 * 128) / 14 / 80e6 + ((128 / 14) * 64) / (4 * 1.2e9),
  },
  // The Neural-PIM paper's ISAAC style: 1-bit cells, differential, analog subtract: S = 7, pol = 2, κ = T·S = 56; 7-bit ADC, one per array.
  // The busiest array converts 128·56/14 = 512 values per pass with its own 1.28 GS/s ADC: 400 ns, hidden under the 8 cycles.
  'isaac-style': { adc: 8 * 2 * 40 * 56 + 10 * 56, dac: 8 * 200 * 8 * 5 + 40 * 8 * 2, cells: 8 * 200 * 8 * 40 * 14 + 40 * 8 * 10 * 14, acc: 0, arrays: 10 + 2, accJ: 0, adcJ: ADC8 * law(7), pass_s: 800e-9 },
  // CASCADE style: κ = S = 7, 10-bit ADCs, 3 per 64 arrays: 128·7/14 = 64 conversions per array and pass at 3/64 of 1.28 GS/s = 1.0667 µs.
  // TIA: the 6-bit conversion / 77.5.
  'cascade-style': {
    adc: 8 * 2 * 40 * 7 + 10 * 7,
    dac: 8 * 200 * 8 * 5 + 40 * 8 * 2,
    cells: 8 * 200 * 8 * 40 * 14 + 40 * 8 * 10 * 14,
    acc: 8 * 2 * 40 * 7 * 8 + 10 * 7 * 8,
    arrays: 10 + 2,
    accJ: (ADC8 * law(6)) / 77.5,
    adcJ: ADC8 * law(10),
    pass_s: (64 * 64) / (3 * 1.28e9),
  },
};

// Traffic, 8-bit activations: a reads 4·200·8 bits, writes 4·40·8; its 40 outputs get 2 blocks × 8 passes = 640 block outputs (480 partial sums of 16 bits); b: 40·8 in, 10·8 out, 10 block outputs.
const READ_BITS = 4 * 200 * 8 + 40 * 8;
const WRITE_BITS = 4 * 40 * 8 + 10 * 8;
const BLOCK_OUTPUTS = 640 + 10;
const BUS_BITS = READ_BITS + WRITE_BITS + (640 - 160) * 16;
// Input-register bits: dacBits bits of every row of each block, every cycle and pass, once per IMA (all blocks here fit one
// IMA's 8 arrays); neural-pim's 2 cycles of 4 bits read as many bits as 8 cycles of 1.
const REGISTER_BITS = 8 * 8 * 200 + 1 * 8 * 40;

describe('energy = counts × per-event energies (two-layer network by hand)', () => {
  it.each(Object.keys(HAND))('%s', (preset) => {
    const cfg = resolveConfig({}, { preset });
    const h = HAND[preset];
    const e = estimate(preset, countsOnlyNetwork(NET, cfg), cfg, ISAAC_CHIP_TILES_MM2);
    expect(e.counts).toMatchObject({ adcConversions: h.adc, dacActivations: h.dac, cellReads: h.cells, analogAccumulations: h.acc, digitalShiftAdds: h.adc, arrays: h.arrays });
    expect(e.counts).toMatchObject({ bufferReadBits: READ_BITS, bufferWriteBits: WRITE_BITS, inputRegisterBits: REGISTER_BITS, busBits: BUS_BITS, routerBits: WRITE_BITS, blockOutputs: BLOCK_OUTPUTS, digitalMacs: 0 });
    const want = {
      adc: h.adc * (h.adcJ + SH),
      dac: h.dac * (h.dacJ ?? DAC),
      crossbar: h.cells * CELL,
      analogAccumulation: h.acc * h.accJ,
      shiftAdd: h.adc * SA,
      buffers: (READ_BITS + WRITE_BITS) * EDRAM + REGISTER_BITS * IR + h.adc * OR,
      interconnect: BUS_BITS * BUS + WRITE_BITS * ROUTER,
      digital: BLOCK_OUTPUTS * TILE_DIGITAL,
      static: 0,
    };
    for (const k of BREAKDOWN_KEYS) expect(e.breakdown_J[k], k).toBeCloseTo(want[k], 20);
    const total = Object.values(want).reduce((a, v) => a + v, 0);
    expect(e.energyPerInference_J / total).toBeCloseTo(1, 12);
    expect(e.layers.reduce((a, l) => a + l.energy_J, 0) / total).toBeCloseTo(1, 12);
    // 2 ops per MAC of the network: 200·40·4 + 40·10 MACs.
    expect(e.topsPerWatt).toBeCloseTo((2 * 32400) / total / 1e12, 9);
    // One chip of area is plenty: layer a gets a copy per pass (8), both stages take one pass.
    expect(e.layers.map((l) => l.replication)).toEqual([8, 1]);
    expect(e.throughput_inferencesPerSecond * h.pass_s).toBeCloseTo(1, 9);
    expect(e.latency_s / (2 * h.pass_s)).toBeCloseTo(1, 9);
    expect(e.topsPerMm2).toBeCloseTo((2 * 32400) / h.pass_s / e.area_mm2 / 1e12, 9);
  });

  it('ratios compare inferences per joule and per second', () => {
    const est = ['isaac-style', 'neural-pim'].map((p) => {
      const cfg = resolveConfig({}, { preset: p });
      return estimate(p, countsOnlyNetwork(NET, cfg), cfg, ISAAC_CHIP_TILES_MM2);
    });
    const r = ratios(est).find((x) => x.of === 'neural-pim' && x.over === 'isaac-style')!;
    expect(r.energyEfficiency).toBeCloseTo(est[0].energyPerInference_J / est[1].energyPerInference_J, 12);
    expect(r.throughput).toBeCloseTo(HAND['isaac-style'].pass_s / HAND['neural-pim'].pass_s, 9);
    expect(ratios(est)).toHaveLength(2);
  });

  it('a row block wider than one IMA reads its input register once per IMA it spans', () => {
    const wide: ShapeNetwork = { ...NET, layers: [{ name: 'w', layerIndex: 0, K: 128, N: 300, groups: 1, vectorsPerSample: 1, inputNonNegative: true }] };
    const style = resolveConfig({}, { preset: 'isaac-style' });
    const e = estimate('isaac-style', countsOnlyNetwork(wide, style), style, ISAAC_CHIP_TILES_MM2);
    // A_p = ceil(300·14/128) = 33 arrays: 5 IMAs of 8.
    expect(e.counts.dacActivations).toBe(128 * 8 * 33);
    expect(e.counts.inputRegisterBits).toBe(128 * 8 * 5);
    // Neural-PIM's PE of 64 arrays shares one input register: 2 cycles of 4 bits, once.
    const npim = resolveConfig({}, { preset: 'neural-pim' });
    const n = estimate('neural-pim', countsOnlyNetwork(wide, npim), npim, ISAAC_CHIP_TILES_MM2);
    expect(n.counts.dacActivations).toBe(128 * 2 * 33);
    expect(n.counts.inputRegisterBits).toBe(128 * 2 * 4);
  });

  it('a layer kept digital costs its MACs at 2.29 pJ and no crossbar event', () => {
    const cfg = resolveConfig({ preset: 'isaac', layers: { b: { digital: true } } });
    const e = estimate('isaac', countsOnlyNetwork(NET, cfg), cfg, ISAAC_CHIP_TILES_MM2);
    expect(e.counts.digitalMacs).toBe(400);
    expect(e.layers[1].breakdown_J.adc).toBe(0);
    expect(e.layers[1].breakdown_J.digital).toBeCloseTo(400 * 2.29e-12, 20);
  });

  it('a budget below one copy of every layer is a one-line usage error naming the areas', () => {
    const cfg = resolveConfig({}, { preset: 'isaac' });
    expect(() => estimate('isaac', countsOnlyNetwork(NET, cfg), cfg, 0.1)).toThrow(/needs 5 arrays.*raise --area/);
  });
});

describe('pipeline balance', () => {
  /** The best interval over every replication vector (r_i ≤ each step's passes) within the budget; the steps run in turn. */
  function bruteForce(stages: StageInput[], budget: number): number | null {
    let best: number | null = null;
    const r = stages.map(() => 1);
    const visit = (i: number): void => {
      if (i === stages.length) {
        if (stages.reduce((a, s, j) => a + r[j] * s.arrays, 0) > budget) return;
        const t = Math.max(...stages.map((s, j) => s.steps * Math.ceil(s.passes / s.steps / r[j]) * s.passTime_s));
        if (best === null || t < best) best = t;
        return;
      }
      for (let k = 1; k <= Math.ceil(stages[i].passes / stages[i].steps); k++) {
        r[i] = k;
        visit(i + 1);
      }
    };
    visit(0);
    return best;
  }

  it('reaches the smallest interval any replication within the budget reaches (300 random pipelines, some with sequential steps)', () => {
    const rand = rng(13);
    const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    for (let run = 0; run < 300; run++) {
      const stages = Array.from({ length: int(1, 4) }, () => {
        const steps = rand() < 0.7 ? 1 : int(2, 4);
        return { passTime_s: int(1, 4) * 1e-7, arrays: int(1, 4), passes: steps * int(1, 3) + (rand() < 0.3 ? 1 : 0), steps };
      });
      const budget = int(1, 40);
      const want = bruteForce(stages, budget);
      const got = balance(stages, budget);
      if (want === null) {
        expect(got, JSON.stringify({ stages, budget })).toBeNull();
        continue;
      }
      expect(got, JSON.stringify({ stages, budget })).not.toBeNull();
      expect(got!.arraysUsed).toBeLessThanOrEqual(budget);
      expect(got!.interval_s).toBeCloseTo(want, 15);
    }
  });

  it('runs a recurrent layer’s steps one after another, however many copies the budget allows', () => {
    // Seven steps of one vector pass each: copies cannot shorten the stage below seven passes.
    const rnn = { passTime_s: 1e-7, arrays: 1, passes: 7, steps: 7 };
    const conv = { passTime_s: 1e-7, arrays: 1, passes: 7, steps: 1 };
    expect(balance([rnn], 100)!.stage_s).toEqual([7e-7]);
    expect(balance([rnn], 100)!.replication).toEqual([1]);
    expect(balance([conv], 100)!.stage_s).toEqual([1e-7]);
  });
});
