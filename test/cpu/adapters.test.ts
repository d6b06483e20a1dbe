// Adapter sets (src/adapters): file layouts, the CPU branch, zero-B bit identity and switching sets
// on the CPU executor, and eval --adapters on the command line.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterBranchRef, encodeAdapterJson, encodeAdapterNpz, parseAdapterFile, parseAdapterJson, scaledUp } from '../../src/adapters/set.ts';
import { writeAdapterFile } from '../../src/adapters/file.ts';
import { crc32, encodeZip, readZip } from '../../src/io/npz.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { checkZeroBAndSwitching, FAST, mlpAdapters, MLP, NOISY } from '../helpers/adapters.ts';
import { runCli, runMain } from '../helpers/cli.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

/** A ZIP whose members are deflated (method 8), built independently of src/io/npz.ts's writer. */
function deflatedZip(members: { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const comp = deflateRawSync(m.data);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(8, 8);
    h.writeUInt32LE(crc32(m.data), 14);
    h.writeUInt32LE(comp.length, 18);
    h.writeUInt32LE(m.data.length, 22);
    h.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(crc32(m.data), 16);
    c.writeUInt32LE(comp.length, 20);
    c.writeUInt32LE(m.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    parts.push(h, name, comp);
    central.push(c, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, end]));
}

describe('adapter files', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('.npz and .json round-trip every value', () => {
    const set = mlpAdapters(3, 0.1, 7);
    for (const [path, bytes] of [['a.npz', encodeAdapterNpz(set)], ['a.json', new TextEncoder().encode(encodeAdapterJson(set))]] as const) {
      const back = parseAdapterFile(path, bytes);
      expect([...back.keys()]).toEqual([...set.keys()]);
      for (const [name, a] of set) {
        const b = back.get(name)!;
        expect([b.rank, b.alpha, b.K, b.N]).toEqual([a.rank, a.alpha, a.K, a.N]);
        expect(Array.from(b.A)).toEqual(Array.from(a.A));
        expect(Array.from(b.B)).toEqual(Array.from(a.B));
      }
    }
  });

  it('the .npz members are what numpy.savez names them', () => {
    const zip = readZip(encodeAdapterNpz(mlpAdapters(2, 0, 1)), 'x');
    expect([...zip.keys()].slice(0, 3)).toEqual(['fc1.A.npy', 'fc1.B.npy', 'fc1.alpha.npy']);
  });

  it.each([
    ['[]', /expected an object NAME/],
    ['{"fc1":{"alpha":1,"A":[[1]],"B":[[1]],"C":1}}', /fc1: unknown field "C" \(allowed: A, B, alpha, rank\)/],
    ['{"fc1":{"rank":2,"alpha":1,"A":[[1]],"B":[[1]]}}', /fc1.A: 1 rows, expected rank = 2/],
    ['{"fc1":{"alpha":1,"A":[[1]],"B":[[1,2]]}}', /fc1.B: 2 columns, expected rank = 1/],
    ['{"fc1":{"alpha":"a","A":[[1]],"B":[[1]]}}', /fc1.alpha: "a" \(allowed: a finite number\)/],
    ['{"fc1":{"alpha":1,"A":[[1,"x"]],"B":[[1]]}}', /fc1.A\[0\]\[1\]: "x" \(allowed: a number\)/],
  ])('JSON errors name the field and the allowed values: %s', (text, re) => {
    expect(() => parseAdapterJson(text, 'f.json')).toThrow(re);
  });

  it('reads deflated members (numpy.savez_compressed) with float64 arrays', () => {
    // A hand-built ZIP with one deflated member per array, as savez_compressed writes them.
    const members = [
      ['fc3.A.npy', encodeNpy([1, 128], '<f8', Float64Array.from({ length: 128 }, (_, i) => i / 128))],
      ['fc3.B.npy', encodeNpy([10, 1], '<f8', Float64Array.from({ length: 10 }, (_, i) => -i))],
      ['fc3.alpha.npy', encodeNpy([], '<f8', [2])],
    ] as const;
    const stored = readZip(encodeZip(members.map(([name, data]) => ({ name, data }))), 'x');
    expect([...stored.keys()]).toHaveLength(3);
    const deflated = deflatedZip(members.map(([name, data]) => ({ name, data })));
    const set = parseAdapterFile('c.npz', deflated);
    const a = set.get('fc3')!;
    expect([a.rank, a.K, a.N, a.alpha]).toEqual([1, 128, 10, 2]);
    expect(a.A[64]).toBe(0.5);
    expect(a.B[9]).toBe(-9);
  });

  it('.npz errors name the member', () => {
    const bad = encodeZip([{ name: 'fc1.A.npy', data: encodeNpy([2, 3], '<f4', new Float32Array(6)) }]);
    expect(() => parseAdapterFile('a.npz', bad)).toThrow(/layer "fc1" has no fc1.B.npy/);
    const other = encodeZip([{ name: 'fc1.W', data: encodeNpy([1], '<f4', [1]) }]);
    expect(() => parseAdapterFile('a.npz', other)).toThrow(/allowed: NAME.A.npy, NAME.B.npy, NAME.alpha.npy/);
    expect(() => parseAdapterFile('a.npz', new Uint8Array(40))).toThrow(/not a readable .npz/);
  });
});

