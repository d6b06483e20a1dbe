// Output files (issue 10 items 4-6): an output never destroys an input or another output, never
// replaces a special file, and is checked before any work, so a failure leaves nothing new.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOutputs, writeFileAtomic, writeOutputs } from '../../src/io/atomic-write.ts';
import { parseNpy } from '../../src/io/npy.ts';
import { BIN, runCli, runMain } from '../helpers/cli.ts';
import { usageMessage } from '../helpers/errors.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';

/** Every entry of a folder with its size and inode: what "nothing changed" compares. */
function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const st = lstatSync(join(dir, f));
      return `${f}:${st.ino}:${st.size}:${st.mode}`;
    });
}

let dir: string;
let W: string;
let X: string;
let C: string;
beforeAll(() => {
  dir = tempDir();
  W = writeNpy(dir, 'W.npy', [32, 4], randomArray(128, 1));
  X = writeNpy(dir, 'X.npy', [3, 32], randomArray(96, 2));
  C = writeNpy(dir, 'C.npy', [2, 32], randomArray(64, 3));
});

const vmm = (...extra: string[]): string[] => ['vmm', '--weights', W, '--inputs', X, '--preset', 'isaac', '--backend', 'cpu', ...extra];

/** Runs the command in-process (runMain) and checks it refused with one line and touched nothing. */
async function expectRefused(args: string[], pattern: RegExp): Promise<void> {
  const before = snapshot(dir);
  const r = await runMain(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.ownStderrLines).toHaveLength(1);
  expect(r.ownStderrLines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(snapshot(dir)).toEqual(before);
}

describe('vmm: an output that is an input or another output is refused, nothing touched', () => {
  it('as a real command: --out equal to --weights, exit 2, one line, W unchanged', () => {
    const w = readFileSync(W);
    const r = runCli(vmm('--out', W));
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/^xbarsim: --out .*W\.npy: is the same file as --weights/)]);
    expect(readFileSync(W).equals(w)).toBe(true);
  });

  it.each<[string, () => string[], RegExp]>([
    ['--out = --weights', () => vmm('--out', W), /--out .*W\.npy: is the same file as --weights/],
    ['--out = --inputs', () => vmm('--out', X), /--out .*X\.npy: is the same file as --inputs/],
    ['--out = --calibrate', () => vmm('--out', C, '--calibrate', C), /is the same file as --calibrate/],
    ['--counts = --weights', () => vmm('--out', join(dir, 'Y.npy'), '--counts', W), /--counts .*: is the same file as --weights/],
    ['--counts = --out', () => vmm('--out', join(dir, 'Y.npy'), '--counts', join(dir, 'Y.npy')), /--counts .*Y\.npy: is the same file as --out/],
    ['through ..', () => vmm('--out', join(dir, 'sub', '..', 'W.npy')), /is the same file as --weights/],
    ['through a symlink', () => vmm('--out', join(dir, 'link-to-W.npy')), /is the same file as --weights/],
    ['a hard link', () => vmm('--out', join(dir, 'hard-W.npy')), /is the same file as --weights/],
    ['--counts through a symlinked folder', () => vmm('--out', join(dir, 'Y.npy'), '--counts', join(dir, 'dirlink', 'X.npy')), /is the same file as --inputs/],
  ])('%s', async (_name, args, pattern) => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    if (!existsSync(join(dir, 'link-to-W.npy'))) symlinkSync('W.npy', join(dir, 'link-to-W.npy'));
    if (!existsSync(join(dir, 'hard-W.npy'))) linkSync(W, join(dir, 'hard-W.npy'));
    if (!existsSync(join(dir, 'dirlink'))) symlinkSync('.', join(dir, 'dirlink'));
    const w = readFileSync(W);
    await expectRefused(args(), pattern);
    expect(readFileSync(W).equals(w)).toBe(true);
  });
});

