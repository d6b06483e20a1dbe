import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_FILE } from '../../src/sweep/results.ts';

/** A sweep folder's result lines without the fields allowed to differ between runs (time taken, adapter). */
export function comparableResults(dir: string): unknown[] {
  return readFileSync(join(dir, RESULTS_FILE), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      delete o.seconds;
      delete o.adapter;
      return o;
    });
}
