import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBenchArgs } from '../../bench/core/args.ts';
import { suiteOptionsFromJson, suiteOptionsToJson, tilingNames } from '../../bench/core/suite.ts';

/** parseBenchArgs on `argv`: its options, or the one stderr line and exit code it failed with. */
function parse(argv: string[]) {
  let err = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`exit ${code}`);
  });
  try {
    return { opts: parseBenchArgs(argv, 'npm run bench --'), err, code: null };
  } catch (e) {
    return { opts: null, err, code: (e as Error).message };
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('bench --tiles', () => {
  it('names every tuning candidate, register and shared', () => {
    expect(tilingNames()).toContain('reg tm4 8x8 pc4');
    expect(tilingNames().some((n) => n.startsWith('shared '))).toBe(true);
  });

  it('takes a candidate name, and carries it to the browser page', () => {
    const r = parse(['--tiles', 'reg tm8 8x4 pc4', '--only', '^kernel/']);
    expect(r.code).toBeNull();
    expect(r.opts!.tiles).toBe('reg tm8 8x4 pc4');
    expect(suiteOptionsFromJson(suiteOptionsToJson(r.opts!)).tiles).toBe('reg tm8 8x4 pc4');
    expect(parse([]).opts!.tiles).toBeNull();
  });

  it('refuses an unknown name (listing the names) and --retune with it: one line, exit 2', () => {
    const bad = parse(['--tiles', 'reg tm3 8x8 pc4']);
    expect(bad.code).toBe('exit 2');
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toContain('--tiles reg tm3 8x8 pc4: one of "reg tm4 8x8 pc4"');
    const both = parse(['--tiles', 'reg tm4 8x8 pc4', '--retune']);
    expect(both.code).toBe('exit 2');
    expect(both.err).toContain('--tiles and --retune');
  });
});
