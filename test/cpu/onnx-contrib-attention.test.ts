import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { CONTRIB_ATTENTION_CASES } from '../helpers/contrib-attention.ts';
import { usageMessage } from '../helpers/errors.ts';
import { quantizedMismatches } from '../helpers/quantized-ops.ts';

// ONNX Runtime's fused attention ops on the CPU oracle against its CPU computation in f64
// (test/helpers/contrib-attention.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe("ONNX Runtime's Attention, MultiHeadAttention, GroupQueryAttention and EmbedLayerNormalization", () => {
  it.each(CONTRIB_ATTENTION_CASES)('%s', async (_what, c) => {
    expect(await quantizedMismatches(CPU, c, 5, 2e-6)).toEqual([]);
  });

  it('puts the packed Q/K/V projection on one crossbar layer', () => {
    const net = importOnnx(CONTRIB_ATTENTION_CASES[0][1].model, 'm.onnx');
    expect(net.ops.filter((o) => o.kind === 'linear').map((o) => (o.kind === 'linear' ? [o.K, o.N] : []))).toEqual([[6, 24]]);
  });

  it('refuses what it does not support, in one line', () => {
    const w = { name: 'w', dims: [4, 12], data: new Float32Array(48) };
    const one = (inputs: string[], attrs: Record<string, number>, outputs = ['y']) =>
      usageMessage(() => importOnnx(buildOnnxModel({ inputs: [{ name: 'x', dims: ['batch', 3, 4] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers: [w], nodes: [{ op: 'Attention', domain: 'com.microsoft', inputs, outputs, attrs }] }), 'm.onnx'));
    expect(one(['x', 'w', '', '', 'x'], { num_heads: 2 })).toMatch(/^m\.onnx: node "Attention_0" \(Attention\): a past state \(input 4, past_present_share_buffer\) is not supported/);
    expect(one(['x', 'w'], { num_heads: 2, do_rotary: 1 })).toMatch(/attribute "do_rotary" is 1; rotary embedding inside Attention is not supported/);
    expect(one(['x', 'w'], { num_heads: 0 })).toMatch(/attribute "num_heads" is 0; it must be a positive integer$/);
    expect(one(['x', 'w'], { num_heads: 3 })).toMatch(/do not split into Q, K and V of \[4, 4, 4\]/);
    expect(one(['x', 'w', '', 'x'], { num_heads: 2 })).toMatch(/mask_index "x" has per-sample shape \[3, 4\]; supported: \[\] \(lengths\), \[3\] \(a 0\/1 row over the keys\)/);
  });
});
