/**
 * The PyTorch recurrent exports of test/fixtures/torch-rnn (scripts/torch-rnn-fixture.py): each case's
 * model.onnx, its 4 samples (x.npy, and h0.npy, c0.npy for a model fed its initial state, packed per
 * sample in the network's input order) and PyTorch's outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readNpyFile } from '../../src/io/npy.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';

const DIR = 'test/fixtures/torch-rnn';

/** The case names (one folder each). */
export const RNN_CASES: string[] = readdirSync(DIR).sort();

/** One case: the imported network, its packed inputs (batch B) and PyTorch's outputs. */
export function rnnCase(name: string): { net: Network; x: Float32Array; y: Float32Array; B: number } {
  const net = importOnnx(new Uint8Array(readFileSync(`${DIR}/${name}/model.onnx`)), `${name}.onnx`);
  const inputs = net.inputs.map((v) => {
    const file = `${DIR}/${name}/${v.name}.npy`;
    if (!existsSync(file)) throw new Error(`${file} is missing`);
    return readNpyFile(file, v.name);
  });
  const B = inputs[0].shape[0];
  const per = inputs.map((a) => a.data.length / B);
  const x = new Float32Array(B * per.reduce((s, k) => s + k, 0));
  let o = 0;
  for (let b = 0; b < B; b++) {
    inputs.forEach((a, i) => {
      for (let j = 0; j < per[i]; j++) x[o++] = a.data[b * per[i] + j];
    });
  }
  const y = readNpyFile(`${DIR}/${name}/y.npy`, 'y');
  return { net, x, y: Float32Array.from(y.data), B };
}
