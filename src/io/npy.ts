// NumPy .npy reading (format 1.0, 2.0, 3.0) and writing (format 1.0).
// Over 400 lines on purpose: one file format, one module. The header grammar (numpy's
// _read_array_header, exactly), the dtype decoders and the writer share the same rules and error
// texts, and splitting them would put halves of one validation in two places.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { halfToFloat } from './half.ts';

/** A decoded .npy array: C-order values converted to float64. */
export interface NpyArray {
  /** Dimensions; [] for a 0-d array. */
  shape: number[];
  /** The normalized dtype descriptor of the file, e.g. '<f4', '>i8', '|u1', '|b1'. */
  dtype: string;
  /** prod(shape) values in C (row-major) order. */
  data: Float64Array;
}

/** Options for the float-only readers. */
export interface NpyReadOptions {
  /** Also accept integer and bool dtypes (converted to float64). */
  allowIntegers?: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy pads the header so the growth axis can reach 21 digits
const SUPPORTED = "'<f2', '<f4', '<f8', '|u1', '|i1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8', '|b1' (and '>' variants)";

type Kind = 'f' | 'i' | 'u' | 'b';

interface Dtype {
  kind: Kind;
  size: number;
  little: boolean;
  /** Normalized descriptor. */
  descr: string;
}

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(what: string, msg: string): never {
  throw new UsageError(`${what}: ${msg}`.replace(/\s*[\r\n]+\s*/g, ' '));
}

/** Shows a piece of untrusted text on one line, shortened. */
function show(s: string, max = 80): string {
  const q = JSON.stringify(s.length > max ? s.slice(0, max) + '...' : s);
  return q;
}

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Multi-index of flat element `flat` (C order, or Fortran order when `fortran`). */
function multiIndex(flat: number, shape: readonly number[], fortran = false): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  if (fortran) {
    for (let k = 0; k < shape.length; k++) {
      idx[k] = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
    }
  } else {
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
    }
  }
  return idx;
}

// ---------------------------------------------------------------------------
// Header: a Python literal dict, parsed without eval.

type PyValue =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; v: PyValue[] }
  | { t: 'list'; v: PyValue[] }
  | { t: 'dict'; v: Map<string, PyValue> };

class HeaderSyntaxError extends Error {}

/**
 * Deepest nesting of brackets accepted. A valid header nests two levels (the dict, the shape
 * tuple); the limit keeps a hostile header from exhausting the stack.
 */
const MAX_DEPTH = 32;

/** numpy's own limit on a header's length (numpy.lib.format._MAX_HEADER_SIZE): longer ones are refused as unsafe. */
export const MAX_HEADER_SIZE = 10000;

const DIGITS = '[0-9](_?[0-9])*';
const EXPONENT = `[eE][-+]?${DIGITS}`;
/** A Python float literal: `1.5`, `.5`, `1.`, `1e3`, with `_` separators. */
const FLOAT_RE = new RegExp(`^[-+]?((${DIGITS})?\\.${DIGITS}(${EXPONENT})?|${DIGITS}\\.(${DIGITS})?(${EXPONENT})?|${DIGITS}${EXPONENT})(?![0-9A-Za-z_.])`);

