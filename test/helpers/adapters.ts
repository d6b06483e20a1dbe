// Shared adapter checks run on both backends (test/cpu/adapters.test.ts, test/gpu/adapters.test.ts).
import { expect } from 'vitest';
import { newAdapter, type AdapterSet } from '../../src/adapters/set.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import type { LinearOp } from '../../src/ir/graph.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';

export const MLP = 'models/mlp.onnx';
/** One input cycle, one 8-bit slice and an 8-bit ADC: a chip the CPU reference runs fast. */
export const FAST = { preset: 'prime', inputs: { dacBits: 8 }, weights: { cellBits: 8, mapping: 'differential' }, adc: { bits: 8 } } as const;
/** FAST with programming and read noise, so every read differs. */
export const NOISY = { ...FAST, noise: { programming: { sigma: 0.03 }, read: { sigma: 0.01 } }, seed: 5 } as const;

/** An adapter on every linear layer of the MLP: random A, B zero (`bScale` 0) or random. */
export function mlpAdapters(rank: number, bScale: number, seed: number): AdapterSet {
  const net = loadModel(MLP);
  const rng = new Prng(seed);
  const set: AdapterSet = new Map();
  for (const op of net.ops) {
    if (op.kind !== 'linear') continue;
    const l = op as LinearOp;
    const a = newAdapter(l.K, l.N, rank, 16, () => (2 * rng.uniform() - 1) * 0.05);
    if (bScale !== 0) for (let i = 0; i < a.B.length; i++) a.B[i] = (2 * rng.uniform() - 1) * bScale;
    set.set(l.name, a);
  }
  return set;
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/**
 * Zero-B adapters leave every output bit-identical, on a programmed noisy chip and in --digital; a
 * non-zero set changes them, and switching back (no reprogramming) restores them bit for bit.
 */
export async function checkZeroBAndSwitching(backend: Backend): Promise<void> {
  const net = loadModel(MLP);
  const data = mnistEvalData(net.input.shape, 24, 32);
  for (const digital of [false, true]) {
    const runner = openNetwork(backend, net, resolveConfig(NOISY), digital);
    try {
      if (!digital) await runner.calibrate(data.calibration!.x, data.calibration!.n);
      const chip = digital ? null : await runner.program(2);
      const plain = (await runner.forward(chip, data.x, data.n, 0)).output;
      runner.setAdapters(mlpAdapters(4, 0, 1));
      const zero = (await runner.forward(chip, data.x, data.n, 0)).output;
      expect(bits(zero)).toEqual(bits(plain));
      runner.setAdapters(mlpAdapters(4, 0.05, 2));
      const other = (await runner.forward(chip, data.x, data.n, 0)).output;
      expect(bits(other)).not.toEqual(bits(plain));
      runner.setAdapters(null);
      expect(bits((await runner.forward(chip, data.x, data.n, 0)).output)).toEqual(bits(plain));
      chip?.release();
    } finally {
      runner.destroy();
    }
  }
}
