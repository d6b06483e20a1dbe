import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IN_CI } from '../helpers/gpu.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('GPU validation and out-of-memory failures', () => {
  it('print one line for a cascade of Dawn errors, and nothing on stdout', () => {
    const r = spawnSync(process.execPath, ['--import', './bin/register.js', join(ROOT, 'test/helpers/gpu-error-child.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (r.status === 3 && !IN_CI) return console.warn('SKIP: no WebGPU adapter here');
    // Dawn's instance prints its own `Warning:` lines (README); everything else is ours.
    const own = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^Warning: /.test(l));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/^xbarsim: error: GPU error: .*exceeds the max buffer size limit.* \(\d+ more GPU errors followed from it\)$/);
  });
});
