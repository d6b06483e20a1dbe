import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { CONTRIB_CASES, lstmPair } from '../helpers/contrib-ops.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';
import { usageMessage } from '../helpers/errors.ts';
import { quantizedMismatches } from '../helpers/quantized-ops.ts';

// ONNX Runtime's contrib ops (com.microsoft) on the CPU oracle against their definitions
// (test/helpers/contrib-ops.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('ONNX Runtime contrib ops', () => {
  it.each(CONTRIB_CASES)('%s', async (_what, c) => {
    expect(await quantizedMismatches(CPU, c, 9, 2e-6)).toEqual([]);
  });

  it('DynamicQuantizeLSTM equals the LSTM of its dequantized, transposed weights', async () => {
    const pair = lstmPair();
    const x = randomArray(3 * pair.dims[0] * pair.dims[1], 167, -1, 1);
    const [q, f] = await Promise.all([pair.quantized, pair.float].map((m) => digitalForward(CPU, m, 'lstm.onnx', x, 3)));
    expect(q.length).toBe(3 * 4 * 2 * 2);
    expect(maxAbsDiff(q, f)).toBeLessThan(1e-6);
    expect(importOnnx(pair.quantized, 'q.onnx').ops.some((o) => o.kind === 'linear')).toBe(true);
  });

  it('puts MatMulNBits and QGemm weights on crossbars', () => {
    for (const name of ['MatMulNBits 4-bit, packed zero points (3 blocks), bias', 'QGemm, int8 per-column B, int32 C, quantized output']) {
      const net = importOnnx(CONTRIB_CASES.find(([w]) => w === name)![1].model, 'm.onnx');
      expect(net.ops.filter((o) => o.kind === 'linear').length).toBe(1);
    }
  });

  it('refuses an unknown contrib op, another domain, and what it cannot compute, in one line', () => {
    const one = (node: { op: string; domain?: string; inputs: string[]; outputs?: string[]; attrs?: Record<string, number> }, inits = [] as Parameters<typeof buildOnnxModel>[0]['initializers']) =>
      usageMessage(() => importOnnx(buildOnnxModel({ inputs: [{ name: 'x', dims: ['batch', 4] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers: inits, nodes: [{ outputs: ['y'], ...node }] }), 'm.onnx'));
    expect(one({ op: 'PackedMultiHeadAttention', domain: 'com.microsoft', inputs: ['x'] })).toMatch(/^m\.onnx: unsupported op "PackedMultiHeadAttention" of domain "com\.microsoft" at node "PackedMultiHeadAttention_0" \(supported there: Attention, BiasAdd, .*GroupQueryAttention, .*MatMulNBits, .*\)$/);
    expect(one({ op: 'Foo', domain: 'org.example', inputs: ['x'] })).toBe('m.onnx: node "Foo_0" (Foo) is in domain "org.example"; only the default ONNX domain and "com.microsoft" (ONNX Runtime\'s contrib ops) are supported');
    const b = { name: 'b', dims: [2, 1, 8], data: new Uint8Array(16) };
    const s = { name: 's', dims: [2, 1], data: new Float32Array(2).fill(1) };
    expect(one({ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'b', 's'], attrs: { K: 4, N: 2, bits: 3, block_size: 16 } }, [b, s])).toMatch(/attribute "bits" is 3; allowed: 2, 4, 8$/);
    expect(one({ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'b', 's'], attrs: { K: 4, N: 2, bits: 4, block_size: 12 } }, [b, s])).toMatch(/attribute "block_size" is 12; it must be a power of 2 of at least 16$/);
    expect(one({ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'b', 's'], attrs: { K: 4, N: 3, bits: 4, block_size: 16 } }, [b, s])).toMatch(/B has 16 bytes; N·ceil\(K\/block_size\)·block_size·bits\/8 = 24$/);
    expect(one({ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'b', 's'], attrs: { K: 4, N: 2, bits: 4, block_size: 16, weight_prepacked: 1 } }, [b, s])).toMatch(/attribute "weight_prepacked" is 1; only 0 \(the plain layout\) is supported$/);
    const f1 = { name: 'f1', dims: [], data: Float32Array.of(0.1) };
    expect(one({ op: 'QLinearSoftmax', domain: 'com.microsoft', inputs: ['x', 'f1', '', 'f1', 'z1'] }, [f1, { name: 'z1', dims: [], data: Uint8Array.of(0) }])).toMatch(/attribute "opset" \(the original Softmax's opset\) is missing; QLinearSoftmax requires it$/);
    expect(one({ op: 'QLinearConcat', domain: 'com.microsoft', inputs: ['f1', 'z1', 'x', 'f1', 'z1'] }, [f1, { name: 'z1', dims: [], data: Uint8Array.of(0) }])).toMatch(/attribute "axis" is missing; QLinearConcat requires it$/);
    expect(one({ op: 'QLinearSigmoid', domain: 'com.microsoft', inputs: ['x', 'f1', '', 'f1'] }, [f1])).toMatch(/no zero point is given, so the output's integer type \(uint8 or int8\) is unknown; give the output zero point$/);
    expect(one({ op: 'SkipLayerNormalization', domain: 'com.microsoft', inputs: ['x', 'x', 'g'], outputs: ['n', 'y'] }, [{ name: 'g', dims: [4], data: new Float32Array(4).fill(1) }])).toMatch(/its mean output "y" is used, which is not supported$/);
  });
});
