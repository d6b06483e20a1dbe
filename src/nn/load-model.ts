import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { decodeModel } from '../io/onnx/decode.ts';
import type { ExternalDataReader } from '../io/onnx/external.ts';
import { importOnnx, type ImportOptions } from '../io/onnx/import.ts';
import type { Network } from '../ir/graph.ts';

/** Why a file could not be read, in a few words (Node's error code). */
function readProblem(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  return code === 'ENOENT' ? 'file not found' : code || String(e);
}

/** Reads the external data files of the model at `path` from its folder, as ONNX places them. */
export function externalDataBeside(path: string): ExternalDataReader {
  return (location) => {
    const file = join(dirname(path), location);
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${file}: ${readProblem(e)}`);
    }
  };
}

/**
 * Reads and imports an ONNX model file (and its external data files); every problem is a one-line
 * UsageError naming the file. `inputShapes` fix the model's symbolic per-sample dims (ImportOptions).
 */
export function loadModel(path: string, inputShapes?: ImportOptions['inputShapes']): Network {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`--model ${path}: cannot read (${readProblem(e)})`);
  }
  return importOnnx(bytes, path, { externalData: externalDataBeside(path), inputShapes });
}

/**
 * sha256 (hex) of what a model's results depend on: the file's bytes and, when its tensors keep data
 * in external files, each of those files' names and bytes. A model without external data (or one
 * that does not decode) gets the plain sha256 of its file.
 */
export function modelDigest(path: string): string {
  const bytes = readFileSync(path);
  const files = new Map<string, Uint8Array>();
  const read = externalDataBeside(path);
  try {
    // decodeModel reads each data file once, whatever the number of tensors in it.
    decodeModel(bytes, path, (location) => {
      const data = read(location);
      files.set(location, data);
      return data;
    });
  } catch {
    // Not a model, or its data files cannot be read: importing it says why; the digest is the file's.
    files.clear();
  }
  const h = createHash('sha256').update(bytes);
  for (const [location, data] of files) h.update(`\0${location}\0`).update(data);
  return h.digest('hex');
}
