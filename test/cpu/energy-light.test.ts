import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { energyReport } from '../../src/cli/energy.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { COUNT_NAMES } from '../../src/crossbar/counts.ts';
import { countsOnlyNetwork, type ShapeLayer } from '../../src/energy/layers.ts';
import { builtInNetwork, type NetworkName } from '../../src/energy/networks/index.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { countsOnlyLayers, shapeNetworkOf } from '../../src/nn/cost.ts';

const LIGHT = '../shared/onnx-conformance/light';

/** The onnx light models (ONNX model zoo networks, initializers replaced by ConstantOfShape) and the built-in network each one is. */
const PAIRS: readonly [string, NetworkName][] = [
  ['light_bvlc_alexnet.onnx', 'alexnet'],
  ['light_vgg19.onnx', 'vgg19'],
  ['light_resnet50.onnx', 'resnet50'],
  ['light_inception_v1.onnx', 'googlenet'],
];

/** A layer's shape, independent of its name and position (the two definitions name and order branches differently). */
const key = (l: ShapeLayer): string => `${l.K}x${l.N}x${l.groups}@${l.vectorsPerSample}${l.inputNonNegative ? '+' : '±'}`;

describe('the light models have the built-in networks\' shapes and counts', () => {
  it.each(PAIRS)('%s is %s', (file, name) => {
    const net = importOnnx(readFileSync(`${LIGHT}/${file}`), file);
    const built = builtInNetwork(name);
    expect(net.input.shape).toEqual(built.inputShape);
    const cfg0 = resolveConfig({}, { preset: 'isaac' });
    const imported = shapeNetworkOf(net, file, false, cfg0);
    expect(imported.layers.map(key).sort()).toEqual(built.layers.map(key).sort());
    for (const preset of ['isaac', 'cascade', 'neural-pim']) {
      const cfg = resolveConfig({}, { preset });
      const a = countsOnlyLayers(net, cfg, false);
      const b = countsOnlyNetwork(built, cfg);
      for (const k of COUNT_NAMES) expect(a.reduce((s, l) => s + l.counts[k], 0), `${preset} ${k}`).toBe(b.reduce((s, l) => s + l.counts[k], 0));
    }
    const r = energyReport({ model: `${LIGHT}/${file}`, inputSign: 'signed', json: true });
    const s = energyReport({ network: name, inputSign: 'signed', json: true });
    r.presets.forEach((p, i) => expect(p.energyPerInference_J / s.presets[i].energyPerInference_J).toBeCloseTo(1, 12));
  });
});
