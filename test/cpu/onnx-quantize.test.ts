import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { LinearOp } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// QuantizeLinear / DequantizeLinear: ONNX Runtime's QDQ format (int8 weights through a
// DequantizeLinear) and PyTorch's fake-quantized activations, against the ONNX formulas written here.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const f32 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: Float32Array.from(v) });

async function run(bytes: Uint8Array, x: Float32Array, B: number): Promise<Float32Array> {
  const runner = openNetwork(CPU, importOnnx(bytes, 'q.onnx'), resolveConfig({ preset: 'ideal' }), true);
  return (await runner.forward(null, x, B, 0)).output;
}

/** ONNX QuantizeLinear of one value: x / scale rounded to even, plus the zero point, saturated. */
function q(x: number, scale: number, zero: number, lo: number, hi: number): number {
  const v = Math.fround(x / scale);
  const r = Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v);
  return Math.min(Math.max(r + zero, lo), hi);
}

describe('QuantizeLinear and DequantizeLinear', () => {
  it('an int8 weight read through a per-column DequantizeLinear folds into its crossbar layer; int8 activations quantize per tensor', async () => {
    const wq = Int8Array.from([-128, -3, 0, 5, 127, 64, -64, 1, 2, -7, 9, 100]);
    const wScale = [0.01, 0.02, 0.005].map(Math.fround);
    const nodes: BuildNode[] = [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['w'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['xd', 'w'], outputs: ['y'] },
    ];
    const init = [f32('xs', [0.05], []), { name: 'xz', dims: [], data: Int8Array.of(3) }, { name: 'wq', dims: [4, 3], data: wq }, f32('ws', wScale), { name: 'wz', dims: [3], data: new Int8Array(3) }];
    const bytes = buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: ['batch', 4] }], outputs: [{ name: 'y', dims: ['batch', 3] }], initializers: init, nodes });
    const net = importOnnx(bytes, 'q.onnx');
    const layer = net.ops.find((o): o is LinearOp => o.kind === 'linear')!;
    expect(Array.from(layer.weight)).toEqual(Array.from(wq, (v, i) => Math.fround(v * wScale[i % 3])));
    // Values on ties (2.5 and −3.5 steps) round to even; 7 and −7 saturate at 127 and −128.
    const x = Float32Array.from([0.125, -0.175, 7, -7, ...randomArray(12, 4)]);
    const y = await run(bytes, x, 4);
    const want = new Float32Array(12);
    for (let b = 0; b < 4; b++) {
      const xd = Array.from(x.subarray(b * 4, b * 4 + 4), (v) => (q(v, 0.05, 3, -128, 127) - 3) * Math.fround(0.05));
      for (let j = 0; j < 3; j++) want[b * 3 + j] = xd.reduce((s, v, k) => s + v * layer.weight[k * 3 + j], 0);
    }
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-6);
    expect(q(0.125, 0.05, 3, -128, 127)).toBe(5);
  });

  it('quantizes activations per channel (axis 1) into uint8 with zero points', async () => {
    const scale = [0.1, 0.25, 0.02].map(Math.fround);
    const zero = [0, 10, 128];
    const nodes: BuildNode[] = [
      { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['xq'], attrs: { axis: 1 } },
      { op: 'DequantizeLinear', inputs: ['xq', 's', 'z'], outputs: ['y'], attrs: { axis: 1 } },
    ];
    const bytes = buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: ['batch', 3, 2, 2] }], outputs: [{ name: 'y', dims: ['batch', 3, 2, 2] }], initializers: [f32('s', scale), { name: 'z', dims: [3], data: Uint8Array.from(zero) }], nodes });
    const x = Float32Array.from(randomArray(2 * 12, 5), (v) => v * 4);
    const y = await run(bytes, x, 2);
    const want = Float32Array.from(x, (v, i) => {
      const c = Math.floor(i / 4) % 3;
      return (q(v, scale[c], zero[c], 0, 255) - zero[c]) * scale[c];
    });
    expect(Array.from(y)).toEqual(Array.from(want));
  });

  it('refuses what it cannot express in one line naming the node', () => {
    const refusal = (init: BuildTensor[], attrs: Record<string, number> = {}): string =>
      usageMessage(() => importOnnx(buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: ['batch', 3] }], outputs: [{ name: 'y', dims: ['batch', 3] }], initializers: init, nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], name: 'q', attrs }] }), 'q.onnx'));
    const z8 = { name: 'z', dims: [], data: Int8Array.of(0) };
    expect(refusal([f32('s', [0], []), z8])).toBe('q.onnx: node "q" (QuantizeLinear): scale holds 0; every scale must be a positive number');
    expect(refusal([f32('s', [0.1], []), f32('z', [0], [])])).toBe('q.onnx: node "q" (QuantizeLinear): zero point is a float (float8 quantization is not supported)');
    expect(refusal([f32('s', [0.1, 0.2, 0.3]), { name: 'z', dims: [3], data: new Int8Array(3) }], { axis: 0 })).toBe('q.onnx: node "q" (QuantizeLinear): quantizes per element of the batch dimension (axis 0); only per-tensor or per-axis along a per-sample dim is supported');
    expect(refusal([f32('s', [0.1], []), { name: 'z', dims: [], data: BigInt64Array.of(0n) }])).toBe('q.onnx: node "q" (QuantizeLinear): zero point has type int64; uint8, int8, uint16 and int16 are supported');
  });
});
