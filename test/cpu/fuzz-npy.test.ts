// Fuzzing .npy files (issue 10 "keep it fixed"): valid files as numpy writes them, then mutated
// (bytes flipped, cut, grown; the header replaced by generated Python literals, nested deep or not;
// the length field and version byte changed) and read by the CLI's reader from a file, and a share
// through the whole vmm command. Each case ends in an array that keeps its invariants (or a Y with
// finite values) or a one-line usage error naming the file (exit 2, no file left); never another
// error, a stack overflow, or a case slower than its bound. Seeded: failures print seed and path.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { checkFinite, parseNpy, readNpyFile } from '../../src/io/npy.ts';
import { runMain } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray, cpuClockMs } from '../helpers/random.ts';

const SEED = Number(process.env.XBARSIM_FUZZ_SEED ?? 20_260_101);
const SCALE = Number(process.env.XBARSIM_FUZZ_SCALE ?? 1);
const READER_RUNS = Math.round(2000 * SCALE);
const VMM_RUNS = Math.round(150 * SCALE);
/** Most CPU time any one case may take (a hang or a blow-up shows as a failure, not a stuck CI). */
const CASE_MS = 5_000;

const DTYPES = ['<f4', '<f8', '>f4', '>f8', '|u1', '|i1', '<i2', '>u2', '<i4', '<u4', '<i8', '>u8', '|b1', '<f2', '<c8', '|S3', '<U2'];
const sizeOf = (descr: string): number => Number(/\d+$/.exec(descr)?.[0] ?? 1) * (descr.includes('U') ? 4 : 1);

function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** A .npy file with `header` text laid out as numpy does (padded to 64 bytes, newline-terminated) for format `major`. */
function npyBytes(header: string, body: Uint8Array, major: number, pad = true): Uint8Array {
  const prelude = major === 1 ? 10 : 12;
  let h = header;
  if (pad) h += `${' '.repeat((64 - ((prelude + Buffer.byteLength(h) + 1) % 64)) % 64)}\n`;
  const hb = major === 3 ? Buffer.from(h, 'utf8') : Buffer.from(h, 'latin1');
  const out = new Uint8Array(prelude + hb.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hb.length & 0xffff, true);
  else view.setUint32(8, hb.length, true);
  out.set(hb, prelude);
  out.set(body, prelude + hb.length);
  return out;
}

/** Valid files: any supported (and a few unsupported) dtype, shapes of 0-3 dims, either order, versions 1-3. */
const validNpy = fc
  .record({
    descr: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    fortran: fc.boolean(),
    major: fc.constantFrom(1, 1, 2, 3),
  })
  .chain((h) => {
    const n = h.shape.reduce((a, b) => a * b, 1);
    return fc.uint8Array({ minLength: n * sizeOf(h.descr), maxLength: n * sizeOf(h.descr) }).map((body) => ({ ...h, body }));
  });

/** Python literals as a header might hold them: the grammar ast.literal_eval accepts, and near misses. */
const pyLiteral: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom("'<f4'", "'<f8'", "'|u1'", "'>i8'", '"<f4"', 'True', 'False', 'None', '0', '1', '-1', '2L', '0x10', '1_000', '1.5', '1e3', '01', "b'x'", "u'<f4'", '__import__', "'\\x41'"),
    fc.integer({ min: -5, max: 1_000_000 }).map(String),
    fc.string({ maxLength: 6 }).map((s) => `'${s.replace(/['\\\n]/g, '')}'`),
    fc.array(tie('v'), { maxLength: 3 }).map((xs) => `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`),
    fc.array(tie('v'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
    fc.array(fc.tuple(tie('v'), tie('v')), { maxLength: 3 }).map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  ),
})).v;

