import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { DEFAULT_CONFIG } from '../../src/config/defaults.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { PRESETS, PRESET_NAMES } from '../../src/config/presets.ts';
import { applyOverrides, configPaths, resolveConfig, resolveLayerConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';

/** Runs `fn`, expects a one-line UsageError whose message contains every `parts`; returns the message. */
function usageError(fn: () => unknown, ...parts: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a UsageError').toBeInstanceOf(UsageError);
  const msg = (caught as UsageError).message;
  expect(msg).not.toMatch(/[\r\n]/);
  for (const p of parts) expect(msg).toContain(p);
  return msg;
}

/** Builds a nested input object from a dotted path. */
function at(path: string, value: unknown): Record<string, unknown> {
  const segs = path.split('.');
  let o: unknown = value;
  for (let i = segs.length - 1; i >= 0; i--) o = { [segs[i] as string]: o };
  return o as Record<string, unknown>;
}

/** The readout fields of `adc` (DESIGN.md section 11), all at their documented defaults. */
const READOUT_ADC_DEFAULTS = {
  model: 'uniform',
  groupSize: 1,
  nonlinear: { inl: [], inlKind: 'polynomial', comparatorSigma: 0, gainError: 0, gainSigma: 0, offsetError: 0, offsetSigma: 0 },
  nonuniform: { levels: [] },
  neural: { weightBits: 3, sigma: 0.025 },
};

describe('DEFAULT_CONFIG', () => {
  it('has the documented defaults of DESIGN.md section 7', () => {
    expect(DEFAULT_CONFIG).toEqual({
      array: { rows: 128, cols: 128, partitions: { rows: 1, cols: 1 } },
      weights: { bits: 8, perChannel: true, mapping: 'differential', cellBits: 2, onOffRatio: 100 },
      inputs: { bits: 8, dacBits: 1 },
      adc: { bits: 8, range: 'calibrated', subtract: 'digital', noise: 0, ...READOUT_ADC_DEFAULTS },
      dataflow: 'digital-sa',
      noise: {
        programming: { sigma: 0, model: 'additive' },
        read: { sigma: 0, model: 'additive' },
        drift: { nu: 0, nuStd: 0, t: 1, t0: 1, compensation: 'none' },
        stuckAt: { sa0: 0, sa1: 0 },
        device: { model: 'none', progScale: 1, readScale: 1, driftScale: 1 },
        time: 0,
      },
      device: { gMax: null, gMin: null },
      circuit: { model: 'none', rRow: 0, rCol: 0, rTerminal: 0, tolerance: 1e-6, maxIterations: 1000 },
      analog: { gainSigma: 0, noise: 0, model: 'ideal', neural: { weightBits: 3, sigma: 0.025 } },
      calibration: { samples: 256 },
      layers: {},
      seed: 0,
    });
  });

  it('resolveConfig({}) and resolveConfig(undefined) give the defaults, as fresh copies', () => {
    const a = resolveConfig({});
    expect(a).toEqual(DEFAULT_CONFIG);
    expect(a.preset).toBeUndefined();
    expect(resolveConfig(undefined)).toEqual(DEFAULT_CONFIG);
    a.adc.bits = 4;
    expect(DEFAULT_CONFIG.adc.bits).toBe(8);
    expect(resolveConfig({}).adc.bits).toBe(8);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG.adc)).toBe(true);
  });
});

