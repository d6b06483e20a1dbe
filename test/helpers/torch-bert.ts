/**
 * The BERT-style classifier of test/fixtures/torch-bert (scripts/torch-bert-fixture.py): three int64
 * inputs with dynamic batch and sequence axes, traced at length 16 and run at 11 (two sequences
 * padded), as a Hugging Face export is used. The inputs' shapes fix the sequence length at import.
 */
import { readInputs, inputShapesOf } from '../../src/io/datasets/eval-data.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import type { Network } from '../../src/ir/graph.ts';
import { loadModel } from '../../src/nn/load-model.ts';

const DIR = 'test/fixtures/torch-bert';
export const BERT_INPUTS = `${DIR}/inputs.npz`;
export const BERT_OPSETS = [14, 17] as const;

/** The export at `opset`. */
export const bertModel = (opset: (typeof BERT_OPSETS)[number]): string => `${DIR}/model-${opset}.onnx`;

/** The export imported at the inputs' sequence length, its packed inputs and PyTorch's logits. */
export function bertCase(opset: (typeof BERT_OPSETS)[number]): { net: Network; x: Float32Array; B: number; logits: Float32Array } {
  const net = loadModel(bertModel(opset), () => inputShapesOf(BERT_INPUTS, '--inputs'));
  const X = readInputs(BERT_INPUTS, '--inputs', net.input.shape, net.inputs);
  return { net, x: X.x, B: X.n, logits: Float32Array.from(readNpyFile(`${DIR}/logits.npy`, 'logits').data) };
}
