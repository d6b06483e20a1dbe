/**
 * The PyTorch text classifier of test/fixtures/torch-text (scripts/torch-text-fixture.py): nn.Embedding,
 * nn.TransformerEncoder with nn.MultiheadAttention, exported with a symbolic and a static batch.
 */
import { readFileSync } from 'node:fs';
import type { Backend } from '../../src/gpu/backend.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';

const DIR = 'test/fixtures/torch-text';
export const TEXT_EXPORTS = ['text-dynamic', 'text-static'] as const;

/** The fixture's token ids [6, 12] and PyTorch's logits [6, 3]. */
export function textData(): { ids: Float32Array; logits: Float32Array; B: number } {
  const ids = readNpyFile(`${DIR}/ids.npy`, 'ids');
  const logits = readNpyFile(`${DIR}/logits.npy`, 'logits');
  return { ids: Float32Array.from(ids.data), logits: Float32Array.from(logits.data), B: ids.shape[0] };
}

/** One export imported. */
export function textNet(name: (typeof TEXT_EXPORTS)[number]): Network {
  return importOnnx(new Uint8Array(readFileSync(`${DIR}/${name}.onnx`)), `${name}.onnx`);
}

/** Noise-free crossbars at 16-bit weights and inputs: the analog path without quantization's error. */
export const IDEAL16 = resolveConfig({ preset: 'ideal', weights: { bits: 16 }, inputs: { bits: 16 } });

/** Logits of the first B sequences: in f32 (digital), or on chip 0 of IDEAL16 crossbars calibrated on all six. */
export async function textLogits(backend: Backend, net: Network, digital: boolean, B: number): Promise<Float32Array> {
  const { ids } = textData();
  const runner = openNetwork(backend, net, IDEAL16, digital);
  try {
    if (digital) return (await runner.forward(null, ids.subarray(0, B * 12), B, 0)).output;
    await runner.calibrate(ids, 6);
    const chip = await runner.program(0);
    return (await runner.forward(chip, ids.subarray(0, B * 12), B, 0)).output;
  } finally {
    runner.destroy();
  }
}