describe('presets', () => {
  it('every preset resolves, and records its name', () => {
    expect([...PRESET_NAMES].sort()).toEqual(Object.keys(PRESETS).sort());
    for (const name of PRESET_NAMES) {
      const c = resolveConfig({}, { preset: name });
      expect(c.preset).toBe(name);
      expect(resolveConfig({ preset: name })).toEqual(c);
    }
  });

  it('ideal: ideal ADC, no noise, otherwise defaults', () => {
    const c = resolveConfig({ preset: 'ideal' });
    const { preset, ...rest } = c;
    expect(preset).toBe('ideal');
    expect(rest).toEqual({ ...DEFAULT_CONFIG, adc: { ...DEFAULT_CONFIG.adc, bits: 0 } });
  });

  it('isaac', () => {
    const c = resolveConfig({ preset: 'isaac' });
    expect(c.array).toEqual({ rows: 128, cols: 128, partitions: { rows: 1, cols: 1 } });
    expect(c.weights).toMatchObject({ bits: 8, cellBits: 2, mapping: 'offset' });
    expect(c.inputs).toEqual({ bits: 8, dacBits: 1 });
    expect(c.adc).toMatchObject({ bits: 8, subtract: 'digital' });
    expect(c.dataflow).toBe('digital-sa');
  });

  it('prime', () => {
    const c = resolveConfig({ preset: 'prime' });
    expect(c.array).toEqual({ rows: 256, cols: 256, partitions: { rows: 1, cols: 1 } });
    expect(c.weights).toMatchObject({ cellBits: 4, mapping: 'differential' });
    expect(c.inputs.dacBits).toBe(3);
    expect(c.adc.bits).toBe(6);
    expect(c.dataflow).toBe('digital-sa');
  });

  it('cascade', () => {
    const c = resolveConfig({ preset: 'cascade' });
    expect(c.array).toEqual({ rows: 128, cols: 128, partitions: { rows: 1, cols: 1 } });
    expect(c.weights).toMatchObject({ cellBits: 2, mapping: 'differential' });
    expect(c.inputs.dacBits).toBe(1);
    expect(c.adc.bits).toBe(8);
    expect(c.dataflow).toBe('buffered');
  });

  it('neural-pim', () => {
    const c = resolveConfig({ preset: 'neural-pim' });
    expect(c.array).toEqual({ rows: 128, cols: 128, partitions: { rows: 1, cols: 1 } });
    expect(c.weights).toMatchObject({ bits: 8, cellBits: 1, mapping: 'differential' });
    expect(c.inputs).toEqual({ bits: 8, dacBits: 4 });
    expect(c.adc.bits).toBe(8);
    expect(c.dataflow).toBe('analog-sa');
  });

  it('presets carry no device noise', () => {
    for (const name of PRESET_NAMES) {
      const c = resolveConfig({ preset: name });
      expect(c.noise).toEqual(DEFAULT_CONFIG.noise);
      expect(c.analog).toEqual(DEFAULT_CONFIG.analog);
    }
  });

  it('unknown preset (field or option) lists the allowed names', () => {
    usageError(() => resolveConfig({ preset: 'isac' }), 'preset', '"isac"', 'ideal, isaac, prime, cascade, neural-pim');
    usageError(() => resolveConfig({}, { preset: 'nope' }), 'preset', '"nope"', 'neural-pim');
  });
});

