import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../../src/io/npy.ts';

/** A fresh temp folder for one test. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xbarsim-test-'));
}

/** Writes a float .npy file and returns its path. */
export function writeNpy(dir: string, name: string, shape: number[], data: ArrayLike<number>, dtype: '<f4' | '<f8' = '<f4'): string {
  const p = join(dir, name);
  writeFileSync(p, encodeNpy(shape, dtype, data));
  return p;
}
