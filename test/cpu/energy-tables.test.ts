import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { adcAreaFactor, adcEnergyFactor, ADC_TABLE_BITS } from '../../src/energy/adc-law.ts';
import { ARCHITECTURES, architectureFor, ISAAC_CHIP_TILES_MM2, ISAAC_TILE_MM2 } from '../../src/energy/architectures.ts';
import { adcsPerIma, tileArea } from '../../src/energy/area.ts';
import { ISAAC_EVENT_J, ISAAC_HYPERTRANSPORT, ISAAC_IMA, ISAAC_ORG, ISAAC_REGISTER_EVENT_J, ISAAC_TILE } from '../../src/energy/isaac-table1.ts';
import { countsOnlyNetwork } from '../../src/energy/layers.ts';
import { estimate } from '../../src/energy/model.ts';
import { builtInNetwork } from '../../src/energy/networks/index.ts';

const sum = (rows: readonly { power_W: number; area_mm2: number }[], key: 'power_W' | 'area_mm2'): number => rows.reduce((a, r) => a + r[key], 0);

describe('ISAAC Table I', () => {
  it('rows add up to the table totals: 0.3723 mm² and 329.8 mW per tile, 85.4 mm² and 65.8 W per chip', () => {
    const ima = Object.values(ISAAC_IMA);
    const tile = Object.values(ISAAC_TILE).filter((r) => r !== ISAAC_TILE.router);
    const tileArea = ISAAC_ORG.imasPerTile * sum(ima, 'area_mm2') + sum(tile, 'area_mm2') + ISAAC_TILE.router.area_mm2 / 4;
    const tilePower = ISAAC_ORG.imasPerTile * sum(ima, 'power_W') + sum(tile, 'power_W') + ISAAC_TILE.router.power_W / 4;
    expect(sum(ima, 'area_mm2')).toBeCloseTo(0.01312, 5);
    expect(tileArea).toBeCloseTo(0.3723, 4);
    expect(tilePower * 1e3).toBeCloseTo(329.8, 1);
    expect(ISAAC_TILE_MM2).toBeCloseTo(tileArea, 12);
    expect(ISAAC_CHIP_TILES_MM2).toBeCloseTo(62.545, 3);
    expect(168 * tileArea + ISAAC_HYPERTRANSPORT.area_mm2).toBeCloseTo(85.4, 1);
    expect(168 * tilePower + ISAAC_HYPERTRANSPORT.power_W).toBeCloseTo(65.8, 1);
  });

  it('every per-event energy times its event rate gives back the Table I power', () => {
    const cycle = 100e-9;
    expect(ISAAC_EVENT_J.adc8 * 8 * 1.28e9).toBeCloseTo(16e-3, 12);
    expect((ISAAC_EVENT_J.dac * 1024) / cycle).toBeCloseTo(4e-3, 12);
    expect((ISAAC_EVENT_J.cell * 8 * 128 * 128) / cycle).toBeCloseTo(2.4e-3, 12);
    expect(ISAAC_EVENT_J.shiftAdd * 8 * 1.28e9).toBeCloseTo(0.2e-3, 12);
    // The eDRAM takes every bit of 12 IMAs' registers twice (in from the network, out to the IMA) per 1.6 µs.
    expect((ISAAC_EVENT_J.edramBit * 12 * (16384 + 2048) * 2) / 1.6e-6).toBeCloseTo(20.7e-3, 12);
    expect((ISAAC_EVENT_J.busBit * 12 * (16384 + 2048)) / 1.6e-6).toBeCloseTo(7e-3, 12);
    expect((ISAAC_EVENT_J.routerBit * 4 * 12 * (16384 + 2048)) / 1.6e-6).toBeCloseTo(42e-3, 12);
    expect((ISAAC_REGISTER_EVENT_J.inputRegisterBit * 1024) / cycle).toBeCloseTo(1.24e-3, 12);
    expect(ISAAC_REGISTER_EVENT_J.outputRegisterPerShiftAdd * 8 * 1.28e9).toBeCloseTo(0.23e-3, 12);
    expect((ISAAC_REGISTER_EVENT_J.tileDigitalPerBlockOutput * 12 * 128) / 1.6e-6).toBeCloseTo((1.68 + 0.52 + 0.4 + 0.05) * 1e-3, 12);
  });

  it("at Accelergy's 1.2 GS/s the same formulas give its library's per-action energies", () => {
    const f = 1.28 / 1.2; // Accelergy's event periods are 1.28/1.2 longer
    expect(ISAAC_EVENT_J.adc8 * f * 1e12).toBeCloseTo(1.666666667, 6); // isaac_adc.csv
    expect(ISAAC_EVENT_J.dac * f * 1e12).toBeCloseTo(0.41667, 4); // isaac_dac.csv
    expect(ISAAC_EVENT_J.edramBit * f * 256 * 1e12).toBeCloseTo(20.45, 1); // isaac_eDRAM.csv, per 256-bit access
    expect(ISAAC_EVENT_J.busBit * f * 1e12).toBeCloseTo(0.054, 3); // isaac_eDRAM_bus.csv
    expect(ISAAC_EVENT_J.routerBit * f * 256 * 1e12).toBeCloseTo(20.74, 1); // isaac_router.csv
    expect(ISAAC_EVENT_J.shiftAdd * f * 1e12).toBeCloseTo(0.021, 3); // isaac_shift_add.csv
    expect(ISAAC_EVENT_J.cell * 1e12).toBeCloseTo(1.83e-3, 5); // ReRAMcell_compute.csv, 2-bit cell
  });
});

