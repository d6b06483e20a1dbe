import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = 20261201;
const RUNS = 3000;

describe('fuzz: mutated ONNX files end in a network or a one-line UsageError (issue 10)', () => {
  it(`${RUNS} seeded cases: byte flips, truncations, splices and field mutations of valid models`, () => {
    const r = spawnSync(process.execPath, ['--import', './bin/register.js', 'test/helpers/onnx-fuzz-child.ts', String(SEED), String(RUNS), '10000'], {
      cwd: ROOT, encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20,
    });
    const lastCase = (r.stderr ?? '').trim().split('\n').filter((l) => l.startsWith('case ')).at(-1);
    expect(r.signal, `the fuzz run was killed (a hang?); last case started: ${lastCase}`).toBeNull();
    const lines = (r.stdout ?? '').trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '{}') as { runs: number; outcomes: Record<string, number>; failed: boolean; report: string | null };
    expect(summary.report ?? '', summary.report ?? '').toBe('');
    expect(summary.failed).toBe(false);
    expect(summary.runs).toBe(RUNS);
    console.log(`onnx fuzz: ${summary.runs} cases, ${JSON.stringify(summary.outcomes)}`);
    // Each kind of ending is exercised: the mutations are neither all fatal nor all harmless.
    expect(summary.outcomes.refused).toBeGreaterThan(RUNS / 10);
    expect(summary.outcomes.ran).toBeGreaterThan(RUNS / 10);
  });
});
