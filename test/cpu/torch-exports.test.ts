import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { TORCH_CASES, runOn, torchCase } from '../helpers/torch-fixtures.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// PyTorch 1.13 exports that were refused before (test/fixtures/torch-exports, scripts/torch-exports-fixture.py):
// attention's merged-batch views, a seq-first encoder, a static class token, PixelShuffle, repeat,
// reshape(-1, C), std/var, F.normalize, logsumexp, interpolate(size=), LPPool, the ELU family, einsum.
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe.each(TORCH_CASES)('PyTorch export %s', (name) => {
  const c = torchCase(name);
  const scale = Math.max(maxAbs(c.y), 1e-6);

  it('matches PyTorch in f32', async () => {
    expect(maxAbsDiff(await runOn(CPU, c.net, IDEAL16, true, c.x, c.B), c.y)).toBeLessThan(1e-5 * scale);
  });
});

// The cases with layers on crossbars (the others have no analog path to compare).
const ANALOG = TORCH_CASES.filter((name) => torchCase(name).net.ops.some((o) => o.kind === 'linear' || o.kind === 'conv'));

describe.each(ANALOG)('PyTorch export %s on crossbars', (name) => {
  it('matches PyTorch on noise-free 16-bit crossbars', async () => {
    const c = torchCase(name);
    expect(maxAbsDiff(await runOn(CPU, c.net, IDEAL16, false, c.x, c.B), c.y)).toBeLessThan(2e-3 * Math.max(maxAbs(c.y), 1e-6));
  });
});
