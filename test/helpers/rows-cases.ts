/**
 * A crossbar linear layer over T rows per sample (a transformer's tokens, ConvTranspose's pixels)
 * against the same layer over B·T one-row samples: the crossbar sees the same vectors in the same
 * order, so with read noise on, outputs and event counts must be identical bit for bit.
 */
import { expect } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { randomArray } from './random.ts';

const T = 5;
const K = 24;
const N = 12;

function model(rows: boolean): Uint8Array {
  return buildOnnxModel({
    opset: 17,
    inputs: [{ name: 'x', dims: rows ? ['B', T, K] : ['BT', K] }],
    outputs: [{ name: 'y', dims: rows ? ['B', T, N] : ['BT', N] }],
    initializers: [{ name: 'w', dims: [K, N], data: randomArray(K * N, 41) }, { name: 'b', dims: [N], data: randomArray(N, 42, -0.1, 0.1) }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'Add', inputs: ['h', 'b'], outputs: ['y'] }],
  });
}

/** Runs both forms on `backend` under isaac with read noise; expects identical outputs and counts. */
export async function checkRowsEqualSamples(backend: Backend): Promise<void> {
  const cfg = resolveConfig({ preset: 'isaac', noise: { read: { sigma: 0.03 }, programming: { sigma: 0.02 } }, seed: 5 });
  const B = 9;
  const x = randomArray(B * T * K, 43);
  const cal = randomArray(4 * T * K, 44);
  const results = [];
  for (const rows of [true, false]) {
    const net = importOnnx(model(rows), rows ? 'rows.onnx' : 'samples.onnx');
    const samples = rows ? B : B * T;
    const runner = openNetwork(backend, net, cfg, false);
    try {
      await runner.calibrate(cal, rows ? 4 : 4 * T);
      const chip = await runner.program(2);
      const r = await runner.forward(chip, x, samples, 0);
      results.push({ y: r.output, counts: runner.layerCounts(0, samples, r.negVectors[0]), sx: runner.scales[0].sx });
      chip.release();
    } finally {
      runner.destroy();
    }
  }
  expect(results[0].sx).toBe(results[1].sx);
  expect(Array.from(results[0].y)).toEqual(Array.from(results[1].y));
  expect(results[0].counts).toEqual(results[1].counts);
}
