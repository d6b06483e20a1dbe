// The shipped Fashion-MNIST models on the CPU reference (issue 12): PyTorch's own export imports and
// reproduces PyTorch's logits. The noisy-chip checks (GPU = CPU, batch invariance) are in
// test/gpu/fashion-models.test.ts, where the CPU oracle is the reference.
import { describe, it } from 'vitest';
import { FASHION_MODELS, checkDigitalMatchesTorch } from '../helpers/fashion-models.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

describe('shipped Fashion-MNIST models on the CPU reference', () => {
  it.each(FASHION_MODELS)('%s: --digital equals PyTorch’s f32 forward on the first 64 test images', { timeout: 300_000 }, (name) => checkDigitalMatchesTorch(CPU, name));
});
