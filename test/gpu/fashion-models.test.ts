// The shipped Fashion-MNIST models on WebGPU (issue 12): PyTorch's logits in --digital mode, the ideal
// 8-bit preset within a point of digital, the GPU's predictions equal to the CPU oracle's on a noisy
// chip, and the transformer and the LSTM bit-identical at batch 1, 7 and 64.
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { FASHION_MODELS, type FashionModel, accuracyOf, checkBatchInvariance, checkDigitalMatchesTorch, fashionModel, fashionOutputs, noisyIsaac, predictions } from '../helpers/fashion-models.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const GPU = () => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }) as const;
const CPU = { kind: 'cpu', reason: 'test' } as const;
// Images per check, set by cost on CI's software adapter (lavapipe) and the CPU oracle: the CNN's
// convolutions cost ~1 s per image on a crossbar there, the transformer's 50 tokens × 17 layers with
// per-read noise seconds per image on the CPU. The closing note reports both on the whole test split.
// The LSTM's 28 steps are small matrices (28→256, 64→256): cheap on both.
const ACCURACY_IMAGES: Record<FashionModel, number> = { 'fmnist-mobilenet': 32, 'fmnist-vit': 256, 'fmnist-lstm': 256 };
const ORACLE_IMAGES: Record<FashionModel, number> = { 'fmnist-mobilenet': 8, 'fmnist-vit': 16, 'fmnist-lstm': 32 };

describe.skipIf(!gpu)('shipped Fashion-MNIST models on WebGPU', () => {
  it.each(FASHION_MODELS)('%s: --digital equals PyTorch’s f32 forward on the first 64 test images', { timeout: 300_000 }, (name) => checkDigitalMatchesTorch(GPU(), name));

  it.each(FASHION_MODELS)('%s: the ideal 8-bit preset is within 1 point of digital', { timeout: 600_000 }, async (name) => {
    const net = fashionModel(name);
    const n = ACCURACY_IMAGES[name];
    const digital = accuracyOf(await fashionOutputs(GPU(), net, null, n, 256), net, n);
    const ideal = accuracyOf(await fashionOutputs(GPU(), net, resolveConfig({ preset: 'ideal', calibration: { samples: 32 } }), n, 256), net, n);
    expect(Math.abs(ideal - digital), `digital ${digital}, ideal ${ideal}`).toBeLessThanOrEqual(0.01);
  });

  it.each(FASHION_MODELS)('%s: on a noisy ISAAC chip the GPU predicts what the CPU oracle predicts on ≥ 99.5% of the images', { timeout: 600_000 }, async (name) => {
    const net = fashionModel(name);
    const n = ORACLE_IMAGES[name];
    const g = predictions(await fashionOutputs(GPU(), net, noisyIsaac(), n, n, 2));
    const c = predictions(await fashionOutputs(CPU, net, noisyIsaac(), n, n, 2));
    expect(g.filter((p, i) => p === c[i]).length / n).toBeGreaterThanOrEqual(0.995);
  });

  it('fmnist-vit: bit-identical outputs at batch 1, 7 and 64 on a noisy ISAAC chip', { timeout: 600_000 }, () => checkBatchInvariance(GPU(), 'fmnist-vit'));
  // Each step's tied recurrent layer keys its reads apart: the batch still never changes a result.
  it('fmnist-lstm: bit-identical outputs at batch 1, 7 and 64 on a noisy ISAAC chip', { timeout: 600_000 }, () => checkBatchInvariance(GPU(), 'fmnist-lstm'));
});
