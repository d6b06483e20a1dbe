/**
 * The PyTorch exports of test/fixtures/torch-exports (scripts/torch-exports-fixture.py): each case's
 * model.onnx, its 4 inputs and PyTorch's outputs, run through xbarsim in f32 or on crossbars.
 */
import { readdirSync } from 'node:fs';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import type { Network } from '../../src/ir/graph.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';

const DIR = 'test/fixtures/torch-exports';

/** The case names (one folder each). */
export const TORCH_CASES: string[] = readdirSync(DIR).sort();

/** The quantized models of test/fixtures/torch-quantized (scripts/torch-quantized-fixture.py), read with torchCase(name, QUANTIZED_DIR). */
export const QUANTIZED_DIR = 'test/fixtures/torch-quantized';
export const QUANTIZED_CASES: string[] = readdirSync(QUANTIZED_DIR).sort();

/** One case: the imported network, its inputs (batch B) and PyTorch's outputs. */
export function torchCase(name: string, dir = DIR): { net: Network; x: Float32Array; y: Float32Array; B: number } {
  const x = readNpyFile(`${dir}/${name}/x.npy`, 'x');
  // As the CLI does, the inputs' shape fixes the dims an export left dynamic (height, width, sequence).
  const net = loadModel(`${dir}/${name}/model.onnx`, { '': x.shape.slice(1) });
  const y = readNpyFile(`${dir}/${name}/y.npy`, 'y');
  return { net, x: Float32Array.from(x.data), y: Float32Array.from(y.data), B: x.shape[0] };
}

/** Outputs of `net` on `x` (B samples): in f32 (digital), or on chip 0 of `cfg` calibrated on x. */
export async function runOn(backend: Backend, net: Network, cfg: XbarConfig, digital: boolean, x: Float32Array, B: number): Promise<Float32Array> {
  const runner = openNetwork(backend, net, cfg, digital);
  try {
    if (digital) return (await runner.forward(null, x, B, 0)).output;
    await runner.calibrate(x, B);
    return (await runner.forward(await runner.program(0), x, B, 0)).output;
  } finally {
    runner.destroy();
  }
}
