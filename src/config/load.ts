import { readFileSync } from 'node:fs';
import { UsageError, messageOf } from '../errors.ts';
import { resolveConfig } from './schema.ts';
import type { XbarConfig } from './types.ts';

/**
 * Reads a JSON config file and resolves it (Node only). With `presetFlag` (the `--preset` flag),
 * that preset is the base and the file's fields override it; the file's own `preset` field is
 * then ignored (the flag wins). Throws a one-line UsageError for a missing or unreadable file,
 * invalid JSON, or any config problem.
 */
export function loadConfigFile(path: string, presetFlag?: string): XbarConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`config file ${path}: not found`);
    if (code === 'EISDIR') throw new UsageError(`config file ${path}: is a directory`);
    throw new UsageError(`config file ${path}: cannot read: ${messageOf(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`config file ${path}: invalid JSON: ${messageOf(e)}`);
  }
  return resolveConfig(json, presetFlag === undefined ? {} : { preset: presetFlag });
}
