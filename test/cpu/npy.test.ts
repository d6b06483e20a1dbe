import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { checkFinite, checkFloat32Range, encodeNpy, parseNpy, parseNpyFloat, readNpyFile, writeNpyFloat32 } from '../../src/io/npy.ts';

const dir = mkdtempSync(join(tmpdir(), 'xbarsim-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Builds a .npy file by hand: magic, version, header length, header text (padded like numpy), data. */
function build(header: string, data: Uint8Array | number[], major = 1, pad = true): Uint8Array {
  const prelude = major === 1 ? 10 : 12;
  let h = header;
  if (pad) h += ' '.repeat(64 - ((prelude + h.length + 1) % 64)) + '\n';
  const hb = major === 3 ? new TextEncoder().encode(h) : Uint8Array.from(h, (c) => c.charCodeAt(0));
  const out = new Uint8Array(prelude + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hb.length, true);
  else view.setUint32(8, hb.length, true);
  out.set(hb, prelude);
  out.set(data, prelude + hb.length);
  return out;
}

function hdr(descr: string, shape: string, fortran = false): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
}

/** Bytes of `values` written with DataView setter `set`, `size` bytes each. */
function pack(values: (number | bigint)[], size: number, set: (v: DataView, off: number, x: never) => void): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => set(view, i * size, x as never));
  return out;
}

const f8le = (xs: number[]) => pack(xs, 8, (v, o, x: number) => v.setFloat64(o, x, true));

/** Catches the UsageError thrown by fn and returns its message, checking it is one line starting with `what`. */
function usageMessage(fn: () => unknown, what: string): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UsageError);
  const msg = (caught as UsageError).message;
  expect(msg.startsWith(`${what}: `)).toBe(true);
  expect(msg).not.toMatch(/[\r\n]/);
  return msg;
}

// np.save(f, np.arange(6, dtype='<f8').reshape(2, 3)) with numpy >= 1.23 (header grows to 21 digits, padded to 128 bytes).
const NUMPY_ARANGE_2x3_F8 = hex(
  '934e554d5059010076007b276465736372273a20273c6638272c2027666f7274' +
    '72616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20' +
    '33292c207d202020202020202020202020202020202020202020202020202020' +
    '202020202020202020202020202020202020202020202020202020202020200a' +
    '0000000000000000000000000000f03f00000000000000400000000000000840' +
    '00000000000010400000000000001440',
);

