import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { usageMessage } from '../helpers/errors.ts';
import { ROTARY_CASES, rotaryError, rotaryModel } from '../helpers/rotary.ts';

// RotaryEmbedding (opset 23) on the CPU oracle against its definition (test/helpers/rotary.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('RotaryEmbedding', () => {
  it.each(ROTARY_CASES)('%s', async (_what, c) => {
    expect(await rotaryError(CPU, c, 3)).toBeLessThan(2e-6);
  });

  it('refuses an odd or too wide rotary_embedding_dim and caches of the wrong width in one line', () => {
    const prefix = 'rope.onnx: node "RotaryEmbedding_\\d+" \\(RotaryEmbedding\\): ';
    expect(usageMessage(() => importOnnx(rotaryModel({ rank: 4, s: 3, heads: 2, head: 6, rot: 8, positions: 'data' }), 'rope.onnx'))).toMatch(new RegExp(`^${prefix}attribute "rotary_embedding_dim" is 8; it must be even and at most the head size 6$`));
    expect(usageMessage(() => importOnnx(rotaryModel({ rank: 4, s: 3, heads: 2, head: 6, rot: 3, cacheRot: 2, positions: 'data' }), 'rope.onnx'))).toMatch(/"rotary_embedding_dim" is 3; it must be even/);
    expect(usageMessage(() => importOnnx(rotaryModel({ rank: 3, s: 3, heads: 2, head: 6, rot: 4, cacheRot: 6, positions: 'data' }), 'rope.onnx'))).toMatch(new RegExp(`^${prefix}cos_cache "cos" has 3 entries per position; rotating 4 features needs 2$`));
  });
});
