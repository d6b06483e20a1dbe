/**
 * The shipped Fashion-MNIST models (models/fmnist-*.onnx, trained and exported by
 * scripts/train-fashion.py with torch.onnx.export) and the checks issue 12 asks of them, shared by the
 * CPU and GPU suites: the digital forward reproduces PyTorch's logits, the ideal 8-bit preset stays
 * within a point of digital, and a noisy chip gives the same outputs at every batch size.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { fashionMnistEvalData, type EvalData } from '../../src/io/datasets/eval-data.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import type { Network } from '../../src/ir/graph.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';

export const FASHION_MODELS = ['fmnist-mobilenet', 'fmnist-vit', 'fmnist-lstm'] as const;
export type FashionModel = (typeof FASHION_MODELS)[number];

/** The shipped model (a missing file fails the suite with the command that writes it). */
export function fashionModel(name: FashionModel): Network {
  const path = `models/${name}.onnx`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run train:fashion`);
  return loadModel(path);
}

/**
 * A noisy chip: ISAAC 8-bit settings with 2% read noise (issue 12's closing-note config), calibrated
 * on 32 training images: the CPU oracle's calibrated ADC ranges run every calibration image through
 * the crossbar model, which at the default 256 would dominate a CPU test of the transformer.
 */
export function noisyIsaac(): XbarConfig {
  return resolveConfig({ preset: 'isaac', noise: { read: { sigma: 0.02 } }, calibration: { samples: 32 } });
}

/** The first `n` Fashion-MNIST test images, calibrated on the first calibration.samples training images. */
export function fashionData(net: Network, n: number, cfg: XbarConfig): EvalData {
  return fashionMnistEvalData(net.input.shape, n, cfg.calibration.samples, 10);
}

/** Outputs of the first `n` test images on chip `chip` (null: --digital), in batches of `batch`. */
export async function fashionOutputs(backend: Backend, net: Network, cfg: XbarConfig | null, n: number, batch: number, chip = 0): Promise<Float32Array> {
  const c = cfg ?? resolveConfig({ preset: 'ideal' });
  const data = fashionData(net, n, c);
  const runner = openNetwork(backend, net, c, cfg === null);
  try {
    if (cfg !== null) await runner.calibrate(data.calibration!.x, data.calibration!.n);
    const handle = cfg === null ? null : await runner.program(chip);
    try {
      const out = new Float32Array(n * 10);
      for (let s = 0; s < n; s += batch) {
        const B = Math.min(batch, n - s);
        const y = (await runner.forward(handle, data.x.subarray(s * data.sampleSize, (s + B) * data.sampleSize), B, s)).output;
        out.set(y, s * 10);
      }
      return out;
    } finally {
      handle?.release();
    }
  } finally {
    runner.destroy();
  }
}

/** Predicted class of each row of 10 logits (first on ties). */
export function predictions(y: Float32Array): number[] {
  const p: number[] = [];
  for (let r = 0; r < y.length / 10; r++) {
    let best = 0;
    for (let i = 1; i < 10; i++) if (y[r * 10 + i] > y[r * 10 + best]) best = i;
    p.push(best);
  }
  return p;
}

/** Share of the first n test images classified correctly. */
export function accuracyOf(y: Float32Array, net: Network, n: number): number {
  const labels = fashionData(net, n, resolveConfig({ preset: 'ideal' })).labels;
  return predictions(y).filter((p, i) => p === labels[i]).length / n;
}

/** The digital forward equals PyTorch's logits of the first test images (the fixture the training script saved). */
export async function checkDigitalMatchesTorch(backend: Backend, name: FashionModel): Promise<void> {
  const net = fashionModel(name);
  const torch = readNpyFile(`test/fixtures/${name}-logits.npy`, 'fixture');
  const n = torch.shape[0];
  const got = await fashionOutputs(backend, net, null, n, 32);
  let max = 0;
  let diff = 0;
  for (let i = 0; i < got.length; i++) {
    max = Math.max(max, Math.abs(torch.data[i]));
    diff = Math.max(diff, Math.abs(got[i] - torch.data[i]));
  }
  // f32 forward passes that sum in different orders: a relative 1e-4 of the logit range, as the other shipped models.
  expect(diff, `${name}: max |xbarsim − PyTorch|`).toBeLessThanOrEqual(1e-4 * max);
  expect(predictions(got)).toEqual(predictions(Float32Array.from(torch.data)));
}

/** Outputs at batch sizes 1, 7 and 64 on one noisy chip are bit-identical (per-read noise is keyed by sample position). */
export async function checkBatchInvariance(backend: Backend, name: FashionModel, n = 64): Promise<void> {
  const net = fashionModel(name);
  const cfg = noisyIsaac();
  const ref = await fashionOutputs(backend, net, cfg, n, 64, 3);
  for (const batch of [1, 7]) expect(Array.from(await fashionOutputs(backend, net, cfg, n, batch, 3)), `${name} batch ${batch}`).toEqual(Array.from(ref));
}
