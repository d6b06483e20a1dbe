import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that `dir` can be a sweep output folder without creating anything: an existing
 * writable folder, or a new name in an existing writable folder (parents are not created, so a
 * typo does not grow a tree of folders).
 */
export function checkOutDir(dir: string, flag = '--out'): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new UsageError(`${flag} ${dir}: is a file, not a folder`);
    if (!writable(abs)) throw new UsageError(`${flag} ${dir}: folder is not writable`);
    return;
  }
  const parent = dirname(abs);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`${flag} ${dir}: folder ${parent} does not exist`);
  if (!writable(parent)) throw new UsageError(`${flag} ${dir}: cannot create it, folder ${parent} is not writable`);
}