/** A Python literal parser for the subset ast.literal_eval evaluates in a .npy header. */
class PyLiteralParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly src: string) {}

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.pos < this.src.length) this.err(`unexpected ${show(this.src.slice(this.pos, this.pos + 10))}`);
    return v;
  }

  private err(msg: string): never {
    throw new HeaderSyntaxError(`${msg} at offset ${this.pos}`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private value(): PyValue {
    this.ws();
    if (this.pos >= this.src.length) this.err('unexpected end');
    const c = this.src[this.pos];
    if (c === '{' || c === '(' || c === '[') {
      if (++this.depth > MAX_DEPTH) this.err(`nested deeper than ${MAX_DEPTH} levels`);
      const v = c === '{' ? this.dict() : c === '(' ? this.tuple() : this.list();
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return { t: 'str', v: this.str() };
    if (/[-+0-9.]/.test(c)) return this.number();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos, this.pos + 64));
    if (m) {
      this.pos += m[0].length;
      if (m[0] === 'True') return { t: 'bool', v: true };
      if (m[0] === 'False') return { t: 'bool', v: false };
      if (m[0] === 'None') return { t: 'none' };
      this.pos -= m[0].length;
      this.err(`unexpected name ${show(m[0])}`);
    }
    this.err(`unexpected ${show(c)}`);
  }

  /** Items up to `close`, comma separated, trailing comma allowed; `sawComma` reports any comma. */
  private items(close: string, item: () => void): boolean {
    let sawComma = false;
    this.pos++; // opening bracket
    for (;;) {
      this.ws();
      if (this.src[this.pos] === close) {
        this.pos++;
        return sawComma;
      }
      item();
      this.ws();
      const c = this.src[this.pos];
      if (c === ',') {
        sawComma = true;
        this.pos++;
      } else if (c !== close) {
        this.err(c === undefined ? 'unexpected end' : `expected ',' or '${close}', got ${show(c)}`);
      }
    }
  }

  private dict(): PyValue {
    const v = new Map<string, PyValue>();
    this.items('}', () => {
      const key = this.value();
      if (key.t !== 'str') this.err('dict key is not a string');
      this.ws();
      if (this.src[this.pos] !== ':') this.err("expected ':'");
      this.pos++;
      if (v.has(key.v)) this.err(`duplicate key ${show(key.v)}`);
      v.set(key.v, this.value());
    });
    return { t: 'dict', v };
  }

  private tuple(): PyValue {
    const v: PyValue[] = [];
    const sawComma = this.items(')', () => v.push(this.value()));
    // `(x)` is just a parenthesized x; `(x,)` and `()` are tuples.
    if (v.length === 1 && !sawComma) return v[0];
    return { t: 'tuple', v };
  }

  private list(): PyValue {
    const v: PyValue[] = [];
    this.items(']', () => v.push(this.value()));
    return { t: 'list', v };
  }

  /** A Python 3 int (decimal, 0x/0o/0b, `_` separators, Python 2's `L` suffix) or float literal, with an optional sign. */
  private number(): PyValue {
    const rest = this.src.slice(this.pos, this.pos + 64);
    const m =
      /^[-+]?(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|[1-9](_?[0-9])*|0(_?0)*)[lL]?(?![0-9A-Za-z_.])/.exec(rest) ??
      FLOAT_RE.exec(rest);
    if (!m) this.err('bad number');
    const text = m[0].replace(/_/g, '').replace(/[lL]$/, '');
    this.pos += m[0].length;
    if (/^[-+]?0[xXoObB]/.test(text)) {
      const neg = text.startsWith('-');
      const body = text.replace(/^[-+]/, '');
      const radix = { x: 16, o: 8, b: 2 }[body[1].toLowerCase() as 'x' | 'o' | 'b'];
      const n = parseInt(body.slice(2), radix);
      if (!Number.isSafeInteger(n)) this.err(`integer ${show(m[0])} too large`);
      return { t: 'int', v: neg ? -n : n };
    }
    if (/[.eE]/.test(text)) return { t: 'float', v: Number(text) };
    const n = Number(text);
    if (!Number.isSafeInteger(n)) this.err(`integer ${show(m[0])} too large`);
    return { t: 'int', v: n };
  }

  private str(): string {
    const quote = this.src[this.pos++];
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) this.err('unterminated string');
      const c = this.src[this.pos++];
      if (c === quote) return out;
      if (c === '\n') this.err('newline in string');
      if (c === '\\') {
        const e = this.src[this.pos++];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
        if (e !== undefined && e in simple) out += simple[e];
        else this.err('unsupported escape in string');
      } else {
        out += c;
      }
    }
  }
}

function parseDtype(descr: string): Dtype | undefined {
  const m = /^([<>|=]?)([fiub])([0-9]+)$/.exec(descr);
  if (!m) return undefined;
  const kind = m[2] as Kind;
  const size = Number(m[3]);
  const ok =
    (kind === 'f' && (size === 2 || size === 4 || size === 8)) ||
    ((kind === 'i' || kind === 'u') && (size === 1 || size === 2 || size === 4 || size === 8)) ||
    (kind === 'b' && size === 1);
  if (!ok) return undefined;
  if (size === 1) return { kind, size, little: true, descr: `|${kind}${size}` };
  if (m[1] === '|') return undefined; // multi-byte type needs a byte order
  const little = m[1] !== '>';
  return { kind, size, little, descr: `${little ? '<' : '>'}${kind}${size}` };
}

