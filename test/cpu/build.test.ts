// The precompiled CLI (scripts/build-cli.mjs, bin/built.js): the bundle must behave exactly as the
// TypeScript sources do, and bin/xbarsim.js must never run a bundle its sources have moved on from.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtEntry } from '../../bin/built.js';
import { buildCli } from '../../scripts/build-cli.mjs';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

describe('builtEntry: the bundle runs only while every input still hashes the same', () => {
  const root = tempDir();
  const manifest = join(root, 'dist', 'cli', 'manifest.json');
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(manifest, JSON.stringify({ inputs: { 'src/a.ts': sha('export const a = 1;\n') } }));

  it('is the bundle URL when the inputs match', () => {
    expect(builtEntry(root)).toBe(pathToFileURL(join(root, 'dist', 'cli', 'xbarsim.js')).href);
  });
  it('is null once an input changes, even with the same size', () => {
    writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 2;\n');
    expect(builtEntry(root)).toBeNull();
  });
  it('checks an optional input (the lockfile) only where it exists', () => {
    writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(manifest, JSON.stringify({ inputs: { 'src/a.ts': sha('export const a = 1;\n') }, optional: { 'package-lock.json': sha('{}') } }));
    expect(builtEntry(root)).not.toBeNull(); // an installed package: no lockfile
    writeFileSync(join(root, 'package-lock.json'), '{}');
    expect(builtEntry(root)).not.toBeNull();
    writeFileSync(join(root, 'package-lock.json'), '{"changed": true}');
    expect(builtEntry(root)).toBeNull();
  });
  it('is null when an input is gone, or the manifest is missing or damaged', () => {
    rmSync(join(root, 'package-lock.json'), { force: true });
    rmSync(join(root, 'src', 'a.ts'));
    expect(builtEntry(root)).toBeNull();
    writeFileSync(manifest, '{"inputs": ');
    expect(builtEntry(root)).toBeNull();
    rmSync(manifest);
    expect(builtEntry(root)).toBeNull();
  });
});

describe('the bundle behaves as the sources', () => {
  // Built beside dist/cli (two folders below the root, as the real one) so tests running the CLI at
  // the same time never see a half-swapped dist/cli.
  const outDir = join(ROOT, 'dist', `cli-test-${process.pid}`);
  let dir = '';
  const viaBundle = (args: string[]) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(pathToFileURL(join(outDir, 'xbarsim.js')).href)}); process.exitCode = await main(process.argv.slice(1));`, '--', ...args], { encoding: 'utf8', timeout: 300_000 });
  const viaSource = (args: string[]) => runCli(args, { XBARSIM_FROM_SOURCE: '1' });

  beforeAll(async () => {
    expect(await buildCli(outDir)).toBe(true);
    dir = tempDir();
  }, 120_000);
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records every source it was built from, shaders and package.json included, and no package file', () => {
    const m = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { inputs: Record<string, string>; optional: Record<string, string> };
    expect(Object.keys(m.inputs)).toEqual(expect.arrayContaining(['src/cli/main.ts', 'shaders/xbar.wgsl', 'package.json', 'bin/xbarsim.js']));
    expect(Object.keys(m.inputs).filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(Object.keys(m.optional)).toEqual(['package-lock.json']);
    for (const [f, h] of Object.entries({ ...m.inputs, ...m.optional })) expect(sha(readFileSync(join(ROOT, f))), f).toBe(h);
  });

  it('prints the same version, help and usage errors', () => {
    for (const args of [['--version'], ['--help'], ['eval', '--help'], ['eval', '--model', 'nope.onnx', '--dataset', 'mnist']]) {
      const a = viaBundle(args);
      const b = viaSource(args);
      expect(a.status, args.join(' ')).toBe(b.code);
      expect(a.stdout, args.join(' ')).toBe(b.stdout);
      expect(b.ownStderrLines.every((l) => a.stderr.includes(l)), args.join(' ')).toBe(true);
    }
  });

  it('writes the same vmm output bytes (shaders inlined as text, CPU reference)', () => {
    const W = writeNpy(dir, 'W.npy', [40, 6], randomArray(240, 1));
    const X = writeNpy(dir, 'X.npy', [5, 40], randomArray(200, 2));
    const out = (name: string) => ['vmm', '--weights', W, '--inputs', X, '--preset', 'isaac', '--backend', 'cpu', '--out', join(dir, name)];
    expect(viaBundle(out('a.npy')).status).toBe(0);
    expect(viaSource(out('b.npy')).code).toBe(0);
    expect(readFileSync(join(dir, 'a.npy')).equals(readFileSync(join(dir, 'b.npy')))).toBe(true);
  });
});