describe('npy reading', () => {
  it('reads a numpy-produced file byte for byte, and encodeNpy reproduces it', () => {
    const a = parseNpy(NUMPY_ARANGE_2x3_F8, 'X.npy');
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('<f8');
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(encodeNpy([2, 3], '<f8', [0, 1, 2, 3, 4, 5])).toEqual(NUMPY_ARANGE_2x3_F8);
  });

  it('reads from an unaligned view into a larger buffer', () => {
    for (const descr of ['<f8', '>f8', '<i4'] as const) {
      const inner = descr === '<i4' ? build(hdr(descr, '(2,)'), [1, 0, 0, 0, 2, 0, 0, 0]) : encodeNpy([2], '<f8', [1, 2]);
      const bytes = descr === '>f8' ? build(hdr(descr, '(2,)'), pack([1, 2], 8, (v, o, x: number) => v.setFloat64(o, x, false))) : inner;
      const big = new Uint8Array(bytes.length + 4).fill(0xff);
      big.set(bytes, 3);
      expect(Array.from(parseNpy(big.subarray(3, 3 + bytes.length), 'X').data)).toEqual([1, 2]);
    }
  });

  it('round-trips f8 via encodeNpy', () => {
    const xs = [Math.PI, -0.5, 1e300, -1e-300, 0, 42];
    const bytes = encodeNpy([3, 2], '<f8', xs);
    expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
    const a = parseNpyFloat(bytes, 'X');
    expect(a.shape).toEqual([3, 2]);
    expect(Array.from(a.data)).toEqual(xs);
  });

  it('round-trips f4 via writeNpyFloat32 and readNpyFile', () => {
    const path = join(dir, 'w.npy');
    const xs = Array.from({ length: 24 }, (_, i) => Math.sin(i) * 100);
    writeNpyFloat32(path, [2, 3, 4], xs);
    const bytes = new Uint8Array(readFileSync(path));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
    expect((10 + hlen) % 64).toBe(0);
    expect(bytes[10 + hlen - 1]).toBe(0x0a);
    expect(bytes.length).toBe(10 + hlen + 24 * 4);
    const a = readNpyFile(path, '--weights w.npy');
    expect(a.shape).toEqual([2, 3, 4]);
    expect(a.dtype).toBe('<f4');
    expect(Array.from(a.data)).toEqual(xs.map(Math.fround));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reads format versions 2.0 and 3.0', () => {
    const v2 = parseNpy(build(hdr('<f8', '(2,)'), f8le([1.5, -2]), 2), 'v2');
    expect(v2.shape).toEqual([2]);
    expect(Array.from(v2.data)).toEqual([1.5, -2]);
    const v3 = parseNpy(build(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}`, f8le([7]), 3), 'v3');
    expect(Array.from(v3.data)).toEqual([7]);
    // UTF-8 is decoded (the key reads as ü), and then refused as numpy refuses any key but the three.
    expect(usageMessage(() => parseNpy(build(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'ü': 1}`, f8le([7]), 3), 'v3'), 'v3')).toMatch(/unknown key "ü"/);
  });

  it('accepts header spelling variants', () => {
    const data = f8le([1, 2, 3, 4, 5, 6]);
    for (const h of [
      `{"descr": "<f8", "fortran_order": False, "shape": (2, 3)}`,
      `{ 'shape' : ( 2 , 3 , ) , 'fortran_order' : False , 'descr' : '<f8' , }`,
      `{'descr':'<f8','fortran_order':False,'shape':(2L, 3L),}`,
      `{'descr': '=f8', 'fortran_order': False, 'shape': (0x2, 0o3)}`,
    ]) {
      const a = parseNpy(build(h, data), 'X');
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    // Header without padding or trailing newline.
    expect(parseNpy(build(hdr('<f8', '(2, 3)'), data, 1, false), 'X').shape).toEqual([2, 3]);
  });

  it('reads 0-d, 1-d and empty arrays', () => {
    const z = parseNpy(build(hdr('<f8', '()'), f8le([3.25])), 'X');
    expect(z.shape).toEqual([]);
    expect(Array.from(z.data)).toEqual([3.25]);
    const one = parseNpy(build(hdr('<f8', '(3,)'), f8le([1, 2, 3])), 'X');
    expect(one.shape).toEqual([3]);
    expect(Array.from(one.data)).toEqual([1, 2, 3]);
    const empty = parseNpy(build(hdr('<f4', '(0, 5)'), []), 'X');
    expect(empty.shape).toEqual([0, 5]);
    expect(empty.data.length).toBe(0);
  });

  it('transposes Fortran order into C order', () => {
    // C-order [[0, 1, 2], [3, 4, 5]] stored column-major: 0 3 1 4 2 5.
    const a = parseNpy(build(hdr('<f8', '(2, 3)', true), f8le([0, 3, 1, 4, 2, 5])), 'X');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
    // 3-d: element [i, j, k] = 100i + 10j + k, shape (2, 3, 4); Fortran order has i fastest.
    const fortran: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortran.push(100 * i + 10 * j + k);
    const b = parseNpy(build(hdr('<i4', '(2, 3, 4)', true), pack(fortran, 4, (v, o, x: number) => v.setInt32(o, x, true))), 'X');
    const c: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) c.push(100 * i + 10 * j + k);
    expect(Array.from(b.data)).toEqual(c);
    // 1-d Fortran order is the same as C order.
    expect(Array.from(parseNpy(build(hdr('<f8', '(3,)', true), f8le([1, 2, 3])), 'X').data)).toEqual([1, 2, 3]);
  });

  it('reads big-endian dtypes', () => {
    const cases: [string, number, (v: DataView, o: number, x: never) => void, number[]][] = [
      ['>f8', 8, (v, o, x: number) => v.setFloat64(o, x, false), [1.25, -3e10]],
      ['>f4', 4, (v, o, x: number) => v.setFloat32(o, x, false), [1.25, -0.5]],
      ['>i4', 4, (v, o, x: number) => v.setInt32(o, x, false), [-7, 2147483647]],
      ['>u4', 4, (v, o, x: number) => v.setUint32(o, x, false), [4294967295, 1]],
      ['>i2', 2, (v, o, x: number) => v.setInt16(o, x, false), [-32768, 5]],
      ['>u2', 2, (v, o, x: number) => v.setUint16(o, x, false), [65535, 5]],
    ];
    for (const [descr, size, set, xs] of cases) {
      const a = parseNpy(build(hdr(descr, `(${xs.length},)`), pack(xs, size, set)), 'X');
      expect(a.dtype).toBe(descr);
      expect(Array.from(a.data)).toEqual(xs);
    }
    const i8 = parseNpy(build(hdr('>i8', '(2,)'), pack([-5n, 2n ** 53n], 8, (v, o, x: bigint) => v.setBigInt64(o, x, false))), 'X');
    expect(Array.from(i8.data)).toEqual([-5, 2 ** 53]);
  });

  it('reads little-endian integer dtypes and bool', () => {
    const cases: [string, number, (v: DataView, o: number, x: never) => void, number[]][] = [
      ['|u1', 1, (v, o, x: number) => v.setUint8(o, x), [0, 255, 7]],
      ['|i1', 1, (v, o, x: number) => v.setInt8(o, x), [-128, 127, 0]],
      ['<i2', 2, (v, o, x: number) => v.setInt16(o, x, true), [-32768, 32767, 1]],
      ['<u2', 2, (v, o, x: number) => v.setUint16(o, x, true), [65535, 0, 1]],
      ['<i4', 4, (v, o, x: number) => v.setInt32(o, x, true), [-2147483648, 2147483647, 3]],
      ['<u4', 4, (v, o, x: number) => v.setUint32(o, x, true), [4294967295, 0, 3]],
    ];
    for (const [descr, size, set, xs] of cases) {
      const a = parseNpy(build(hdr(descr, `(${xs.length},)`), pack(xs, size, set)), 'X');
      expect(a.dtype).toBe(descr);
      expect(Array.from(a.data)).toEqual(xs);
    }
    const i8 = pack([-(2n ** 53n), 9n, 2n ** 53n], 8, (v, o, x: bigint) => v.setBigInt64(o, x, true));
    expect(Array.from(parseNpy(build(hdr('<i8', '(3,)'), i8), 'X').data)).toEqual([-(2 ** 53), 9, 2 ** 53]);
    const u8 = pack([0n, 2n ** 53n], 8, (v, o, x: bigint) => v.setBigUint64(o, x, true));
    expect(Array.from(parseNpy(build(hdr('<u8', '(2,)'), u8), 'X').data)).toEqual([0, 2 ** 53]);
    const b = parseNpy(build(hdr('|b1', '(2, 2)'), [1, 0, 0, 1]), 'X');
    expect(b.dtype).toBe('|b1');
    expect(Array.from(b.data)).toEqual([1, 0, 0, 1]);
  });

  it('rejects 64-bit integers beyond 2^53', () => {
    const i8 = pack([1n, 2n ** 53n + 1n], 8, (v, o, x: bigint) => v.setBigInt64(o, x, true));
    const msg = usageMessage(() => parseNpy(build(hdr('<i8', '(1, 2)'), i8), '--weights W.npy'), '--weights W.npy');
    expect(msg).toMatch(/9007199254740993 at \[0, 1\].*2\^53/);
    const u8 = pack([2n ** 64n - 1n], 8, (v, o, x: bigint) => v.setBigUint64(o, x, true));
    usageMessage(() => parseNpy(build(hdr('<u8', '(1,)'), u8), 'X'), 'X');
  });

  it('parseNpyFloat accepts only floats unless allowIntegers', () => {
    const ints = build(hdr('<i4', '(1,)'), [5, 0, 0, 0]);
    const msg = usageMessage(() => parseNpyFloat(ints, '--inputs X.npy'), '--inputs X.npy');
    expect(msg).toMatch(/'<i4' is not a float/);
    expect(Array.from(parseNpyFloat(ints, 'X', { allowIntegers: true }).data)).toEqual([5]);
    const be = build(hdr('>f4', '(1,)'), pack([2.5], 4, (v, o, x: number) => v.setFloat32(o, x, false)));
    expect(Array.from(parseNpyFloat(be, 'X').data)).toEqual([2.5]);
    usageMessage(() => parseNpyFloat(build(hdr('|b1', '(1,)'), [1]), 'X'), 'X');
  });
});