/** The keys of a .npy header, all required and no others (numpy's EXPECTED_KEYS). */
const HEADER_KEYS: readonly string[] = ['descr', 'fortran_order', 'shape'];

interface Header {
  dtype: Dtype;
  fortran: boolean;
  shape: number[];
  dataStart: number;
}

function readHeader(bytes: Uint8Array, what: string): Header {
  if (bytes.length === 0) fail(what, 'not a .npy file (empty file)');
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= bytes.length) fail(what, `truncated header: file is only ${bytes.length} bytes`);
    if (bytes[i] !== MAGIC[i]) fail(what, 'not a .npy file (missing \\x93NUMPY magic)');
  }
  if (bytes.length < 8) fail(what, `truncated header: file is only ${bytes.length} bytes`);
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) fail(what, `unsupported .npy format version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  const prelude = 8 + lenBytes;
  if (bytes.length < prelude) fail(what, `truncated header: file is only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prelude + hlen;
  if (bytes.length < dataStart) {
    fail(what, `truncated header: header needs ${hlen} bytes, got ${bytes.length - prelude}`);
  }
  const raw = bytes.subarray(prelude, dataStart);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      fail(what, 'bad header: not valid UTF-8');
    }
  } else {
    text = '';
    for (let i = 0; i < raw.length; i += 8192) {
      text += String.fromCharCode(...raw.subarray(i, Math.min(raw.length, i + 8192)));
    }
  }

  if (text.length > MAX_HEADER_SIZE) {
    fail(what, `bad header: ${text.length} characters long; numpy refuses headers over ${MAX_HEADER_SIZE} as unsafe to load`);
  }
  let parsed: PyValue;
  try {
    parsed = new PyLiteralParser(text).parseTop();
  } catch (e) {
    if (e instanceof HeaderSyntaxError) fail(what, `bad header: ${e.message} in ${show(text.trim())}`);
    throw e;
  }
  // From here on, numpy.lib.format._read_array_header's checks, in its order.
  if (parsed.t !== 'dict') fail(what, `bad header: not a dict: ${show(text.trim())}`);
  const d = parsed.v;
  for (const key of HEADER_KEYS) {
    if (!d.has(key)) fail(what, `bad header: missing key '${key}' in ${show(text.trim())}`);
  }
  for (const key of d.keys()) {
    if (!HEADER_KEYS.includes(key)) fail(what, `bad header: unknown key ${show(key)} (a .npy header holds exactly 'descr', 'fortran_order' and 'shape')`);
  }

  const sv = d.get('shape')!;
  // numpy wants a tuple (a list is refused) of Python ints; bool is an int subclass there, so True counts as 1.
  if (sv.t !== 'tuple') fail(what, "bad header: 'shape' must be a tuple of integers");
  const shape: number[] = [];
  for (const x of sv.v) {
    const dim = x.t === 'int' ? x.v : x.t === 'bool' ? Number(x.v) : -1;
    if (dim < 0) fail(what, "bad header: 'shape' must be a tuple of non-negative integers");
    shape.push(dim);
  }

  const fo = d.get('fortran_order')!;
  if (fo.t !== 'bool') fail(what, "bad header: 'fortran_order' must be True or False");

  const descrV = d.get('descr')!;
  if (descrV.t !== 'str') fail(what, `unsupported dtype (structured or non-string descr); supported: ${SUPPORTED}`);
  const dtype = parseDtype(descrV.v);
  if (!dtype) fail(what, `unsupported dtype ${show(descrV.v)}; supported: ${SUPPORTED}`);

  return { dtype, fortran: fo.v, shape, dataStart };
}

// ---------------------------------------------------------------------------
// Data