describe('ADC energy and area against resolution', () => {
  // accelergy-library-plug-in library/isaac/isaac_adc.csv, 4–10 bits.
  const energy = [0.79, 0.99, 1.2, 1.42, 1.67, 1.969078145, 2.379022742];
  const area = [361.04, 476.91, 626.91, 845.18, 1200, 1827.911647, 3002.008032];
  it.each(ADC_TABLE_BITS.map((b, i) => [b, i]))('%i bits reproduces the Accelergy table', (bits, i) => {
    expect(Math.abs(adcEnergyFactor(bits) * 1.666666667 - energy[i])).toBeLessThan(0.006);
    expect(Math.abs(adcAreaFactor(bits) * 1200 - area[i])).toBeLessThan(0.05);
  });

  it('the cost tables anchor the law on Table I (1.5625 pJ and 1200 µm² at 8 bits)', () => {
    const a = ARCHITECTURES.isaac;
    expect(a.adcEnergy_J(8)).toBeCloseTo(1.5625e-12, 18);
    expect(a.adcArea_mm2(8)).toBeCloseTo(0.0012, 12);
    expect(a.adcEnergy_J(6) / a.adcEnergy_J(8)).toBeCloseTo(1.2 / 1.67, 2);
  });
});

describe('tiles and equal area', () => {
  const cfg = (p: string) => resolveConfig({}, { preset: p });

  it('the isaac tile is Table I: 8 ADCs per IMA, 96 arrays, 0.3723 mm²', () => {
    const t = tileArea(ARCHITECTURES.isaac, cfg('isaac'));
    expect(t.adcsPerIma).toBe(8);
    expect(t.arrays).toBe(96);
    expect(t.area_mm2).toBeCloseTo(0.3723, 4);
  });

  it('cascade needs one ADC per IMA at the rate its dataflow converts; neural-pim has its published 4 NNADCs per PE', () => {
    expect(adcsPerIma(ARCHITECTURES.cascade, cfg('cascade'))).toBe(1);
    expect(adcsPerIma(ARCHITECTURES['neural-pim'], cfg('neural-pim'))).toBe(4);
    // A higher-resolution digital-sa design still converts every column every cycle: 8 ADCs.
    expect(adcsPerIma(ARCHITECTURES.isaac, resolveConfig({ preset: 'isaac', weights: { cellBits: 1 } }))).toBe(8);
  });

  it('the Neural-PIM paper\'s baselines are 64-array tiles with its Table 3 converters: 64 7-bit ADCs, 3 10-bit ADCs', () => {
    const isaac = tileArea(ARCHITECTURES['isaac-style'], cfg('isaac-style'));
    expect([isaac.arrays, isaac.adcsPerIma * ARCHITECTURES['isaac-style'].imasPerTile]).toEqual([64, 64]);
    expect(isaac.items.find((i) => i.name === 'ADCs (7 bit)')!.area_mm2).toBeCloseTo(64 * 845.18e-6, 5);
    const cascade = tileArea(ARCHITECTURES['cascade-style'], cfg('cascade-style'));
    expect([cascade.arrays, cascade.adcsPerIma]).toEqual([64, 3]);
    expect(cascade.items.find((i) => i.name === 'ADCs (10 bit)')!.area_mm2).toBeCloseTo(3 * 3002.008e-6, 5);
    expect(cascade.items.find((i) => i.name === 'buffer RRAM arrays')!.count).toBe(4 * 64);
    // Not fitted, a check: computing cells per mm² of the derived tiles against Table 3's 4.5 and 5.0 ×10⁶.
    expect((64 * 128 * 128) / isaac.area_mm2 / 4.5e6).toBeGreaterThan(0.95);
    expect((64 * 128 * 128) / isaac.area_mm2 / 4.5e6).toBeLessThan(1.05);
    expect((64 * 128 * 128) / cascade.area_mm2 / 5.0e6).toBeGreaterThan(0.95);
    expect((64 * 128 * 128) / cascade.area_mm2 / 5.0e6).toBeLessThan(1.05);
  });

  it('neural-pim has 280 tiles of one 64-array PE in 63.5 mm² (Table 2)', () => {
    const t = tileArea(ARCHITECTURES['neural-pim'], cfg('neural-pim'));
    expect(280 * t.area_mm2).toBeCloseTo(63.5, 9);
    expect(t.arrays).toBe(64);
  });

  // ResNet-50 at 1-bit cells (14 columns per weight) needs about 22k arrays: more than one ISAAC chip's area.
  it.each([2, 3, 5, 8])('at %i ISAAC chips of area every preset is within 1% of the others', (chips) => {
    const net = builtInNetwork('resnet50');
    const budget = chips * ISAAC_CHIP_TILES_MM2;
    const areas = ['isaac', 'cascade', 'neural-pim', 'isaac-style', 'cascade-style'].map((p) => estimate(p, countsOnlyNetwork(net, cfg(p)), cfg(p), budget).area_mm2);
    for (const a of areas) expect(Math.abs(a - budget) / budget).toBeLessThan(0.01);
    expect((Math.max(...areas) - Math.min(...areas)) / Math.max(...areas)).toBeLessThan(0.01);
  });

  it('presets the tables cannot cost are refused with the field named', () => {
    expect(() => architectureFor(cfg('ideal'))).toThrow(/adc\.bits 0/);
    expect(() => architectureFor(cfg('prime'))).toThrow(/inputs\.dacBits 3/);
    expect(architectureFor(resolveConfig({ preset: 'isaac', dataflow: 'analog-sa', weights: { mapping: 'differential' } })).name).toBe('neural-pim');
  });

  it('a config is costed by its preset\'s table while it keeps that preset\'s dataflow, else by its dataflow\'s original design', () => {
    expect(architectureFor(cfg('isaac-style')).name).toBe('isaac-style');
    expect(architectureFor(cfg('cascade-style')).name).toBe('cascade-style');
    expect(architectureFor(resolveConfig({ preset: 'isaac-style', adc: { bits: 8 } })).name).toBe('isaac-style');
    expect(architectureFor(resolveConfig({ preset: 'isaac-style', dataflow: 'buffered' })).name).toBe('cascade');
    expect(() => architectureFor(resolveConfig({ preset: 'isaac-style', inputs: { dacBits: 2 } }))).toThrow(/inputs\.dacBits 2 has no cited DAC energy or area in the isaac-style table/);
  });
});
