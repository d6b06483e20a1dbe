import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRun } from '../../bench/core/suite.ts';
import { tempDir } from './files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a bench runner (`npm run bench` = node, `npm run bench:browser` = browser) with ARGS and its own tuning cache; the record it wrote, if any. */
export function runBench(runner: 'node' | 'browser', args: string[], timeoutMs = 240_000): { code: number; stdout: string; stderr: string; record: BenchRun | null } {
  const out = tempDir();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'bin/register.js')).href, join(ROOT, 'bench', `${runner}.ts`), ...args, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, XBARSIM_TUNING_DIR: tempDir() },
    timeout: timeoutMs,
  });
  const files = readdirSync(out).filter((f) => f.endsWith('.json'));
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, record: files.length === 1 ? (JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as BenchRun) : null };
}