describe('merging', () => {
  it('input fields override a preset, which overrides the defaults (deep)', () => {
    const c = resolveConfig({ preset: 'prime', adc: { bits: 4 }, noise: { read: { sigma: 0.01 } } });
    expect(c.adc).toEqual({ bits: 4, range: 'calibrated', subtract: 'digital', noise: 0, ...READOUT_ADC_DEFAULTS });
    expect(c.array.rows).toBe(256);
    expect(c.inputs.dacBits).toBe(3);
    expect(c.noise.read).toEqual({ sigma: 0.01, model: 'additive' });
    expect(c.noise.programming).toEqual(DEFAULT_CONFIG.noise.programming);
  });

  it('opts.preset wins over input.preset, whose value is then ignored', () => {
    const c = resolveConfig({ preset: 'isaac', adc: { bits: 5 } }, { preset: 'cascade' });
    expect(c.preset).toBe('cascade');
    expect(c.dataflow).toBe('buffered');
    expect(c.adc.bits).toBe(5);
    // Even an unknown name in the file is ignored when the flag gives the preset.
    expect(resolveConfig({ preset: 'whatever' }, { preset: 'ideal' }).preset).toBe('ideal');
  });

  it('an input may change the dataflow of a preset together with the mapping', () => {
    const c = resolveConfig({ preset: 'isaac', dataflow: 'analog-sa', weights: { mapping: 'differential' } });
    expect(c.dataflow).toBe('analog-sa');
    expect(c.weights.cellBits).toBe(2);
  });

  it('layers are replaced whole and kept', () => {
    const c = resolveConfig({ layers: { conv1: { digital: true }, '3': { adc: { bits: 4 } } } });
    expect(c.layers).toEqual({ conv1: { digital: true }, '3': { adc: { bits: 4 } } });
  });

  it('does not share objects with the input', () => {
    const input = { noise: { read: { sigma: 0.1 } }, layers: { a: { weights: { bits: 4 } } } };
    const c = resolveConfig(input);
    c.noise.read.sigma = 0.5;
    (c.layers.a as { weights: { bits: number } }).weights.bits = 6;
    expect(input.noise.read.sigma).toBe(0.1);
    expect(input.layers.a.weights.bits).toBe(4);
  });

  it('accepts an already resolved config', () => {
    const c = resolveConfig({ preset: 'neural-pim', seed: 7, adc: { range: 2.5 } });
    expect(resolveConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('boundary values are accepted', () => {
    const ok: Array<[string, unknown]> = [
      ['array.rows', 1],
      ['array.cols', 4096],
      ['weights.bits', 2],
      ['weights.bits', 16],
      ['weights.cellBits', 8],
      ['weights.onOffRatio', 0],
      ['weights.onOffRatio', 1.5],
      ['inputs.bits', 1],
      ['adc.bits', 0],
      ['adc.bits', 2],
      ['adc.bits', 16],
      ['adc.range', 'full'],
      ['adc.range', 0.25],
      ['adc.noise', 0.5],
      ['noise.stuckAt', { sa0: 0.5, sa1: 0.5 }],
      ['noise.drift', { t: 1e4, t0: 0.5 }],
      ['calibration.samples', 1],
      ['seed', 2 ** 32 - 1],
    ];
    for (const [path, value] of ok) expect(() => resolveConfig(at(path, value)), path).not.toThrow();
    expect(resolveConfig({ inputs: { bits: 4, dacBits: 4 } }).inputs).toEqual({ bits: 4, dacBits: 4 });
  });
});

describe('rejected values name the field and stay on one line', () => {
  const bad: Array<[string, unknown, string[]]> = [
    ['array.rows', 0, ['1–4096', '(got 0)']],
    ['array.rows', 4097, ['1–4096']],
    ['array.cols', 1.5, ['integer']],
    ['weights.bits', 1, ['2–16']],
    ['weights.bits', 17, ['2–16']],
    ['weights.cellBits', 0, ['1–8']],
    ['weights.cellBits', 9, ['1–8']],
    ['weights.onOffRatio', 1, ['0', '> 1']],
    ['weights.onOffRatio', -5, ['> 1']],
    ['weights.perChannel', 'yes', ['true or false']],
    ['weights.mapping', 'signed', ['"differential", "offset"']],
    ['inputs.bits', 0, ['1–16']],
    ['inputs.bits', 17, ['1–16']],
    ['inputs.dacBits', 0, ['inputs.bits']],
    ['inputs.dacBits', 9, ['inputs.bits (8)', '(got 9)']],
    ['adc.bits', 1, ['must be 0 or an integer 2–16 (got 1)']],
    ['adc.bits', 17, ['2–16']],
    ['adc.bits', -1, ['2–16']],
    ['adc.bits', '8', ['number', '(got "8")']],
    ['adc.range', 'auto', ['"full", "calibrated"', '(got "auto")']],
    ['adc.range', 0, ['> 0']],
    ['adc.range', -2, ['> 0']],
    ['adc.subtract', 'both', ['"digital", "analog"']],
    ['adc.noise', -0.1, ['>= 0']],
    ['dataflow', 'strategy-a', ['"digital-sa", "buffered", "analog-sa"']],
    ['noise.programming.sigma', -1, ['>= 0']],
    ['noise.programming.model', 'multiplicative', ['"additive", "proportional"']],
    ['noise.read.sigma', -0.01, ['>= 0']],
    ['noise.read.model', 'x', ['"additive", "proportional"']],
    ['noise.drift.nu', -0.1, ['>= 0']],
    ['noise.drift.nuStd', -0.1, ['>= 0']],
    ['noise.drift.t0', 0, ['> 0']],
    ['noise.drift.t0', -1, ['> 0']],
    ['noise.drift.compensation', 'local', ['"none", "global"']],
    ['noise.stuckAt.sa0', -0.1, ['[0, 1]']],
    ['noise.stuckAt.sa1', 1.5, ['[0, 1]']],
    ['analog.gainSigma', -1, ['>= 0']],
    ['analog.noise', -1, ['>= 0']],
    ['calibration.samples', 0, ['>= 1']],
    ['calibration.samples', 2.5, ['integer']],
    ['seed', -1, ['0–4294967295']],
    ['seed', 2 ** 32, ['0–4294967295']],
    ['seed', 1.5, ['integer']],
  ];
  it.each(bad)('%s = %j', (path, value, parts) => {
    usageError(() => resolveConfig(at(path, value)), `config: ${path}: `, ...parts);
  });

  it('non-finite numbers are rejected', () => {
    usageError(() => resolveConfig({ seed: Number.NaN }), 'config: seed:', 'NaN');
    usageError(() => resolveConfig({ adc: { range: Number.POSITIVE_INFINITY } }), 'config: adc.range:');
  });

  it('adc.noise > 0 needs adc.bits > 0', () => {
    usageError(() => resolveConfig({ adc: { bits: 0, noise: 0.5 } }), 'config: adc.noise:', 'adc.bits');
    usageError(() => resolveConfig({ preset: 'ideal', adc: { noise: 0.5 } }), 'config: adc.noise:');
  });

  it('sa0 + sa1 <= 1', () => {
    usageError(() => resolveConfig({ noise: { stuckAt: { sa0: 0.6, sa1: 0.5 } } }), 'config: noise.stuckAt:', 'sa0 + sa1');
  });

  it('t >= t0', () => {
    usageError(() => resolveConfig({ noise: { drift: { t: 1, t0: 2 } } }), 'config: noise.drift.t:', 't0');
  });

  it('dacBits <= inputs.bits is judged after merging', () => {
    usageError(() => resolveConfig({ preset: 'prime', inputs: { bits: 2 } }), 'config: inputs.dacBits:', 'inputs.bits (2)');
  });

  it('the config itself must be an object', () => {
    for (const v of [null, [], 3, 'x']) usageError(() => resolveConfig(v), 'config:', 'object');
  });
});

describe('unknown fields', () => {
  it('at the top level, listing the allowed fields', () => {
    usageError(() => resolveConfig({ adcBits: 8 }), 'config: adcBits: unknown field', 'allowed: preset, array, weights', 'seed');
  });

  it('nested, listing the allowed fields of that object', () => {
    const m = usageError(() => resolveConfig({ weights: { foo: 1 } }));
    expect(m).toBe('config: weights.foo: unknown field (allowed: bits, perChannel, mapping, cellBits, onOffRatio)');
    usageError(() => resolveConfig({ noise: { drift: { tau: 1 } } }), 'config: noise.drift.tau: unknown field', 'nu, nuStd, t, t0, compensation');
  });

  it('in a layer override', () => {
    usageError(() => resolveConfig({ layers: { fc1: { noise: {} } } }), 'config: layers.fc1.noise: unknown field', 'digital, preset, weights, inputs, adc');
    usageError(() => resolveConfig({ layers: { fc1: { adc: { bitz: 4 } } } }), 'config: layers.fc1.adc.bitz: unknown field');
  });
});

describe('cross-field rules (DESIGN.md section 3)', () => {
  it('offset mapping is rejected with buffered and analog-sa', () => {
    usageError(() => resolveConfig({ weights: { mapping: 'offset' }, dataflow: 'buffered' }), 'config: weights.mapping:', 'digital-sa');
    usageError(() => resolveConfig({ preset: 'cascade', weights: { mapping: 'offset' } }), 'config: weights.mapping:');
    usageError(() => resolveConfig({ preset: 'isaac', dataflow: 'analog-sa' }), 'config: weights.mapping:', '"analog-sa"');
  });

  it('offset mapping with an analog subtract is rejected', () => {
    usageError(() => resolveConfig({ preset: 'isaac', adc: { subtract: 'analog' } }), 'config: adc.subtract:', 'differential');
  });

  it('analog subtract with differential digital-sa is fine; subtract is ignored for buffered/analog-sa', () => {
    expect(resolveConfig({ adc: { subtract: 'analog' } }).adc.subtract).toBe('analog');
    expect(() => resolveConfig({ preset: 'cascade', adc: { subtract: 'analog' } })).not.toThrow();
    expect(() => resolveConfig({ preset: 'neural-pim', adc: { subtract: 'digital' } })).not.toThrow();
  });

  it('signed ADC configurations still need adc.bits 0 or >= 2', () => {
    usageError(() => resolveConfig({ preset: 'neural-pim', adc: { bits: 1 } }), 'config: adc.bits:');
    expect(resolveConfig({ preset: 'neural-pim', adc: { bits: 0 } }).adc.bits).toBe(0);
  });
});

describe('layer overrides', () => {
  it('are validated against the config they resolve to', () => {
    usageError(() => resolveConfig({ layers: { fc1: { weights: { bits: 1 } } } }), 'config: layers.fc1.weights.bits:', '2–16');
    usageError(() => resolveConfig({ preset: 'cascade', layers: { '0': { weights: { mapping: 'offset' } } } }), 'config: layers.0.weights.mapping:');
    usageError(() => resolveConfig({ layers: { fc1: { preset: 'big' } } }), 'config: layers.fc1.preset:', 'neural-pim');
    usageError(() => resolveConfig({ layers: { fc1: { digital: 'yes' } } }), 'config: layers.fc1.digital:', 'true or false');
  });

  it('resolveLayerConfig applies preset then fields over the base', () => {
    const base = resolveConfig({ preset: 'neural-pim', noise: { read: { sigma: 0.02 } }, layers: { x: { digital: true } } });
    const c = resolveLayerConfig(base, { preset: 'isaac', adc: { bits: 6 } });
    expect(c.dataflow).toBe('digital-sa');
    expect(c.weights.mapping).toBe('offset');
    expect(c.adc.bits).toBe(6);
    expect(c.noise.read.sigma).toBe(0.02);
    expect(c.layers).toEqual({});
    expect(base.dataflow).toBe('analog-sa');
  });
});

describe('applyOverrides and configPaths', () => {
  const base: XbarConfig = resolveConfig({ preset: 'isaac' });

  it('configPaths lists every settable leaf', () => {
    const paths = configPaths();
    for (const p of ['noise.read.sigma', 'adc.bits', 'dataflow', 'seed', 'noise.drift.t0', 'weights.perChannel', 'calibration.samples']) {
      expect(paths).toContain(p);
    }
    expect(paths).not.toContain('layers');
    expect(paths).not.toContain('preset');
    expect(new Set(paths).size).toBe(paths.length);
    // Every listed path can be set to its current value.
    for (const p of paths) {
      const value = p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], base);
      expect(applyOverrides(base, p, value), p).toEqual(base);
    }
  });

  it('sets a leaf and returns a new config', () => {
    const c = applyOverrides(base, 'noise.programming.sigma', 0.05);
    expect(c.noise.programming).toEqual({ sigma: 0.05, model: 'additive' });
    expect(base.noise.programming.sigma).toBe(0);
    expect(applyOverrides(base, 'adc.bits', 4).adc.bits).toBe(4);
    expect(applyOverrides(base, 'adc.range', 'full').adc.range).toBe('full');
    expect(applyOverrides(resolveConfig({}), 'dataflow', 'buffered').dataflow).toBe('buffered');
  });

  it('re-validates', () => {
    usageError(() => applyOverrides(base, 'adc.bits', 1), 'config: adc.bits:', '2–16');
    usageError(() => applyOverrides(base, 'adc.bits', '4'), 'config: adc.bits:', 'number');
    usageError(() => applyOverrides(base, 'dataflow', 'buffered'), 'config: weights.mapping:');
    usageError(() => applyOverrides(base, 'noise.read.model', 'x'), 'config: noise.read.model:');
    usageError(() => applyOverrides(base, 'seed', undefined), 'config: seed:');
  });

  it('rejects unknown paths, naming them', () => {
    usageError(() => applyOverrides(base, 'adc.bitz', 4), 'config: adc.bitz: unknown config path', 'adc.bits');
    usageError(() => applyOverrides(base, 'noise', 0), 'config: noise: unknown config path');
    usageError(() => applyOverrides(base, 'preset', 'ideal'), 'config: preset: unknown config path');
    usageError(() => applyOverrides(base, 'layers.fc1.noise.read.sigma', 0), 'config: layers.fc1.noise.read.sigma: unknown config path');
  });

  it('sets per-layer fields, including layer names with dots', () => {
    const c = applyOverrides(base, 'layers.features.0.adc.bits', 4);
    expect(c.layers).toEqual({ 'features.0': { adc: { bits: 4 } } });
    const d = applyOverrides(c, 'layers.features.0.digital', true);
    expect(d.layers).toEqual({ 'features.0': { adc: { bits: 4 }, digital: true } });
    usageError(() => applyOverrides(base, 'layers.fc.weights.bits', 1), 'config: layers.fc.weights.bits:');
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xbarsim-config-'));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads and resolves a JSON file', () => {
    const p = file('ok.json', JSON.stringify({ preset: 'prime', adc: { bits: 4 } }));
    const c = loadConfigFile(p);
    expect(c.preset).toBe('prime');
    expect(c.adc.bits).toBe(4);
    expect(c.array.rows).toBe(256);
  });

  it('a --preset flag is the base, the file overrides it, and the file preset is ignored', () => {
    const p = file('flag.json', JSON.stringify({ preset: 'isaac', adc: { bits: 4 } }));
    const c = loadConfigFile(p, 'neural-pim');
    expect(c.preset).toBe('neural-pim');
    expect(c.dataflow).toBe('analog-sa');
    expect(c.adc.bits).toBe(4);
  });

  it('missing file and bad JSON are one-line UsageErrors', () => {
    const missing = join(dir, 'missing.json');
    usageError(() => loadConfigFile(missing), `config file ${missing}`, 'not found');
    const bad = file('bad.json', '{ "adc": { "bits": 8, }\n}\n');
    usageError(() => loadConfigFile(bad), `config file ${bad}: invalid JSON: `);
  });

  it('config errors in the file are reported by field', () => {
    const p = file('badfield.json', JSON.stringify({ adc: { bits: 1 } }));
    usageError(() => loadConfigFile(p), 'config: adc.bits: must be 0 or an integer 2–16 (got 1)');
  });
});
