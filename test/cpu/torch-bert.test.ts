import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy.ts';
import { runMain } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { BERT_INPUTS, BERT_OPSETS, bertCase, bertModel } from '../helpers/torch-bert.ts';
import { runOn } from '../helpers/torch-fixtures.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// A BERT-style export with dynamic batch and sequence axes (Hugging Face's layout: input_ids,
// attention_mask, token_type_ids), refused before as "symbolic dim 1": the inputs' shape fixes it.
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe.each(BERT_OPSETS)('BERT-style export with a dynamic sequence length (opset %i)', (opset) => {
  it('`xbarsim run --inputs inputs.npz` runs it at the archive\'s length and matches PyTorch in f32', async () => {
    const out = join(tempDir(), 'logits.npy');
    const r = await runMain(['run', '--model', bertModel(opset), '--inputs', BERT_INPUTS, '--digital', '--out', out, '--backend', 'cpu']);
    expect(r.code, r.ownStderrLines.join('\n')).toBe(0);
    const y = parseNpy(readFileSync(out), out);
    const { logits } = bertCase(opset);
    expect(y.shape).toEqual([3, 3]);
    expect(maxAbsDiff(Float32Array.from(y.data), logits)).toBeLessThan(1e-5 * maxAbs(logits));
  });

  it('imports the sequence length 11, every projection as a crossbar layer, and matches PyTorch on noise-free 16-bit crossbars', async () => {
    const c = bertCase(opset);
    expect(c.net.inputs.map((v) => [v.name, v.shape])).toEqual([['input_ids', [11]], ['attention_mask', [11]], ['token_type_ids', [11]]]);
    // Per layer q, k, v, o and the two feed-forward layers; then the pooler and the classifier.
    expect(c.net.ops.filter((o) => o.kind === 'linear')).toHaveLength(14);
    expect(maxAbsDiff(await runOn(CPU, c.net, IDEAL16, false, c.x, c.B), c.logits)).toBeLessThan(2e-3 * maxAbs(c.logits));
  });
});
