import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// ReduceProd of activations (it folded on shape constants only before), axes as an attribute
// (opset 13) and as an input (opset 18), against the product written out.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 3;

async function run(opset: number, keepdims: number): Promise<{ x: Float32Array; y: Float32Array }> {
  const axesIn = opset >= 18;
  const bytes = buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', 4, 5] }],
    outputs: [{ name: 'y', dims: keepdims ? ['batch', 4, 1] : ['batch', 4] }],
    initializers: axesIn ? [{ name: 'axes', dims: [1], data: BigInt64Array.of(-1n) }] : [],
    nodes: [{ op: 'ReduceProd', inputs: axesIn ? ['x', 'axes'] : ['x'], outputs: ['y'], attrs: axesIn ? { keepdims } : { axes: [-1], keepdims } }],
  });
  const x = randomArray(B * 20, 4, 0.5, 1.5);
  const r = openNetwork(CPU, importOnnx(bytes, 'prod.onnx'), resolveConfig({ preset: 'ideal' }), true);
  const y = (await r.forward(null, x, B, 0)).output;
  r.destroy();
  return { x, y };
}

describe('ONNX ReduceProd of activations', () => {
  it.each([[13, 0], [13, 1], [18, 0]])('opset %d, keepdims %d: the product along the last axis', async (opset, keepdims) => {
    const { x, y } = await run(opset, keepdims);
    const want = Float32Array.from({ length: B * 4 }, (_, r) => x.subarray(r * 5, r * 5 + 5).reduce((p, v) => p * v, 1));
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-5);
  });
});