/** Header dicts: the three keys with generated values, sometimes a fourth key, a missing one, deep nesting, or junk. */
const headerText = fc.oneof(
  fc
    .record({
      descr: fc.oneof(fc.constantFrom(...DTYPES).map((d) => `'${d}'`), pyLiteral),
      fortran: fc.oneof(fc.constantFrom('False', 'True'), pyLiteral),
      shape: fc.oneof(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).map(shapeText), pyLiteral),
      extra: fc.option(fc.tuple(fc.constantFrom("'extra'", "'descr'", "'ü'", '1', "''"), pyLiteral)),
      drop: fc.option(fc.constantFrom('descr', 'fortran_order', 'shape')),
    })
    .map((h) => {
      const items = [
        ['descr', `'descr': ${h.descr}`],
        ['fortran_order', `'fortran_order': ${h.fortran}`],
        ['shape', `'shape': ${h.shape}`],
      ].filter(([k]) => k !== h.drop).map(([, v]) => v);
      if (h.extra !== null) items.push(`${h.extra[0]}: ${h.extra[1]}`);
      return `{${items.join(', ')}, }`;
    }),
  fc.integer({ min: 1, max: 6000 }).map((d) => `{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(d)}1,${')'.repeat(d)}}`),
  fc.integer({ min: 1, max: 6000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
  pyLiteral,
  fc.string({ maxLength: 40 }),
);

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number[]; to: number[] }
  | { kind: 'cut'; at: number }
  | { kind: 'grow'; bytes: Uint8Array }
  | { kind: 'header'; text: string; major: number; pad: boolean }
  | { kind: 'length'; value: number }
  | { kind: 'version'; major: number; minor: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), to: fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('grow' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('header' as const), text: headerText, major: fc.constantFrom(1, 2, 3), pad: fc.boolean() }),
  fc.record({ kind: fc.constant('length' as const), value: fc.nat({ max: 0xffffffff }) }),
  fc.record({ kind: fc.constant('version' as const), major: fc.nat({ max: 255 }), minor: fc.nat({ max: 255 }) }),
);

