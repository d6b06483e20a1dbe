import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TuningEntry, TuningStore } from './tuning.ts';

/** The tuning cache folder (Node): $XBARSIM_TUNING_DIR, else $XDG_CACHE_HOME/xbarsim, else ~/.cache/xbarsim. */
export function tuningCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XBARSIM_TUNING_DIR) return env.XBARSIM_TUNING_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'xbarsim');
}

/**
 * Tuning results in `dir`/tuning.json, one entry per adapter key. An unreadable or corrupt file reads as
 * empty; an unwritable folder makes the store read-only (set returns false, nothing is thrown).
 */
export function fileTuningStore(dir: string = tuningCacheDir()): TuningStore {
  const file = join(dir, 'tuning.json');
  const load = (): Record<string, TuningEntry> => {
    try {
      const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, TuningEntry>) : {};
    } catch {
      return {};
    }
  };
  return {
    where: file,
    get: (key) => load()[key] ?? null,
    set(key, e) {
      try {
        mkdirSync(dir, { recursive: true });
        const all = { ...load(), [key]: e };
        // Write, then rename: a concurrent reader never sees half a file.
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
        renameSync(tmp, file);
        return true;
      } catch {
        return false;
      }
    },
  };
}