describe('npy errors: one line starting with what', () => {
  const W = '--weights W.npy';
  const good = build(hdr('<f8', '(4, 128)'), new Uint8Array(4096));

  it("reads float16 ('<f2', '>f2': what a float16 model's numpy inputs are) exactly, subnormals included", () => {
    // 1, -2.5, 65504 (the largest half), 2^-24 (the smallest subnormal), -0.
    const bits = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x8000];
    for (const little of [true, false]) {
      const body = new Uint8Array(bits.length * 2);
      const view = new DataView(body.buffer);
      bits.forEach((b, i) => view.setUint16(2 * i, b, little));
      const a = parseNpy(build(hdr(little ? '<f2' : '>f2', '(5,)'), body), 'x.npy');
      expect(a.dtype).toBe(little ? '<f2' : '>f2');
      expect(Array.from(a.data)).toEqual([1, -2.5, 65504, 2 ** -24, -0]);
    }
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['empty file', new Uint8Array(0), /not a \.npy file/],
    ['not magic', new TextEncoder().encode('a,b,c\n1,2,3\n'), /not a \.npy file/],
    ['truncated magic', good.subarray(0, 4), /truncated header/],
    ['truncated prelude', good.subarray(0, 9), /truncated header/],
    ['truncated header', good.subarray(0, 40), /truncated header/],
    ['truncated data', good.subarray(0, 128 + 100), /truncated data: expected 4096 bytes, got 100$/],
    ['trailing data', build(hdr('<f8', '(1,)'), new Uint8Array(9)), /trailing data: expected 8 bytes, got 9/],
    ['unsupported version', Uint8Array.from([...good.subarray(0, 6), 4, 0, ...good.subarray(8)]), /version 4\.0/],
    ['complex dtype', build(hdr('<c16', '(1,)'), new Uint8Array(16)), /unsupported dtype "<c16"/],
    ['string dtype', build(hdr('<U3', '(1,)'), new Uint8Array(12)), /unsupported dtype/],
    ['float128', build(hdr('<f16', '(1,)'), new Uint8Array(16)), /unsupported dtype/],
    ['structured dtype', build(`{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(8)), /unsupported dtype/],
    ['header not a dict', build(`['<f8', False, (1,)]`, f8le([1])), /bad header: not a dict/],
    ['header garbage', build(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,)`, f8le([1])), /bad header/],
    ['eval bait', build(`{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (1,)}`, f8le([1])), /bad header: unexpected name "__import__"/],
    ['missing shape', build(`{'descr': '<f8', 'fortran_order': False}`, f8le([1])), /missing key 'shape'/],
    ['negative shape', build(hdr('<f8', '(-1,)'), f8le([1])), /bad header: 'shape'/],
    ['shape not a tuple', build(hdr('<f8', '(1)'), f8le([1])), /bad header: 'shape'/],
    ['float in shape', build(hdr('<f8', '(1.0,)'), f8le([1])), /bad header/],
    ['fortran_order not bool', build(`{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}`, f8le([1])), /fortran_order/],
    ['newline inside header', build(`{'descr': '<f8',\n 'fortran_order': 0, 'shape': (1,)}`, f8le([1])), /fortran_order/],
    ['duplicate key', build(`{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}`, f8le([1])), /duplicate key/],
    // numpy.lib.format._read_array_header: exactly the three keys, shape a tuple, a bounded header.
    ['unknown key', build(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 0}`, f8le([1])), /bad header: unknown key "extra"/],
    ['shape a list', build(hdr('<f8', '[1]'), f8le([1])), /bad header: 'shape' must be a tuple/],
    ['leading zeros', build(hdr('<f8', '(01,)'), f8le([1])), /bad header: bad number/],
    ['deep nesting', build(`{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(4000)}${')'.repeat(4000)}}`, f8le([1])), /bad header: nested deeper than 32 levels/],
    ['header over numpy\'s limit', build(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}${' '.repeat(10_000)}`, f8le([1]), 2), /bad header: \d+ characters long; numpy refuses headers over 10000/],
  ])('%s', (_name, bytes, pattern) => {
    expect(usageMessage(() => parseNpy(bytes, W), W)).toMatch(pattern);
  });

  it('file not found and directory', () => {
    const missing = join(dir, 'nope.npy');
    expect(usageMessage(() => readNpyFile(missing, `--weights ${missing}`), `--weights ${missing}`)).toMatch(/file not found$/);
    expect(usageMessage(() => readNpyFile(missing, '--weights'), '--weights')).toContain(missing);
    expect(usageMessage(() => readNpyFile(dir, '--inputs'), '--inputs')).toMatch(/is a directory/);
  });

  it('readNpyFile reports bad contents with what', () => {
    const path = join(dir, 'bad.npy');
    writeFileSync(path, 'hello');
    expect(usageMessage(() => readNpyFile(path, '--inputs X.npy'), '--inputs X.npy')).toMatch(/not a \.npy file/);
  });
});

