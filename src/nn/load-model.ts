import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { importOnnx } from '../io/onnx/import.ts';
import type { Network } from '../ir/graph.ts';

/** Reads and imports an ONNX model file; every problem is a one-line UsageError naming the file. */
export function loadModel(path: string): Network {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
    throw new UsageError(`--model ${path}: cannot read (${code === 'ENOENT' ? 'file not found' : code || String(e)})`);
  }
  return importOnnx(bytes, path);
}
