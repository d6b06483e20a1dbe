import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { attentionModel, base, checkAttention, type Case } from '../helpers/attention.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// ONNX Attention (opset 23/24) on the CPU oracle against the operator's definition
// (test/helpers/attention.ts): 3-D and 4-D inputs, grouped-query heads, cross attention, a past
// cache with bottom-right causal alignment, boolean and float masks (constant, padded to the keys,
// or from the data), softcap, scale, nonpad_kv_seqlen and every qk_matmul_output mode.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const check = (c: Case): Promise<void> => checkAttention(CPU, c);

describe('Attention', () => {
  it.each<[string, Case]>([
    ['4-D multi-head self attention', { rank: 4, ...base }],
    ['3-D inputs split by q_num_heads and kv_num_heads', { rank: 3, ...base }],
    ['grouped-query heads (4 query heads over 2)', { rank: 3, ...base, hq: 4 }],
    ['multi-query (3 query heads over 1), 4-D', { rank: 4, ...base, hq: 3, hkv: 1 }],
    ['cross attention (3 queries over 5 keys), causal from the top left', { rank: 4, ...base, sq: 3, causal: true }],
    ['a given scale and a softcap', { rank: 3, ...base, scale: 0.9, softcap: 1.5 }],
    ['a constant boolean mask one key short (padded with false)', { rank: 4, ...base, mask: 'const-bool' }],
    ['a constant float mask plus causal', { rank: 3, ...base, mask: 'const-float', causal: true }],
    ['a float mask from the data', { rank: 4, ...base, mask: 'data-float' }],
    ['a boolean mask from the data, softcapped', { rank: 3, ...base, mask: 'data-bool', softcap: 2 }],
  ])('%s', async (_what, c) => {
    await check(c);
  });

  it('appends a past cache, aligns causality bottom-right and returns present_key and present_value', async () => {
    await check({ rank: 4, ...base, sq: 2, s: 2, past: 3, causal: true, outputs: [0, 1, 2] });
    await check({ rank: 3, ...base, hq: 4, sq: 2, s: 2, past: 3, causal: true, outputs: [0, 1, 2] });
  });

  it.each([0, 1, 2, 3])('returns qk_matmul_output in mode %i', async (mode) => {
    await check({ rank: 4, ...base, mask: 'const-float', softcap: 1.2, mode, outputs: [0, 3] });
  });

  it('masks keys past nonpad_kv_seqlen per sample (opset 24), causal from the end of each', async () => {
    await check({ rank: 4, ...base, nonpad: true });
    await check({ rank: 3, ...base, sq: 2, nonpad: true, causal: true });
  });

  it('equals the opset-18 decomposition that PyTorch\'s torch.export-based exporter writes for F.scaled_dot_product_attention', async () => {
    // torchlib's _aten_scaled_dot_product_attention_no_mask_onnx: K transposed through a [batch·heads, S, d]
    // view (the batch merged), the scale computed from Q's shape, each side scaled by its square root.
    const [H, S, d] = [2, 4, 3];
    const i64 = (name: string, data: number[]) => ({ name, dims: [data.length], data: BigInt64Array.from(data.map(BigInt)) });
    const io = { inputs: [{ name: 'q', dims: ['batch', H, S, d] }], outputs: [{ name: 'y', dims: ['batch', H, S, d] }] };
    const decomposed = buildOnnxModel({
      opset: 18,
      ...io,
      initializers: [i64('last', [-1]), { name: 'one', dims: [], data: Float32Array.of(1) }, { name: 'p', dims: [], data: Float32Array.of(0) }],
      nodes: [
        { op: 'Shape', inputs: ['q'], outputs: ['k_last'], attrs: { start: -1 } },
        { op: 'Shape', inputs: ['q'], outputs: ['k_second_last'], attrs: { start: -2, end: -1 } },
        { op: 'Shape', inputs: ['q'], outputs: ['k_first'], attrs: { end: -2 } },
        { op: 'Concat', inputs: ['last', 'k_second_last', 'k_last'], outputs: ['squeezed_shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['q', 'squeezed_shape'], outputs: ['k_squeezed'] },
        { op: 'Transpose', inputs: ['k_squeezed'], outputs: ['k_squeezed_t'], attrs: { perm: [0, 2, 1] } },
        { op: 'Concat', inputs: ['k_first', 'k_last', 'k_second_last'], outputs: ['kt_shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['k_squeezed_t', 'kt_shape'], outputs: ['kt'] },
        { op: 'Shape', inputs: ['q'], outputs: ['q_shape'] },
        { op: 'Gather', inputs: ['q_shape', 'last'], outputs: ['e'] },
        { op: 'CastLike', inputs: ['e', 'q'], outputs: ['e_f'] },
        { op: 'Sqrt', inputs: ['e_f'], outputs: ['sqrt_e'] },
        { op: 'Div', inputs: ['one', 'sqrt_e'], outputs: ['scale'] },
        { op: 'Sqrt', inputs: ['scale'], outputs: ['root'] },
        { op: 'Mul', inputs: ['q', 'root'], outputs: ['q_scaled'] },
        { op: 'Mul', inputs: ['kt', 'root'], outputs: ['kt_scaled'] },
        { op: 'MatMul', inputs: ['q_scaled', 'kt_scaled'], outputs: ['scores'] },
        { op: 'Softmax', inputs: ['scores'], outputs: ['w'], attrs: { axis: -1 } },
        { op: 'Dropout', inputs: ['w', 'p'], outputs: ['w_d', 'mask'] },
        { op: 'MatMul', inputs: ['w_d', 'q'], outputs: ['y'] },
      ],
    });
    const fused = buildOnnxModel({ opset: 23, ...io, nodes: [{ op: 'Attention', inputs: ['q', 'q', 'q'], outputs: ['y'] }] });
    const x = randomArray(3 * H * S * d, 91, -2, 2);
    const [a, b] = [await digitalForward(CPU, decomposed, 'sdpa18.onnx', x, 3), await digitalForward(CPU, fused, 'attention.onnx', x, 3)];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
  });

  it('refuses what it cannot take in one line naming the node', () => {
    const prefix = /^attention\.onnx: node "Attention_\d+" \(Attention\): /;
    const bytes = (c: Case): Uint8Array => attentionModel(c);
    const noHeads = buildOnnxModel({
      opset: 23,
      inputs: [{ name: 'q', dims: ['batch', 4, 6] }],
      outputs: [{ name: 'y', dims: ['batch', 4, 6] }],
      nodes: [{ op: 'Attention', inputs: ['q', 'q', 'q'], outputs: ['y'] }],
    });
    const m1 = usageMessage(() => importOnnx(noHeads, 'attention.onnx'));
    expect(m1).toMatch(prefix);
    expect(m1).toMatch(/attribute "q_num_heads" is missing; 3-D Q, K and V need q_num_heads and kv_num_heads$/);
    const badGroups = usageMessage(() => importOnnx(bytes({ rank: 4, ...base, hq: 3, hkv: 2 }), 'attention.onnx'));
    expect(badGroups).toMatch(/3 query heads do not group over 2 key\/value heads/);
    const badMode = usageMessage(() => importOnnx(bytes({ rank: 4, ...base, mode: 7, outputs: [0, 3] }), 'attention.onnx'));
    expect(badMode).toMatch(/attribute "qk_matmul_output_mode" is 7; allowed: 0 \(QKᵀ\), 1 \(with the mask\), 2 \(after the softcap\), 3 \(after the softmax\)$/);
    const shortData = buildOnnxModel({
      opset: 23,
      inputs: [{ name: 'q', dims: ['batch', 2, 4, 3] }, { name: 'm', dims: ['batch', 1, 4, 3] }],
      outputs: [{ name: 'y', dims: ['batch', 2, 4, 3] }],
      nodes: [{ op: 'Attention', inputs: ['q', 'q', 'q', 'm'], outputs: ['y'] }],
    });
    expect(usageMessage(() => importOnnx(shortData, 'attention.onnx'))).toMatch(/attn_mask from the data has 3 keys for the 4 of K \(only a constant mask is padded to the keys\)$/);
  });
});