describe('checkFinite', () => {
  it('passes finite data', () => {
    expect(() => checkFinite([1, 2, -3, 0], [2, 2], 'X')).not.toThrow();
  });

  it('names the first NaN/Inf by multi-index', () => {
    const xs = new Float64Array(5 * 20);
    xs[3 * 20 + 17] = NaN;
    xs[4 * 20] = Infinity;
    expect(usageMessage(() => checkFinite(xs, [5, 20], '--inputs X.npy'), '--inputs X.npy')).toBe('--inputs X.npy: NaN at [3, 17]');
    expect(usageMessage(() => checkFinite([0, 0, -Infinity], [3], 'Y'), 'Y')).toBe('Y: -Inf at [2]');
    expect(usageMessage(() => checkFinite(new Float32Array([Infinity]), [], 'Z'), 'Z')).toBe('Z: Inf at []');
    expect(usageMessage(() => checkFinite([0, 0, 0, 0, 0, 0, NaN, 0], [2, 2, 2], 'W'), 'W')).toBe('W: NaN at [1, 1, 0]');
  });
});

describe('checkFloat32Range', () => {
  it('names the first value a float32 cannot hold (found by fuzzing: 6.8e38 in a float64 X gave Y = -Inf)', () => {
    expect(() => checkFloat32Range([3.4e38, -3.4e38, 1e-45, 0], [4], 'X')).not.toThrow();
    expect(usageMessage(() => checkFloat32Range([1, 6.8e38, -1e39], [1, 3], '--inputs X.npy'), '--inputs X.npy')).toBe(
      "--inputs X.npy: 6.8e+38 at [0, 1] is beyond float32's range (±3.4e38), which the simulator computes in",
    );
  });
});

