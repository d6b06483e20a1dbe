import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { TEXT_EXPORTS, textData, textLogits, textNet } from '../helpers/torch-text.ts';

// A PyTorch text transformer (nn.Embedding, nn.TransformerEncoder): its multi-head attention views
// [T, batch, D] as [T, batch·heads, d] and [T·batch, D], which the importer follows with a merged batch.
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe.each(TEXT_EXPORTS)('PyTorch nn.TransformerEncoder text classifier (%s export)', (name) => {
  const net = textNet(name);
  const { logits, B } = textData();

  it('imports every projection as a crossbar layer and attention as digital products', () => {
    const linear = net.ops.filter((o) => o.kind === 'linear');
    // Per layer: in_proj (3·16), out_proj, and the two feed-forward layers; then the head.
    expect(linear.map((o) => o.kind === 'linear' && [o.K, o.N])).toEqual([
      [16, 48], [16, 16], [16, 32], [32, 16], [16, 48], [16, 16], [16, 32], [32, 16], [16, 3],
    ]);
    expect(net.ops.filter((o) => o.kind === 'matmul')).toHaveLength(4);
    expect(net.ops.filter((o) => o.kind === 'lookup')).toHaveLength(1);
  });

  it('matches PyTorch in f32 and on noise-free 16-bit crossbars', async () => {
    const scale = maxAbs(logits);
    expect(maxAbsDiff(await textLogits(CPU, net, true, B), logits)).toBeLessThan(1e-5 * scale);
    expect(maxAbsDiff(await textLogits(CPU, net, false, B), logits)).toBeLessThan(1e-3 * scale);
  });

  it('gives each sequence the same logits at batch 1 and 6 (the batch stays apart through the merged views)', async () => {
    const six = await textLogits(CPU, net, false, 6);
    const one = await textLogits(CPU, net, false, 1);
    expect(Array.from(one)).toEqual(Array.from(six.subarray(0, 3)));
  });
});
