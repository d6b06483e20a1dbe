// Fuzzing configs (issue 10 "keep it fixed"): random configs from the schema's own grammar through
// resolveConfig, and through the whole vmm command. Each case must end in a resolved config (or Y
// with finite values) or in a one-line usage error (exit 2) that leaves no file; never another
// error, a stack trace, a polluted Object.prototype or a case slower than its bound. Seeded:
// a failure prints its seed and path, and reruns the same.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { UsageError } from '../../src/errors.ts';
import { parseNpy } from '../../src/io/npy.ts';
import { runMain } from '../helpers/cli.ts';
import { anyConfig, nearValidConfig } from '../helpers/config-arbitrary.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray, cpuClockMs } from '../helpers/random.ts';

/** Fixed for CI; XBARSIM_FUZZ_SEED and XBARSIM_FUZZ_SCALE (a multiplier of the case counts) explore further by hand. */
const SEED = Number(process.env.XBARSIM_FUZZ_SEED ?? 20_260_101);
const SCALE = Number(process.env.XBARSIM_FUZZ_SCALE ?? 1);
const CONFIG_RUNS = Math.round(1500 * SCALE);
const VMM_RUNS = Math.round(150 * SCALE);
/** Most CPU time any one case may take (a hang or a blow-up shows as a failure, not a stuck CI). */
const CASE_MS = 5_000;

function prototypeClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.digital === undefined && probe.adc === undefined && probe.preset === undefined && Object.keys(Object.prototype).length === 0;
}

/** Finite numbers all the way down. */
function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (v !== null && typeof v === 'object') return Object.values(v).every(allFinite);
  return true;
}

describe('fuzz: configs from the schema grammar through resolveConfig', () => {
  it('every case resolves to a finite, stable config or is a one-line UsageError', () => {
    let resolved = 0;
    let refused = 0;
    const details = fc.check(
      fc.property(fc.oneof(anyConfig, nearValidConfig), (input) => {
        const t0 = cpuClockMs();
        const text = JSON.stringify(input);
        try {
          // As a file would give it: through JSON, so __proto__ keys are own keys.
          const c = resolveConfig(JSON.parse(text));
          expect(allFinite(c)).toBe(true);
          // A resolved config is a fixed point: resolving it again changes nothing.
          expect(resolveConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
          resolved++;
        } catch (e) {
          if (!(e instanceof UsageError)) throw new Error(`not a UsageError for ${text}: ${String(e)}`);
          expect(e.message).not.toMatch(/[\r\n]/);
          expect(e.message).toMatch(/^(config: |preset: )/);
          refused++;
        }
        expect(prototypeClean()).toBe(true);
        expect(cpuClockMs() - t0).toBeLessThan(CASE_MS);
      }),
      { seed: SEED, numRuns: CONFIG_RUNS },
    );
    console.log(`fuzz resolveConfig: ${details.numRuns} cases (${resolved} resolved, ${refused} refused), seed ${SEED}`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'fuzz case failed');
    expect(details.numRuns).toBe(CONFIG_RUNS);
    // The grammar reaches both sides.
    expect(resolved).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

describe('fuzz: configs through the vmm command', () => {
  it('every case writes a finite Y [B, N] and counts (exit 0) or exits 2 with one line and no file', async () => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [24, 5], randomArray(120, 11));
    const X = writeNpy(dir, 'X.npy', [3, 24], randomArray(72, 12));
    const inputs = new Set(readdirSync(dir));
    // One run first, so the first case's time guard does not count loading the command's modules.
    await runMain(['vmm', '--weights', W, '--inputs', X, '--preset', 'isaac', '--out', join(dir, 'warm.npy'), '--backend', 'cpu']);
    rmSync(join(dir, 'warm.npy'));
    let ran = 0;
    let refused = 0;
    let n = 0;
    const details = await fc.check(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: nearValidConfig }, { weight: 1, arbitrary: anyConfig }), fc.integer({ min: 0, max: 3 }), async (input, chip) => {
        const t0 = cpuClockMs();
        const cfg = join(dir, `cfg-${n}.json`);
        const out = join(dir, `Y-${n}.npy`);
        const counts = join(dir, `counts-${n}.json`);
        n++;
        writeFileSync(cfg, JSON.stringify(input));
        try {
          const r = await runMain(['vmm', '--weights', W, '--inputs', X, '--config', cfg, '--out', out, '--counts', counts, '--chip', String(chip), '--backend', 'cpu']);
          expect(r.stderr).not.toMatch(/\n\s+at /);
          if (r.code === 0) {
            const y = parseNpy(readFileSync(out), 'Y');
            expect(y.shape).toEqual([3, 5]);
            expect(y.data.every(Number.isFinite)).toBe(true);
            expect(allFinite(JSON.parse(readFileSync(counts, 'utf8')))).toBe(true);
            ran++;
          } else {
            expect(r.code, `${JSON.stringify(input)}: ${r.stderr}`).toBe(2);
            expect(r.ownStderrLines).toHaveLength(1);
            expect(r.ownStderrLines[0]).toMatch(/^xbarsim: /);
            expect(existsSync(out)).toBe(false);
            expect(existsSync(counts)).toBe(false);
            refused++;
          }
          const left = readdirSync(dir).filter((f) => !inputs.has(f) && f !== `cfg-${n - 1}.json` && f !== `Y-${n - 1}.npy` && f !== `counts-${n - 1}.json`);
          expect(left).toEqual([]); // no temp files, nothing else
          expect(prototypeClean()).toBe(true);
          expect(cpuClockMs() - t0).toBeLessThan(CASE_MS);
        } finally {
          for (const f of [cfg, out, counts]) rmSync(f, { force: true });
        }
      }),
      { seed: SEED, numRuns: VMM_RUNS },
    );
    console.log(`fuzz vmm: ${details.numRuns} cases (${ran} wrote Y, ${refused} refused with exit 2), seed ${SEED}`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'fuzz case failed');
    expect(details.numRuns).toBe(VMM_RUNS);
    expect(ran).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  }, 600_000);
});