function decodeValues(bytes: Uint8Array, start: number, n: number, dt: Dtype, h: Header, what: string): Float64Array {
  const out = new Float64Array(n);
  const nbytes = n * dt.size;
  if (dt.kind === 'f' && dt.size !== 2 && dt.little === HOST_LITTLE) {
    const copy = new Uint8Array(nbytes); // aligned copy (Buffer#slice would not copy)
    copy.set(bytes.subarray(start, start + nbytes));
    if (dt.size === 8) out.set(new Float64Array(copy.buffer, 0, n));
    else out.set(new Float32Array(copy.buffer, 0, n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, nbytes);
  const le = dt.little;
  switch (`${dt.kind}${dt.size}`) {
    case 'f2':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, le));
      break;
    case 'f4':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, le);
      break;
    case 'f8':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, le);
      break;
    case 'i1':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case 'u1':
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      break;
    case 'b1':
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i) !== 0 ? 1 : 0;
      break;
    case 'i2':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, le);
      break;
    case 'u2':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, le);
      break;
    case 'i4':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, le);
      break;
    case 'u4':
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, le);
      break;
    case 'i8':
    case 'u8': {
      const limit = 2n ** 53n;
      for (let i = 0; i < n; i++) {
        const v = dt.kind === 'i' ? view.getBigInt64(i * 8, le) : view.getBigUint64(i * 8, le);
        if (v > limit || v < -limit) {
          const at = multiIndex(i, h.shape, h.fortran);
          fail(what, `${dt.descr} value ${v} at [${at.join(', ')}] is beyond 2^53 and cannot be represented exactly`);
        }
        out[i] = Number(v);
      }
      break;
    }
    default:
      fail(what, `unsupported dtype ${show(dt.descr)}`);
  }
  return out;
}

/** Reorders Fortran-order (column-major) values into C order. */
function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const nd = shape.length;
  const nonUnit = shape.filter((d) => d !== 1).length;
  if (nonUnit < 2 || src.length === 0) return src; // same memory layout either way
  const cStrides = new Array<number>(nd);
  let s = 1;
  for (let k = nd - 1; k >= 0; k--) {
    cStrides[k] = s;
    s *= shape[k];
  }
  const out = new Float64Array(src.length);
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let f = 0; f < src.length; f++) {
    out[off] = src[f];
    for (let k = 0; k < nd; k++) {
      idx[k]++;
      off += cStrides[k];
      if (idx[k] < shape[k]) break;
      off -= cStrides[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** The shape a .npy file's header declares (its data is not read or checked). */
export function npyShape(bytes: Uint8Array, what: string): number[] {
  return readHeader(bytes, what).shape;
}

/** Parses .npy bytes (format 1.0/2.0/3.0) into C-order float64 values; errors are one-line UsageErrors starting with `what`. */
export function parseNpy(bytes: Uint8Array, what: string): NpyArray {
  return decodeBody(bytes, readHeader(bytes, what), what);
}

function decodeBody(bytes: Uint8Array, h: Header, what: string): NpyArray {
  const n = product(h.shape);
  const expected = n * h.dtype.size;
  const got = bytes.length - h.dataStart;
  if (got < expected) fail(what, `truncated data: expected ${expected} bytes, got ${got}`);
  if (got > expected) fail(what, `unexpected trailing data: expected ${expected} bytes, got ${got}`);
  let data = decodeValues(bytes, h.dataStart, n, h.dtype, h, what);
  if (h.fortran) data = fortranToC(data, h.shape);
  return { shape: h.shape, dtype: h.dtype.descr, data };
}

/** Like parseNpy, but only float dtypes ('<f2', '<f4', '<f8' and their '>' forms) unless `opts.allowIntegers` also admits integer and bool ones. */
export function parseNpyFloat(bytes: Uint8Array, what: string, opts: NpyReadOptions = {}): NpyArray {
  const h = readHeader(bytes, what);
  if (h.dtype.kind !== 'f' && !opts.allowIntegers) {
    fail(what, `dtype '${h.dtype.descr}' is not a float type (expected '<f2', '<f4' or '<f8'; convert with arr.astype('float32'))`);
  }
  return decodeBody(bytes, h, what);
}

function osReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function pathNote(what: string, path: string): string {
  return what.includes(path) ? '' : ` (${path})`;
}

/** A file's bytes; a missing file, a directory or no permission is a one-line UsageError naming `what`. */
export function readInputBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    fail(what, `cannot read${pathNote(what, path)}: ${osReason(e)}`);
  }
}

/** Reads a .npy file synchronously via parseNpyFloat; missing files, directories and bad contents throw one-line UsageErrors. */
export function readNpyFile(path: string, what: string, opts: NpyReadOptions = {}): NpyArray {
  return parseNpyFloat(readInputBytes(path, what), what, opts);
}

/** Throws a UsageError naming the first NaN or infinite value by its C-order multi-index, e.g. `X.npy: NaN at [3, 17]`. */
export function checkFinite(data: ArrayLike<number>, shape: number[], what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v)) continue;
    const label = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
    const at = product(shape) === data.length ? multiIndex(i, shape) : [i];
    fail(what, `${label} at [${at.join(', ')}]`);
  }
}