describe('adapter branch (CPU)', () => {
  it('equals (α/r)·B·(A·x) computed naively in f64', () => {
    const a = mlpAdapters(3, 0.2, 4).get('fc2')!;
    const n = 5;
    const x = Float32Array.from({ length: n * a.K }, (_, i) => Math.sin(i));
    const { d } = adapterBranchRef(a, scaledUp(a), x, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < a.N; j++) {
        let s = 0;
        for (let q = 0; q < a.rank; q++) {
          let h = 0;
          for (let k = 0; k < a.K; k++) h += a.A[q * a.K + k] * x[i * a.K + k];
          s += (a.alpha / a.rank) * a.B[j * a.rank + q] * h;
        }
        expect(d[i * a.N + j]).toBeCloseTo(s, 5);
      }
    }
  });

  it('zero-B adapters leave every output bit-identical; switching sets needs no reprogramming', async () => {
    await checkZeroBAndSwitching(CPU);
  });
});

describe('eval --adapters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xbarsim-adapters-'));
  it('zero-B adapters give the accuracy of no adapters; bad files exit 2 with one line', async () => {
    const f = join(dir, 'zero.npz');
    writeAdapterFile(f, mlpAdapters(2, 0, 3));
    const cfg = join(dir, 'noisy.json');
    writeFileSync(cfg, JSON.stringify(NOISY));
    const args = ['eval', '--model', MLP, '--dataset', 'mnist', '--limit', '60', '--config', cfg, '--backend', 'cpu', '--json'];
    const plain = await runMain(args);
    const withA = runCli([...args, '--adapters', f]);
    expect(withA.code, withA.stderr).toBe(0);
    expect(JSON.parse(withA.stdout).accuracy.mean).toBe(JSON.parse(plain.stdout).accuracy.mean);
    expect(JSON.parse(withA.stdout).adapters).toBe(f);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"nope":{"alpha":1,"A":[[1]],"B":[[1]]}}');
    const r = await runMain([...args, '--adapters', bad]);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.stderr).toMatch(/layer "nope": not a linear .* \(allowed: fc1, fc2, fc3\)/);
  });
});

describe('sweep --adapters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xbarsim-adapters-sweep-'));
  const fast = join(dir, 'fast.json');
  writeFileSync(fast, JSON.stringify(FAST));
  const sweep = (out: string, extra: string[]) =>
    runMain(['sweep', '--model', MLP, '--dataset', 'mnist', '--config', fast, '--vary', 'noise.programming.sigma=0,0.2', '--limit', '30', '--out', out, '--backend', 'cpu', ...extra]);
  const accuracies = (out: string) => readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).accuracy as number);

  it('zero B reproduces the sweep without adapters, another set changes it, a bad file is refused before the folder exists', async () => {
    const zero = join(dir, 'zero.npz');
    const big = join(dir, 'big.npz');
    writeAdapterFile(zero, mlpAdapters(2, 0, 3));
    writeAdapterFile(big, mlpAdapters(2, 2, 3));
    expect((await sweep(join(dir, 'plain'), [])).code).toBe(0);
    expect((await sweep(join(dir, 'zero'), ['--adapters', zero])).code).toBe(0);
    expect((await sweep(join(dir, 'big'), ['--adapters', big])).code).toBe(0);
    expect(accuracies(join(dir, 'zero'))).toEqual(accuracies(join(dir, 'plain')));
    expect(accuracies(join(dir, 'big'))).not.toEqual(accuracies(join(dir, 'plain')));
    const again = await sweep(join(dir, 'zero'), ['--adapters', big, '--resume']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/a different adapter set/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"fc1":{"alpha":1,"A":[[1]],"B":[]}}');
    const r = await sweep(join(dir, 'never'), ['--adapters', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fc1.B: expected a non-empty array of rows/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});

