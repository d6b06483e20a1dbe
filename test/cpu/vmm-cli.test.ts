import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';
import { parseNpy } from '../../src/io/npy.ts';
import { layerCounts } from '../../src/crossbar/counts.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';
import { resolveConfig } from '../../src/config/schema.ts';

let dir: string;
let W: string;
let X: string;
beforeAll(() => {
  dir = tempDir();
  W = writeNpy(dir, 'W.npy', [40, 6], randomArray(240, 1), '<f8');
  X = writeNpy(dir, 'X.npy', [5, 40], randomArray(200, 2));
});

describe('xbarsim vmm on the CPU backend', () => {
  it('writes Y [B, N] as float32 and the counts JSON', () => {
    const out = join(dir, 'Y.npy');
    const counts = join(dir, 'counts.json');
    const r = runCli(['vmm', '--weights', W, '--inputs', X, '--preset', 'neural-pim', '--out', out, '--counts', counts, '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const y = parseNpy(readFileSync(out), 'Y');
    expect(y.shape).toEqual([5, 6]);
    expect(y.dtype).toBe('<f4');
    const c = JSON.parse(readFileSync(counts, 'utf8')) as { layers: { name: string }[]; total: Record<string, number>; vectors: number };
    expect(c.vectors).toBe(5);
    expect(c.layers[0].name).toBe('vmm');
    const want = layerCounts(layerGeometry(40, 6, resolveConfig({ preset: 'neural-pim' })), resolveConfig({ preset: 'neural-pim' }), 10);
    expect(c.total).toEqual(want); // random signed inputs: every vector has a negative entry, two passes each
  });
});

describe('xbarsim vmm --seed and --chip select the simulated chip', () => {
  it('same seed and chip give the same file; another chip or seed gives another', () => {
    const cfg = join(dir, 'noisy.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'isaac', noise: { preset: 'wan2022-rram' } }));
    const run = (name: string, extra: string[]): Float32Array => {
      const out = join(dir, name);
      const r = runCli(['vmm', '--weights', W, '--inputs', X, '--config', cfg, '--out', out, '--backend', 'cpu', ...extra]);
      expect(r.code).toBe(0);
      return new Float32Array(parseNpy(readFileSync(out), 'Y').data);
    };
    const a = run('a.npy', ['--seed', '5', '--chip', '2']);
    const b = run('b.npy', ['--seed', '5', '--chip', '2']);
    const c = run('c.npy', ['--seed', '5', '--chip', '3']);
    const d = run('d.npy', ['--seed', '6', '--chip', '2']);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    expect(Array.from(d)).not.toEqual(Array.from(a));
  });
});

describe('xbarsim vmm bad input: one line, exit 2, nothing written', () => {
  const cases: [string, () => string[]][] = [
    ['malformed .npy', () => {
      const bad = join(dir, 'bad.npy');
      writeFileSync(bad, 'not a numpy file at all');
      return ['--weights', bad, '--inputs', X, '--preset', 'isaac'];
    }],
    ['truncated .npy', () => {
      const full = readFileSync(X);
      const t = join(dir, 'trunc.npy');
      writeFileSync(t, full.subarray(0, full.length - 10));
      return ['--weights', W, '--inputs', t, '--preset', 'isaac'];
    }],
    ['shape mismatch', () => ['--weights', W, '--inputs', writeNpy(dir, 'X39.npy', [5, 39], randomArray(195, 3)), '--preset', 'isaac']],
    ['unknown preset', () => ['--weights', W, '--inputs', X, '--preset', 'isaak']],
    ['invalid config value', () => {
      const c = join(dir, 'cfg.json');
      writeFileSync(c, JSON.stringify({ adc: { bits: 1 } }));
      return ['--weights', W, '--inputs', X, '--config', c];
    }],
    ['unknown config field', () => {
      const c = join(dir, 'cfg2.json');
      writeFileSync(c, JSON.stringify({ adc: { bitz: 4 } }));
      return ['--weights', W, '--inputs', X, '--config', c];
    }],
    ['NaN in inputs', () => {
      const d = randomArray(200, 4);
      d[57] = NaN;
      return ['--weights', W, '--inputs', writeNpy(dir, 'Xnan.npy', [5, 40], d), '--preset', 'isaac'];
    }],
    ['no config or preset', () => ['--weights', W, '--inputs', X]],
    ['bad --seed', () => ['--weights', W, '--inputs', X, '--preset', 'isaac', '--seed', '-3']],
    ['missing output folder', () => ['--weights', W, '--inputs', X, '--preset', 'isaac']],
  ];
  it.each(cases)('%s', (name, args) => {
    const outDir = name === 'missing output folder' ? join(dir, 'nope') : dir;
    const out = join(outDir, `out-${name.replace(/\W/g, '_')}.npy`);
    const before = readdirSync(dir).length;
    const r = runCli(['vmm', ...args(), '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.ownStderrLines[0]).toMatch(/^xbarsim: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    // Only the inputs the case itself created may be new.
    expect(readdirSync(dir).filter((f) => f.startsWith('out-') || f.includes('.tmp-'))).toHaveLength(0);
    expect(readdirSync(dir).length).toBeGreaterThanOrEqual(before);
  });

  it('messages name the problem', () => {
    const r = runCli(['vmm', '--weights', W, '--inputs', writeNpy(dir, 'X7.npy', [2, 7], randomArray(14, 9)), '--preset', 'isaac', '--out', join(dir, 'o.npy')]);
    expect(r.ownStderrLines[0]).toMatch(/--inputs .*has 7 columns but --weights has 40 rows/);
    const d = randomArray(200, 4);
    d[57] = NaN;
    const r2 = runCli(['vmm', '--weights', W, '--inputs', writeNpy(dir, 'Xn2.npy', [5, 40], d), '--preset', 'isaac', '--out', join(dir, 'o.npy')]);
    expect(r2.ownStderrLines[0]).toMatch(/NaN at \[1, 17\]/);
  });
});
