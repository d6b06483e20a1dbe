import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { usageMessage } from '../helpers/errors.ts';
import { QUANTIZED_CASES, quantizedMismatches } from '../helpers/quantized-ops.ts';

// QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger and DynamicQuantizeLinear on the CPU oracle
// against their integer definitions (test/helpers/quantized-ops.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('ONNX Runtime integer formats', () => {
  it.each(QUANTIZED_CASES)('%s', async (_what, c) => {
    expect(await quantizedMismatches(CPU, c, 9, 1e-6)).toEqual([]);
  });

  it('refuses what it cannot represent, in one line', () => {
    const w = { name: 'w', dims: [4, 3], data: Int8Array.from({ length: 12 }, (_, i) => i - 6) };
    const message = (node: { op: string; inputs: string[] }, inputs: { name: string; dims: (number | string)[] }[]) =>
      usageMessage(() => importOnnx(buildOnnxModel({ inputs, outputs: [{ name: 'y', dims: ['batch'] }], initializers: [w, { name: 'xs', dims: [2], data: Float32Array.of(0.1, 0.2) }, { name: 'xz', dims: [2], data: Uint8Array.of(1, 2) }, { name: 'one', dims: [], data: Float32Array.of(1) }, { name: 'z', dims: [], data: Uint8Array.of(0) }], nodes: [{ ...node, outputs: ['y'] }] }), 'm.onnx'));
    expect(message({ op: 'MatMulInteger', inputs: ['x', 'b'] }, [{ name: 'x', dims: ['batch', 4] }, { name: 'b', dims: ['batch', 4, 3] }])).toMatch(/^m\.onnx: node "MatMulInteger_0" \(MatMulInteger\): B "b" must be a constant \(an initializer\), not an activation$/);
    // A per-row a_scale of a [batch, K] activation is one scale per sample.
    expect(message({ op: 'QLinearMatMul', inputs: ['x', 'xs', 'xz', 'w', 'one', 'z', 'one', 'z'] }, [{ name: 'x', dims: ['batch', 4] }])).toMatch(/node "QLinearMatMul_0\/a" \(DequantizeLinear\): quantizes per element of the batch dimension/);
    const ys = { name: 'ys', dims: [3], data: Float32Array.of(0.1, 0.2, 0.3) };
    expect(usageMessage(() => importOnnx(buildOnnxModel({ inputs: [{ name: 'x', dims: ['batch', 4] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers: [w, ys, { name: 'one', dims: [], data: Float32Array.of(1) }, { name: 'z', dims: [], data: Uint8Array.of(0) }], nodes: [{ op: 'QLinearMatMul', inputs: ['x', 'one', 'z', 'w', 'one', 'z', 'ys', 'z'], outputs: ['y'] }] }), 'm.onnx'))).toMatch(/y_scale has dims \[3\]; it must be a scalar \(per tensor\)$/);
    expect(message({ op: 'ConvInteger', inputs: ['x', 'w', 'xz'] }, [{ name: 'x', dims: ['batch', 2, 3, 3] }])).toMatch(/x_zero_point has 2 values; ConvInteger takes one \(per tensor\)$/);
  });
});