describe('writeNpyFloat32', () => {
  const tmpFiles = (d: string) => readdirSync(d).filter((f) => f.includes('.tmp-'));

  it('replaces an existing file and leaves no temp file', () => {
    const sub = join(dir, 'replace');
    mkdirSync(sub);
    const path = join(sub, 'out.npy');
    writeFileSync(path, 'old contents');
    writeNpyFloat32(path, [2], [1, 2]);
    expect(Array.from(readNpyFile(path, 'out').data)).toEqual([1, 2]);
    expect(readdirSync(sub)).toEqual(['out.npy']);
  });

  it('fails cleanly when the target directory is missing', () => {
    const path = join(dir, 'no-such-dir', 'out.npy');
    const msg = usageMessage(() => writeNpyFloat32(path, [2, 2], [1, 2, 3, 4], '--output out.npy'), '--output out.npy');
    expect(msg).toMatch(/cannot write.*directory does not exist/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
  });

  it('fails cleanly when the target is a directory', () => {
    const sub = join(dir, 'isdir');
    mkdirSync(join(sub, 'out.npy'), { recursive: true });
    usageMessage(() => writeNpyFloat32(join(sub, 'out.npy'), [1], [1]), join(sub, 'out.npy'));
    expect(tmpFiles(sub)).toEqual([]);
  });

  it('rejects data that does not match the shape and writes nothing', () => {
    const path = join(dir, 'mismatch.npy');
    expect(usageMessage(() => writeNpyFloat32(path, [2, 3], [1, 2, 3], '--output m.npy'), '--output m.npy')).toMatch(/needs 6 values, got 3/);
    usageMessage(() => writeNpyFloat32(path, [-1], [], 'o'), 'o');
    expect(existsSync(path)).toBe(false);
    expect(tmpFiles(dir)).toEqual([]);
  });

  it('writes 0-d and empty arrays', () => {
    const p0 = join(dir, 'scalar.npy');
    writeNpyFloat32(p0, [], [2.5]);
    const a = readNpyFile(p0, 's');
    expect(a.shape).toEqual([]);
    expect(Array.from(a.data)).toEqual([2.5]);
    const pe = join(dir, 'empty.npy');
    writeNpyFloat32(pe, [0, 3], []);
    expect(readNpyFile(pe, 'e').shape).toEqual([0, 3]);
  });
});
