import { describe, expect, it } from 'vitest';
import { energyReport, type EnergyFlags } from '../../src/cli/energy.ts';
import { BREAKDOWN_KEYS } from '../../src/energy/model.ts';
import { NETWORK_NAMES } from '../../src/energy/networks/index.ts';
import { runCli, runMain } from '../helpers/cli.ts';

const flags = (f: Partial<EnergyFlags>): EnergyFlags => ({ inputSign: 'signed', ...f });

describe('xbarsim energy', () => {
  it.each(NETWORK_NAMES)('%s on the three architecture presets', (name) => {
    const r = energyReport(flags({ network: name }));
    expect(r.presets.map((p) => p.preset)).toEqual(['isaac-style', 'cascade-style', 'neural-pim']);
    for (const p of r.presets) {
      expect(p.energyPerInference_J).toBeGreaterThan(0);
      expect(Number.isFinite(p.throughput_inferencesPerSecond)).toBe(true);
      expect(p.latency_s).toBeGreaterThanOrEqual(1 / p.throughput_inferencesPerSecond);
      expect(Math.abs(p.area_mm2 - r.areaBudget_mm2) / r.areaBudget_mm2).toBeLessThan(0.01);
      const sum = BREAKDOWN_KEYS.reduce((a, k) => a + p.breakdown_J[k], 0);
      expect(sum / p.energyPerInference_J).toBeCloseTo(1, 12);
    }
    expect(r.ratios).toHaveLength(6);
  });

  it('--json has the normative shape of DESIGN.md section 10', () => {
    const r = runCli(['energy', '--network', 'resnet50', '--preset', 'isaac', '--preset', 'neural-pim', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & { presets: Record<string, unknown>[]; ratios: Record<string, unknown>[] };
    expect(j.model).toBe('resnet50');
    expect(j.presets).toHaveLength(2);
    for (const p of j.presets) {
      for (const k of ['preset', 'energyPerInference_J', 'latency_s', 'throughput_inferencesPerSecond', 'area_mm2', 'topsPerWatt', 'topsPerMm2', 'breakdown_J', 'counts', 'layers']) expect(p, k).toHaveProperty(k);
      const b = p.breakdown_J as Record<string, number>;
      expect(Object.keys(b).sort()).toEqual([...BREAKDOWN_KEYS].sort());
      expect(Object.values(b).reduce((a, v) => a + v, 0) / (p.energyPerInference_J as number)).toBeCloseTo(1, 12);
      expect(p.counts).toMatchObject({ adcConversions: expect.any(Number), dacActivations: expect.any(Number), cellReads: expect.any(Number), analogAccumulations: expect.any(Number), digitalShiftAdds: expect.any(Number), arrays: expect.any(Number) });
      const layers = p.layers as { name: string; energy_J: number; latency_s: number }[];
      expect(layers).toHaveLength(54);
      expect(layers[0]).toMatchObject({ name: 'conv1', energy_J: expect.any(Number), latency_s: expect.any(Number) });
    }
    expect(j.ratios).toEqual([
      { of: 'isaac', over: 'neural-pim', energyEfficiency: expect.any(Number), throughput: expect.any(Number) },
      { of: 'neural-pim', over: 'isaac', energyEfficiency: expect.any(Number), throughput: expect.any(Number) },
    ]);
  });

  it('text output names the network, every preset and the ratios', async () => {
    const r = await runMain(['energy', '--network', 'googlenet', '--input-shape', '1,3,224,224']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/googlenet/);
    expect(r.stdout).toMatch(/neural-pim over isaac-style: energy efficiency [\d.]+×, throughput [\d.]+×/);
    expect(r.stdout).toMatch(/inception_5b\/pool_proj/);
  });

  it.each([
    [['energy', '--network', 'lenet'], /--network: unknown network "lenet" \(allowed: alexnet, vgg16/],
    [['energy', '--network', 'vgg16', '--input-shape', '1,3,2x4,224'], /--input-shape: must be comma-separated positive integers/],
    [['energy', '--network', 'vgg16', '--input-shape', '1,3,16,16'], /--input-shape: a 16×16 input is too small for vgg16/],
    [['energy', '--network', 'vgg16', '--input-shape', '1,1,224,224'], /--input-shape: vgg16 takes \[batch,\] 3, H, W/],
    [['energy', '--network', 'vgg16', '--input-shape', '224,224'], /--input-shape: vgg16 takes batch,3,H,W/],
    [['energy'], /exactly one of --model m.onnx or --network NAME/],
    [['energy', '--network', 'vgg16', '--model', 'models/lenet5.onnx'], /exactly one of --model/],
    [['energy', '--model', 'models/lenet5.onnx', '--input-shape', '1,3,28,28'], /--input-shape: 1,3,28,28 does not match the model's input \[batch, 1, 28, 28\]/],
    [['energy', '--model', 'nope.onnx'], /--model nope.onnx: cannot read \(file not found\)/],
    [['energy', '--network', 'alexnet', '--preset', 'ideal'], /adc\.bits 0 is an ideal converter/],
    [['energy', '--network', 'alexnet', '--preset', 'prime'], /inputs\.dacBits 3 has no cited DAC energy/],
    [['energy', '--network', 'alexnet', '--preset', 'isac'], /--preset: unknown preset "isac" \(allowed: ideal, isaac/],
    [['energy', '--network', 'alexnet', '--area', '-3'], /--area: must be a positive number/],
    [['energy', '--network', 'alexnet', '--area', '10'], /one copy of every layer needs \d+ arrays.*raise --area/],
    [['energy', '--network', 'alexnet', '--input-sign', 'positive'], /--input-sign.*allowed choices are signed, nonnegative/i],
  ])('bad input %j: one line, exit 2, nothing on stdout', async (args, pattern) => {
    const r = await runMain(args);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(pattern);
    expect(r.stdout).toBe('');
  });

  it('bad input from the installed command: one line, exit 2', () => {
    const r = runCli(['energy', '--network', 'resnet-5O']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/^xbarsim: --network: unknown network "resnet-5O"/)]);
    expect(r.stdout).toBe('');
  });

  it('an ONNX model costs like its layers: lenet5 with a nonnegative input runs one pass per vector', () => {
    const signed = energyReport(flags({ model: 'models/lenet5.onnx', preset: ['isaac'] }));
    const pixels = energyReport(flags({ model: 'models/lenet5.onnx', preset: ['isaac'], inputSign: 'nonnegative' }));
    const first = (r: typeof signed) => r.presets[0].layers[0];
    expect(first(signed).macs).toBe(first(pixels).macs);
    expect(signed.presets[0].counts.adcConversions).toBeGreaterThan(pixels.presets[0].counts.adcConversions);
    expect(pixels.presets[0].energyPerInference_J).toBeLessThan(signed.presets[0].energyPerInference_J);
  });

  it("--input-shape fixes an export's dynamic height and width; without it such a model is one line", async () => {
    const model = 'test/fixtures/torch-exports/dynamic-hw-17/model.onnx';
    const at = (shape: string) => energyReport(flags({ model, preset: ['isaac'], inputShape: shape }));
    expect(at('1,3,64,64').inputShape).toEqual([3, 64, 64]);
    // The convs' MACs grow with the pixels: four times as many at twice the height and width.
    const conv = (shape: string) => at(shape).presets[0].layers[0].macs;
    expect(conv('3,128,128') / conv('3,64,64')).toBe(4);
    const r = await runMain(['energy', '--model', model, '--preset', 'isaac']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/symbolic or unknown dim 2 \("height"\); per-sample dims must be static or fixed by the shape of the inputs \(the --inputs file's; energy's --input-shape\)$/)]);
  });

  it('a config over each preset changes what it sets (6-bit ADCs cost less)', () => {
    const base = energyReport(flags({ network: 'alexnet', preset: ['isaac'] }));
    const six = energyReport(flags({ network: 'alexnet', preset: ['isaac'], config: 'test/fixtures/energy-adc6.json' }));
    expect(six.presets[0].breakdown_J.adc / base.presets[0].breakdown_J.adc).toBeCloseTo(1.2 / 1.67, 1);
    expect(six.presets[0].counts.adcConversions).toBe(base.presets[0].counts.adcConversions);
  });
});
