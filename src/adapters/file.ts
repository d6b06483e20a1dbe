/** Adapter set files on disk (Node): read and parsed with one-line errors, written atomically. */
import { readFileSync } from 'node:fs';
import { UsageError, messageOf } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { encodeAdapterJson, encodeAdapterNpz, parseAdapterFile, type AdapterSet } from './set.ts';

/** Reads an adapter set (.npz or .json); `flag` names it in errors. */
export function readAdapterFile(path: string, flag = '--adapters'): AdapterSet {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot read: ${messageOf(e)}`);
  }
  return parseAdapterFile(path, bytes);
}

/** Writes a set as .npz or .json by the path's extension (temp file and rename). */
export function writeAdapterFile(path: string, set: AdapterSet): void {
  if (path.endsWith('.npz')) writeFileAtomic(path, encodeAdapterNpz(set), path);
  else if (path.endsWith('.json')) writeFileAtomic(path, encodeAdapterJson(set), path);
  else throw new UsageError(`--out ${path}: unknown file type (allowed: .npz, .json)`);
}
