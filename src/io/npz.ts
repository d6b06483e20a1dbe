// NumPy .npz archives: a ZIP file of .npy members (numpy.savez writes them stored, savez_compressed
// deflated). Reading takes both; writing stores (no compression), which numpy.load reads.
// ZIP format: PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7 (local header), 4.3.12 (central directory),
// 4.3.16 (end of central directory). ZIP64 and encryption are refused.
import { inflateRawSync } from 'node:zlib';
import { UsageError } from '../errors.ts';
import { parseNpy, type NpyArray } from './npy.ts';

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) of a byte array, as ZIP stores it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The members of a ZIP archive (name → bytes); every failure is a one-line UsageError naming `what`. */
export function readZip(bytes: Uint8Array, what: string): Map<string, Uint8Array> {
  const fail = (why: string): never => {
    throw new UsageError(`${what}: not a readable .npz (ZIP) archive: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  // The end record sits in the last 22 + 65535 (comment) bytes.
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === END_SIG) {
      end = i;
      break;
    }
  }
  if (end < 0) fail('no end-of-central-directory record');
  const count = view.getUint16(end + 10, true);
  let p = view.getUint32(end + 16, true);
  if (count === 0xffff || p === 0xffffffff) fail('ZIP64 archives are not supported');
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIG) fail('corrupt central directory');
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const csize = view.getUint32(p + 20, true);
    const usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) fail(`member "${name}" is encrypted`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL_SIG) fail(`member "${name}": corrupt local header`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + csize > bytes.length) fail(`member "${name}" is truncated`);
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch {
        return fail(`member "${name}": corrupt deflate data`);
      }
    } else return fail(`member "${name}": compression method ${method} (allowed: 0 stored, 8 deflate)`);
    if (data.length !== usize || crc32(data) !== crc) fail(`member "${name}": CRC or size mismatch`);
    out.set(name, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** The arrays of an .npz archive by key (member name without ".npy"). */
export function parseNpz(bytes: Uint8Array, what: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [name, data] of readZip(bytes, what)) {
    // numpy.savez names members KEY.npy and numpy.load strips the suffix; a member without it is read the same.
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    out.set(key, parseNpy(data, `${what} (${key})`));
  }
  return out;
}

/** A stored (uncompressed) ZIP archive of the members, in order; numpy.load reads it as an .npz. */
export function encodeZip(members: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const crc = crc32(m.data);
    if (m.data.length >= 0xffffffff || offset >= 0xffffffff) throw new Error('npz: archives over 4 GiB need ZIP64, which is not written');
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL_SIG, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, 0, true); // stored
    lv.setUint32(10, 0x00210000, true); // 1980-01-01 00:00: a fixed time keeps files reproducible
    lv.setUint32(14, crc, true);
    lv.setUint32(18, m.data.length, true);
    lv.setUint32(22, m.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, CENTRAL_SIG, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint32(12, 0x00210000, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, m.data.length, true);
    cv.setUint32(24, m.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, m.data);
    central.push(c);
    offset += local.length + m.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, END_SIG, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const a of [...parts, ...central, end]) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}
