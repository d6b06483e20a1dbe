import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { COUNT_NAMES, type EventCounts } from '../../src/crossbar/counts.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { countsOnlyLayers, runCostLayers } from '../../src/nn/cost.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { convBnModel, mlpModel, residualModel } from '../helpers/onnx-models.ts';
import { randomArray } from '../helpers/random.ts';

/**
 * Grouped and strided convolutions, pooling and two Gemms, every crossbar input after a ReLU except
 * the first: conv(4→6, 3×3, pad 1, 2 groups) → ReLU → conv(6→12, 3×3/2) → ReLU → max-pool 2 → Gemm 48→20 → ReLU → Gemm 20→5.
 */
function groupedModel(): Uint8Array {
  const t = (name: string, dims: number[], seed: number) => ({ name, dims, data: randomArray(dims.reduce((a, b) => a * b, 1), seed, -0.5, 0.5) });
  return buildOnnxModel({
    inputs: [{ name: 'x', dims: ['batch', 4, 9, 9] }],
    outputs: [{ name: 'y', dims: ['batch', 5] }],
    initializers: [t('w1', [6, 2, 3, 3], 1), t('w2', [12, 6, 3, 3], 2), t('w3', [20, 48], 3), t('b3', [20], 4), t('w4', [5, 20], 5)],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1'], outputs: ['c1'], name: 'conv1', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'], name: 'relu1' },
      { op: 'Conv', inputs: ['r1', 'w2'], outputs: ['c2'], name: 'conv2', attrs: { kernel_shape: [3, 3], strides: [2, 2] } },
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'], name: 'relu2' },
      { op: 'MaxPool', inputs: ['r2'], outputs: ['p'], name: 'pool', attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'], name: 'flatten', attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['f', 'w3', 'b3'], outputs: ['g'], name: 'fc1', attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['g'], outputs: ['rg'], name: 'relu3' },
      { op: 'Gemm', inputs: ['rg', 'w4'], outputs: ['y'], name: 'fc2', attrs: { transB: 1 } },
    ],
  });
}

const MODELS: { name: string; net: () => Network }[] = [
  { name: 'grouped', net: () => importOnnx(groupedModel(), 'grouped') },
  { name: 'residual', net: () => importOnnx(residualModel().bytes, 'residual') },
  { name: 'mlp', net: () => importOnnx(mlpModel().bytes, 'mlp') },
  { name: 'conv-bn', net: () => importOnnx(convBnModel().bytes, 'conv-bn') },
];

/** Every dataflow and signed mapping, and geometries with several row blocks, packed arrays, other cell and DAC widths. */
const CONFIGS: Record<string, XbarConfigInput> = {
  'digital-sa offset (isaac)': { preset: 'isaac' },
  'digital-sa differential, digital subtract': { preset: 'isaac', weights: { mapping: 'differential' }, adc: { subtract: 'digital' } },
  'digital-sa differential, analog subtract': { preset: 'isaac', weights: { mapping: 'differential' }, adc: { subtract: 'analog' } },
  'buffered (cascade)': { preset: 'cascade' },
  'analog-sa (neural-pim)': { preset: 'neural-pim' },
  'digital-sa, 1-bit cells, 7-bit ADC (isaac-style)': { preset: 'isaac-style' },
  'buffered, 1-bit cells, 10-bit ADC (cascade-style)': { preset: 'cascade-style' },
  'digital-sa offset, 8×20 arrays': { preset: 'isaac', array: { rows: 8, cols: 20 } },
  'buffered, 16×32 arrays, 3-bit cells, 2-bit DACs, 6-bit inputs': { preset: 'cascade', array: { rows: 16, cols: 32 }, weights: { cellBits: 3 }, inputs: { bits: 6, dacBits: 2 } },
  'analog-sa, 12×24 arrays, a layer at 4-bit weights': { preset: 'neural-pim', array: { rows: 12, cols: 24 }, layers: { '1': { weights: { bits: 4 } } } },
};

const B = 6;

async function fullRunCounts(net: Network, cfgIn: XbarConfigInput, x: Float32Array): Promise<EventCounts[]> {
  const cfg = resolveConfig(cfgIn);
  const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, cfg, false);
  await runner.calibrate(x, B);
  const chip = await runner.program(0);
  const r = await runner.forward(chip, x, B, 0);
  chip.release();
  return runner.layerNames.map((_, i) => runner.layerCounts(i, B, r.negVectors[i]));
}

describe('counts-only equals a full run', () => {
  for (const [label, cfgIn] of Object.entries(CONFIGS)) {
    it.each(MODELS.map((m) => [m.name, m]))(`${label}: %s`, async (_name, m) => {
      const net = m.net();
      const per = net.input.shape.reduce((a, b) => a * b, 1);
      const cfg = resolveConfig(cfgIn);
      // Inputs in [0, 1): every vector runs one pass; in [-1, -0.5): every first-layer vector has a negative entry.
      for (const [nonNegative, lo, hi] of [[true, 0, 1], [false, -1, -0.5]] as const) {
        const x = randomArray(B * per, 7, lo, hi);
        const full = await fullRunCounts(net, cfgIn, x);
        const only = countsOnlyLayers(net, cfg, nonNegative);
        expect(only).toHaveLength(full.length);
        only.forEach((l, i) => {
          for (const k of COUNT_NAMES) expect(k === 'arrays' ? l.counts[k] : l.counts[k] * B, `${l.name} ${k} (input ≥ 0: ${nonNegative})`).toBe(full[i][k]);
        });
        // A real run's counts give back the same passes and per-inference counts.
        const report = { layers: full.map((c, i) => ({ name: only[i].name, ...c })), total: full[0], vectors: B };
        runCostLayers(net, cfg, false, report).forEach((l, i) => {
          expect(l.passes).toBeCloseTo(only[i].passes, 12);
          for (const k of COUNT_NAMES) expect(l.counts[k]).toBeCloseTo(only[i].counts[k], 9);
        });
      }
    });
  }
});