function mutate(base: Uint8Array, body: Uint8Array, m: Mutation): Uint8Array {
  const b = Uint8Array.from(base);
  switch (m.kind) {
    case 'none':
      return b;
    case 'flip':
      m.at.forEach((p, i) => (b[p % b.length] = m.to[i]));
      return b;
    case 'cut':
      return b.subarray(0, m.at % (b.length + 1));
    case 'grow':
      return Uint8Array.from([...b, ...m.bytes]);
    case 'header':
      return npyBytes(m.text, body, m.major, m.pad);
    case 'length': {
      const v = new DataView(b.buffer);
      if (b[6] === 1) v.setUint16(8, m.value & 0xffff, true);
      else v.setUint32(8, m.value, true);
      return b;
    }
    case 'version':
      b[6] = m.major;
      b[7] = m.minor;
      return b;
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

describe('fuzz: mutated .npy files through the CLI reader', () => {
  it('each file reads into a consistent array or is a one-line UsageError naming the file', () => {
    const dir = tempDir();
    const path = join(dir, 'X.npy');
    const what = `--inputs ${path}`;
    const tally = { read: 0, refused: 0, deep: 0 };
    const details = fc.check(
      fc.property(validNpy, mutation, (v, m) => {
        const base = npyBytes(`{'descr': '${v.descr}', 'fortran_order': ${v.fortran ? 'True' : 'False'}, 'shape': ${shapeText(v.shape)}, }`, v.body, v.major);
        const bytes = mutate(base, v.body, m);
        if (m.kind === 'header' && /[([]{40}/.test(m.text)) tally.deep++;
        writeFileSync(path, bytes);
        const t0 = cpuClockMs();
        try {
          const a = readNpyFile(path, what, { allowIntegers: true });
          checkFinite(a.data, a.shape, what);
          expect(a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
          expect(a.data.length).toBe(product(a.shape));
          if (m.kind === 'none' && /[fiub]/.test(v.descr[1])) expect(a.shape).toEqual(v.shape);
          tally.read++;
        } catch (e) {
          if (!(e instanceof UsageError)) throw new Error(`${m.kind}: not a UsageError: ${String(e)}`);
          expect(e.message.startsWith(`${what}: `)).toBe(true);
          expect(e.message).not.toMatch(/[\r\n]/);
          tally.refused++;
        }
        expect(cpuClockMs() - t0).toBeLessThan(CASE_MS);
      }),
      { seed: SEED, numRuns: READER_RUNS },
    );
    console.log(`fuzz .npy reader: ${details.numRuns} cases (${tally.read} read, ${tally.refused} refused; ${tally.deep} with headers nested 40+ deep), seed ${SEED}`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'fuzz case failed');
    expect(details.numRuns).toBe(READER_RUNS);
    expect(tally.read).toBeGreaterThan(READER_RUNS / 10);
    expect(tally.refused).toBeGreaterThan(READER_RUNS / 10);
    expect(tally.deep).toBeGreaterThan(0);
  }, 300_000);
});

describe('fuzz: mutated .npy inputs through the vmm command', () => {
  it('each case writes a finite Y (exit 0) or exits 2 with one line naming the file, leaving no file', async () => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [8, 3], randomArray(24, 21));
    const finiteBody = (n: number, dtype: '<f4' | '<f8'): Uint8Array => {
      const xs = randomArray(n, n + 1);
      return new Uint8Array((dtype === '<f4' ? Float32Array.from(xs) : Float64Array.from(xs)).buffer);
    };
    // One run first, so the first case's time guard does not count loading the command's modules.
    const warm = writeNpy(dir, 'warm-X.npy', [1, 8], randomArray(8, 5));
    await runMain(['vmm', '--weights', W, '--inputs', warm, '--preset', 'isaac', '--out', join(dir, 'warm-Y.npy'), '--backend', 'cpu']);
    rmSync(join(dir, 'warm-Y.npy'));
    const tally = { ran: 0, refused: 0 };
    let n = 0;
    const details = await fc.check(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.constantFrom('<f4' as const, '<f8' as const), mutation, async (rows, dtype, m) => {
        const body = finiteBody(rows * 8, dtype);
        const bytes = mutate(npyBytes(`{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows}, 8), }`, body, 1), body, m);
        const x = join(dir, `X-${n}.npy`);
        const out = join(dir, `Y-${n}.npy`);
        n++;
        writeFileSync(x, bytes);
        const t0 = cpuClockMs();
        try {
          const r = await runMain(['vmm', '--weights', W, '--inputs', x, '--preset', 'isaac', '--out', out, '--backend', 'cpu']);
          expect(r.stderr).not.toMatch(/\n\s+at /);
          if (r.code === 0) {
            const y = parseNpy(readFileSync(out), 'Y');
            expect(y.shape[1]).toBe(3);
            expect(y.data.every(Number.isFinite)).toBe(true);
            tally.ran++;
          } else {
            expect(r.code, r.stderr).toBe(2);
            expect(r.ownStderrLines).toHaveLength(1);
            expect(r.ownStderrLines[0]).toMatch(new RegExp(`^xbarsim: --inputs ${x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
            expect(existsSync(out)).toBe(false);
            tally.refused++;
          }
          expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
          expect(cpuClockMs() - t0).toBeLessThan(CASE_MS);
        } finally {
          rmSync(x, { force: true });
          rmSync(out, { force: true });
        }
      }),
      { seed: SEED, numRuns: VMM_RUNS },
    );
    console.log(`fuzz .npy through vmm: ${details.numRuns} cases (${tally.ran} wrote Y, ${tally.refused} refused with exit 2), seed ${SEED}`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'fuzz case failed');
    expect(details.numRuns).toBe(VMM_RUNS);
    expect(tally.ran).toBeGreaterThan(5);
    expect(tally.refused).toBeGreaterThan(5);
  }, 600_000);
});