describe('vmm: special files and symlinks as --out', () => {
  it('/dev/null is written in place, never replaced', () => {
    const before = statSync('/dev/null');
    const r = runCli(vmm('--out', '/dev/null', '--counts', '/dev/null'));
    expect(r.code, r.stderr).toBe(0);
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
  });

  it('a FIFO is refused (it would block, and a rename would replace it)', async () => {
    const fifo = join(dir, 'pipe');
    if (!existsSync(fifo)) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await expectRefused(vmm('--out', fifo), /--out .*pipe: is not a regular file \(a FIFO, socket or block device\)/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symlink is written through: the link stays, its target gets Y', async () => {
    const target = join(dir, 'real-Y.npy');
    writeFileSync(target, 'old');
    const link = join(dir, 'Y-link.npy');
    symlinkSync('real-Y.npy', link);
    const r = await runMain(vmm('--out', link));
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(parseNpy(readFileSync(target), 'Y').shape).toEqual([3, 4]);
    // A dangling link creates the file it points to.
    symlinkSync('new-Y.npy', join(dir, 'dangling.npy'));
    expect((await runMain(vmm('--out', join(dir, 'dangling.npy')))).code).toBe(0);
    expect(parseNpy(readFileSync(join(dir, 'new-Y.npy')), 'Y').shape).toEqual([3, 4]);
  });

  it('a folder, a missing folder and a file as a parent are refused before any work', async () => {
    mkdirSync(join(dir, 'afolder'), { recursive: true });
    await expectRefused(vmm('--out', join(dir, 'afolder')), /--out .*afolder: is a folder/);
    await expectRefused(vmm('--out', join(dir, 'nope', 'Y.npy')), /--out .*: cannot write: directory does not exist/);
    await expectRefused(vmm('--out', join(dir, 'Y.npy'), '--counts', join(W, 'c.json')), /--counts .*: cannot write/);
  });
});

describe('vmm: every output is checked before any work; a failure leaves nothing new', () => {
  // Root's capabilities override every permission bit, so as root the command runs without them
  // (util-linux's setpriv drops them from its bounding set). It stays root, so it still reaches a
  // clone inside a mode-0700 folder (mktemp -d), which another user could not.
  it('--counts into a read-only folder: exit 2 before computing, no Y.npy', () => {
    const root = process.getuid?.() === 0;
    const work = tempDir();
    const ro = join(work, 'ro');
    mkdirSync(ro);
    const w = writeNpy(work, 'W.npy', [32, 4], randomArray(128, 1));
    const x = writeNpy(work, 'X.npy', [3, 32], randomArray(96, 2));
    chmodSync(ro, 0o555);
    const cmd = [process.execPath, BIN, 'vmm', '--weights', w, '--inputs', x, '--preset', 'isaac', '--backend', 'cpu', '--out', join(work, 'Y.npy'), '--counts', join(ro, 'counts.json')];
    const [exe, ...argv] = root ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--', ...cmd] : cmd;
    const r = spawnSync(exe, argv, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--counts .*ro\/counts\.json: cannot write in folder .*ro: permission denied/);
    expect(r.stderr).not.toMatch(/ms on /); // refused before the simulation ran
    expect(readdirSync(work).sort()).toEqual(['W.npy', 'X.npy', 'ro']);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('writeOutputs is all or none: a file that cannot be staged leaves the other unwritten', () => {
    const work = tempDir();
    const [a, b] = checkOutputs([{ flag: '--out', path: join(work, 'a.npy') }, { flag: '--counts', path: join(work, 'b.json') }], []);
    // The folder goes away between the check and the write: the second staging fails.
    const gone = { ...b, target: join(work, 'vanished', 'b.json') };
    expect(usageMessage(() => writeOutputs([{ out: a, data: 'A' }, { out: gone, data: 'B' }]))).toMatch(/^--counts .*b\.json: cannot write/);
    expect(readdirSync(work)).toEqual([]);
    writeOutputs([{ out: a, data: 'A' }, { out: b, data: 'B' }]);
    expect(readdirSync(work).sort()).toEqual(['a.npy', 'b.json']);
  });

  it('writeFileAtomic keeps the replaced file\'s permissions and refuses a FIFO', () => {
    const work = tempDir();
    const p = join(work, 'kept.json');
    writeFileSync(p, 'old');
    chmodSync(p, 0o640);
    writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(statSync(p).mode & 0o777).toBe(0o640);
    const fifo = join(work, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(usageMessage(() => writeFileAtomic(fifo, 'x'))).toMatch(/is not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(work).sort()).toEqual(['fifo', 'kept.json']);
  });
});

describe('vmm: config checks (issue 10 item 14)', () => {
  it('a config with layers is refused with one line (one layer has no names)', async () => {
    const cfg = join(dir, 'layers.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'isaac', layers: { fc1: { adc: { bits: 4 } } } }));
    await expectRefused(['vmm', '--weights', W, '--inputs', X, '--config', cfg, '--backend', 'cpu', '--out', join(dir, 'Yl.npy')], /--config .*layers\.json: "layers" names layers of a network, but vmm simulates one unnamed layer/);
  });

  it('layers.__proto__, constructor and prototype are refused', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const cfg = join(dir, `proto-${key}.json`);
      writeFileSync(cfg, `{"preset": "isaac", "layers": {"${key}": {"digital": true}}}`);
      await expectRefused(['vmm', '--weights', W, '--inputs', X, '--config', cfg, '--backend', 'cpu', '--out', join(dir, 'Yp.npy')], new RegExp(`config: layers\\.${key}: is not a layer name`));
    }
  });

  it('an empty --inputs matrix is refused', async () => {
    const empty = writeNpy(dir, 'X-empty.npy', [0, 32], []);
    await expectRefused(['vmm', '--weights', W, '--inputs', empty, '--preset', 'isaac', '--backend', 'cpu', '--out', join(dir, 'Ye.npy')], /--inputs .*X-empty\.npy: is empty \(shape \[0, 32\]\)/);
  });
});
