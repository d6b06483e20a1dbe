/**
 * Golden outputs (issue 11): fixed layers, models, configs, seeds and chips whose outputs must stay
 * bit-identical through refactors. Each case yields float32 outputs and event counts; the suite
 * hashes them and compares with test/golden/<backend>.json. Regenerate deliberately, after a change
 * that is meant to change results, with `GOLDEN_UPDATE=1 npx vitest run test/cpu/golden.test.ts
 * test/gpu/golden.test.ts`, and say why in the commit.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { problem } from './vmm-cases.ts';

/** Noise of every kind the engine models, so every stage is covered by the hashes. */
export const NOISY: XbarConfigInput = {
  noise: {
    programming: { sigma: 0.03 },
    read: { sigma: 0.02 },
    drift: { nu: 0.05, nuStd: 0.01, t: 1000, t0: 1, compensation: 'global' },
    stuckAt: { sa0: 0.002, sa1: 0.001 },
  },
  adc: { noise: 0.3 },
  analog: { gainSigma: 0.01, noise: 0.002 },
  seed: 11,
};

const VMM_CASES: [string, XbarConfigInput][] = [
  ['ideal', { preset: 'ideal' }],
  ['isaac', { preset: 'isaac', ...NOISY }],
  ['prime', { preset: 'prime', ...NOISY }],
  ['cascade', { preset: 'cascade', ...NOISY }],
  ['neural-pim', { preset: 'neural-pim', ...NOISY }],
  ['neural-pim proportional', { preset: 'neural-pim', ...NOISY, noise: { ...NOISY.noise, read: { sigma: 0.05, model: 'proportional' } } }],
  ['digital-sa analog subtract', { preset: 'cascade', dataflow: 'digital-sa', adc: { subtract: 'analog', bits: 7, range: 'full' }, noise: { read: { sigma: 0.02 } } }],
];

const NET_CASES: [string, string, XbarConfigInput][] = [
  ['mlp isaac', 'models/mlp.onnx', { preset: 'isaac', ...NOISY }],
  ['mlp neural-pim', 'models/mlp.onnx', { preset: 'neural-pim', ...NOISY }],
  ['lenet5 cascade', 'models/lenet5.onnx', { preset: 'cascade', ...NOISY }],
  ['lenet5 isaac per-layer', 'models/lenet5.onnx', { preset: 'isaac', noise: { read: { sigma: 0.02 } }, layers: { '0': { digital: true }, '2': { adc: { bits: 6 } } } }],
];

/** sha256 of a float32 array's bytes. */
export function hashF32(a: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

/** Every golden case's hash on `backend` (samples and calSamples: MNIST digits evaluated and calibrated on per network case). */
export async function goldenHashes(backend: Backend, samples: number, calSamples: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, over] of VMM_CASES) {
    const { W, X } = problem(150, 37, 19, true, 1234);
    for (const chip of [0, 2]) {
      const r = await simulateVmm(backend, resolveConfig(over), W, X, { chip });
      out[`vmm ${name} chip ${chip}`] = `${hashF32(r.Y)} ${JSON.stringify(r.counts)}`;
    }
  }
  for (const [name, model, over] of NET_CASES) {
    const net = loadModel(model);
    const cfg = resolveConfig(over);
    const data = mnistEvalData(net.input.shape, samples, calSamples);
    const runner = openNetwork(backend, net, cfg, false);
    try {
      await runner.calibrate(data.calibration!.x, data.calibration!.n);
      for (const chip of [0, 3]) {
        const handle = await runner.program(chip);
        const r = await runner.forward(handle, data.x, data.n, 0);
        handle.release();
        const ev = await evaluateChip(runner, data, chip, false, undefined, 7);
        out[`net ${name} chip ${chip}`] = `${hashF32(r.output)} ${ev.correct} ${JSON.stringify(ev.counts.total)}`;
      }
    } finally {
      runner.destroy();
    }
  }
  return out;
}

/** The stored hashes of `file` (null when the file or its `key` section is absent). */
export function storedGolden(file: string, key: string): Record<string, string> | null {
  if (!existsSync(file)) return null;
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  return all[key] ?? null;
}

/** Writes `hashes` under `key` of `file` when GOLDEN_UPDATE=1; returns whether it did. */
export function maybeUpdateGolden(file: string, key: string, hashes: Record<string, string>): boolean {
  if (process.env.GOLDEN_UPDATE !== '1') return false;
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>) : {};
  all[key] = hashes;
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  return true;
}
