// LeCun's IDX format (MNIST, Fashion-MNIST): a 4-byte magic (two zero bytes, a type code, the number
// of dimensions), one big-endian u32 per dimension, then the values in row-major order. Pure (no file
// access, no gunzip) so the browser build can parse the same bytes; the Node loader inflates them.
import { UsageError } from '../../errors.ts';

/** A parsed unsigned-byte IDX array. */
export interface IdxArray {
  dims: number[];
  /** Row-major values (a view into the parsed bytes, no copy). */
  data: Uint8Array;
}

/** IDX type codes (the third magic byte); only unsigned bytes are used by image datasets. */
const IDX_TYPES: Readonly<Record<number, string>> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const IDX_UBYTE = 0x08;

/** Parses an uncompressed unsigned-byte IDX file; `label` names the file in one-line errors. */
export function parseIdx(bytes: Uint8Array, label: string): IdxArray {
  if (bytes.length < 4) throw new UsageError(`${label}: not an IDX file (${bytes.length} bytes, no header)`);
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in IDX_TYPES)) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new UsageError(`${label}: not an IDX file (magic 0x${magic})`);
  }
  if (bytes[2] !== IDX_UBYTE) throw new UsageError(`${label}: IDX values are ${IDX_TYPES[bytes[2]]}; only uint8 is supported`);
  const ndim = bytes[3];
  const start = 4 + 4 * ndim;
  if (ndim === 0 || bytes.length < start) throw new UsageError(`${label}: truncated IDX header (${ndim} dimensions, ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== count) {
    throw new UsageError(`${label}: IDX header says [${dims.join(', ')}] (${count} values) but the file holds ${bytes.length - start}`);
  }
  return { dims, data: bytes.subarray(start) };
}