/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

/**
 * Throws a UsageError naming the first value beyond float32's range by its multi-index: the GPU
 * computes in float32, where it would be Inf (and the CPU path would disagree with it).
 */
export function checkFloat32Range(data: ArrayLike<number>, shape: number[], what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Math.abs(v) <= F32_MAX) continue;
    const at = product(shape) === data.length ? multiIndex(i, shape) : [i];
    fail(what, `${v} at [${at.join(', ')}] is beyond float32's range (±3.4e38), which the simulator computes in`);
  }
}

// ---------------------------------------------------------------------------
// Writing

function checkShape(shape: readonly number[], n: number, what: string): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(what, `bad shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
  }
  if (product(shape) !== n) fail(what, `shape ${shapeRepr(shape)} needs ${product(shape)} values, got ${n}`);
}

/** Encodes a C-order .npy file (format 1.0, or 2.0 if the header cannot fit) with numpy's exact header layout. */
export function encodeNpy(shape: number[], dtype: '<f4' | '<f8', data: ArrayLike<number>): Uint8Array {
  if (dtype !== '<f4' && dtype !== '<f8') fail('encodeNpy', `unsupported dtype ${show(String(dtype))}`);
  checkShape(shape, data.length, 'encodeNpy');
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  let major = 1;
  let prelude = 10;
  let pad = ARRAY_ALIGN - ((prelude + header.length + 1) % ARRAY_ALIGN);
  if (header.length + pad + 1 > 0xffff) {
    major = 2;
    prelude = 12;
    pad = ARRAY_ALIGN - ((prelude + header.length + 1) % ARRAY_ALIGN);
  }
  header += ' '.repeat(pad) + '\n';
  const itemsize = dtype === '<f4' ? 4 : 8;
  const out = new Uint8Array(prelude + header.length + data.length * itemsize);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prelude + i] = header.charCodeAt(i) & 0xff;
  const start = prelude + header.length; // a multiple of 64, so aligned
  const n = data.length;
  if (HOST_LITTLE) {
    if (itemsize === 4) new Float32Array(out.buffer, start, n).set(data);
    else new Float64Array(out.buffer, start, n).set(data);
  } else if (itemsize === 4) {
    for (let i = 0; i < n; i++) view.setFloat32(start + i * 4, data[i], true);
  } else {
    for (let i = 0; i < n; i++) view.setFloat64(start + i * 8, data[i], true);
  }
  return out;
}

/** Atomically writes a '<f4' C-order .npy (v1.0) file (io/atomic-write.ts: temp file and rename, symlinks written through); failures throw one-line UsageErrors starting with `what`. */
export function writeNpyFloat32(path: string, shape: number[], data: ArrayLike<number>, what: string = path): void {
  writeNpyFloat(path, shape, '<f4', data, what);
}

/** writeNpyFloat32 in either float dtype ('<f8' where float32's 7 digits are not enough, e.g. circuit currents). */
export function writeNpyFloat(path: string, shape: number[], dtype: '<f4' | '<f8', data: ArrayLike<number>, what: string = path): void {
  checkShape(shape, data.length, what);
  writeFileAtomic(path, encodeNpy(shape, dtype, data), what);
}
