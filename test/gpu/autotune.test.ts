import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestGpu } from '../helpers/gpu.ts';
import { adapterKey, autotune, measureTuning, tilesName, tuningCandidates } from '../../src/kernels/autotune.ts';
import { fileTuningStore, tuningCacheDir } from '../../src/gpu/tuning-cache.ts';
import { REGISTER_TILES, SHARED_TILES, TUNING_VERSION } from '../../src/gpu/tuning.ts';
import { withTuning } from '../../src/gpu/runtime.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
/** Tiny timing problem: these tests check the mechanics, not which tiling wins. */
const SMALL = { K: 40, N: 12, B: 6, reps: 1 };

describe('tuning cache location', () => {
  it('XBARSIM_TUNING_DIR, else XDG_CACHE_HOME/xbarsim, else ~/.cache/xbarsim', () => {
    expect(tuningCacheDir({ XBARSIM_TUNING_DIR: '/x/y', XDG_CACHE_HOME: '/c' })).toBe('/x/y');
    expect(tuningCacheDir({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'xbarsim'));
    expect(tuningCacheDir({})).toMatch(/\.cache[/\\]xbarsim$/);
  });
});

describe.skipIf(!gpu)('crossbar autotuning', () => {
  it('every tiling candidate (register and shared-memory variants) gives bit-identical outputs', { timeout: 300_000 }, async () => {
    const candidates = tuningCandidates(gpu!.session.ctx.limits);
    expect(candidates.some((t) => t.kt > 0)).toBe(true);
    expect(candidates.some((t) => t.kt === 0)).toBe(true);
    const r = await measureTuning(withTuning(gpu!.session, {}), { ...SMALL, candidates });
    expect(r.outputs).toHaveLength(candidates.length);
    for (const y of r.outputs) expect(Array.from(y)).toEqual(Array.from(r.outputs[0]));
    expect(Object.keys(r.timings).sort()).toEqual(candidates.map(tilesName).sort());
    expect(candidates.map(tilesName)).toContain(tilesName(r.xbar));
  });

  it('tunes once per adapter: measures and stores, then reads the cache; --retune measures again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xbarsim-tune-'));
    const store = fileTuningStore(dir);
    const s = withTuning(gpu!.session, {});
    // Two tilings every adapter tries, so that the cache hit is a current candidate whichever wins.
    const candidates = [REGISTER_TILES, { ...REGISTER_TILES, wgx: 16, wgy: 4 }];
    const first = await autotune(s, store, { ...SMALL, candidates });
    expect(first.source).toBe('measured');
    expect(first.stored).toBe(true);
    const file = JSON.parse(readFileSync(join(dir, 'tuning.json'), 'utf8'));
    expect(file[adapterKey(s.ctx.adapter)].version).toBe(TUNING_VERSION);
    expect(tilesName(s.tuning.xbar)).toBe(tilesName(first.entry.xbar));
    const second = await autotune(withTuning(gpu!.session, {}), store, { ...SMALL, candidates });
    expect(second.source).toBe('cache');
    expect(tilesName(second.entry.xbar)).toBe(tilesName(first.entry.xbar));
    const again = await autotune(withTuning(gpu!.session, {}), store, { ...SMALL, candidates, retune: true });
    expect(again.source).toBe('measured');
  });

  it('a stale or edited entry is measured again; an unwritable cache is read-only, never an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xbarsim-tune-'));
    const s = withTuning(gpu!.session, {});
    writeFileSync(join(dir, 'tuning.json'), JSON.stringify({ [adapterKey(s.ctx.adapter)]: { version: TUNING_VERSION, xbar: { ...REGISTER_TILES, tm: 3 }, timings: {} } }));
    const r = await autotune(s, fileTuningStore(dir), { ...SMALL, candidates: [REGISTER_TILES] });
    expect(r.source).toBe('measured');
    // A folder below a plain file cannot be created.
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const ro = await autotune(withTuning(gpu!.session, {}), fileTuningStore(join(blocker, 'cache')), { ...SMALL, candidates: [REGISTER_TILES] });
    expect(ro.source).toBe('measured');
    expect(ro.stored).toBe(false);
  });

  it('CPU drivers try the register variants at TM 4 only', () => {
    const limits = gpu!.session.ctx.limits;
    const soft = tuningCandidates(limits, true);
    expect(soft.length).toBeGreaterThan(1);
    expect(soft.every((t) => t.kt === 0 && t.tm === 4)).toBe(true);
    expect(tuningCandidates(limits, false).map((t) => t.tm)).toEqual(expect.arrayContaining([2, 4, 8]));
    expect(tuningCandidates(limits, false).map(tilesName)).toContain(tilesName(SHARED_TILES));
  });
});
