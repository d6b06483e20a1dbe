/**
 * Adapter set files (README "Adapter sets"; layouts in set.ts's header): parsing and encoding `.npz`
 * and `.json`. Apart from set.ts so the network runner, which the browser app bundles, does not pull
 * in the .npy/.npz readers and their Node modules.
 */
import { UsageError } from '../errors.ts';
import { encodeNpy } from '../io/npy.ts';
import { encodeZip, parseNpz } from '../io/npz.ts';
import type { AdapterLayer, AdapterSet } from './set.ts';

function checkLayer(name: string, a: AdapterLayer, what: string): AdapterLayer {
  const where = `${what}: ${name}`;
  if (!Number.isInteger(a.rank) || a.rank < 1) throw new UsageError(`${where}.rank: ${a.rank} (allowed: an integer ≥ 1)`);
  if (!Number.isFinite(a.alpha)) throw new UsageError(`${where}.alpha: ${a.alpha} (allowed: a finite number)`);
  if (a.A.length !== a.rank * a.K) throw new UsageError(`${where}.A: ${a.A.length} values, expected rank·K = ${a.rank * a.K}`);
  if (a.B.length !== a.N * a.rank) throw new UsageError(`${where}.B: ${a.B.length} values, expected N·rank = ${a.N * a.rank}`);
  for (const [k, v] of [['A', a.A], ['B', a.B]] as const) {
    for (const x of v) if (!Number.isFinite(x)) throw new UsageError(`${where}.${k}: holds ${x} (allowed: finite float32 values)`);
  }
  return a;
}

function matrixOf(v: unknown, where: string): { data: Float32Array; rows: number; cols: number } {
  if (!Array.isArray(v) || v.length === 0 || !v.every((r) => Array.isArray(r))) throw new UsageError(`${where}: expected a non-empty array of rows (numbers)`);
  const cols = (v[0] as unknown[]).length;
  const data = new Float32Array(v.length * cols);
  v.forEach((row: unknown[], i) => {
    if (row.length !== cols) throw new UsageError(`${where}: row ${i} has ${row.length} values, row 0 has ${cols}`);
    row.forEach((x, j) => {
      if (typeof x !== 'number') throw new UsageError(`${where}[${i}][${j}]: ${JSON.stringify(x)} (allowed: a number)`);
      data[i * cols + j] = x;
    });
  });
  return { data, rows: v.length, cols };
}

/** Parses the JSON layout (module doc). */
export function parseAdapterJson(text: string, what: string): AdapterSet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${what}: expected an object NAME → {"A": [[...]], "B": [[...]], "alpha": α}`);
  const set: AdapterSet = new Map();
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    const where = `${what}: ${name}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${where}: expected an object {"A", "B", "alpha"} (optional "rank")`);
    const l = v as Record<string, unknown>;
    for (const k of Object.keys(l)) if (!['rank', 'alpha', 'A', 'B'].includes(k)) throw new UsageError(`${where}: unknown field "${k}" (allowed: A, B, alpha, rank)`);
    if (typeof l.alpha !== 'number') throw new UsageError(`${where}.alpha: ${JSON.stringify(l.alpha)} (allowed: a finite number)`);
    const A = matrixOf(l.A, `${where}.A`);
    const B = matrixOf(l.B, `${where}.B`);
    const rank = l.rank ?? A.rows;
    if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) throw new UsageError(`${where}.rank: ${JSON.stringify(rank)} (allowed: an integer ≥ 1, the rows of A)`);
    if (A.rows !== rank) throw new UsageError(`${where}.A: ${A.rows} rows, expected rank = ${rank}`);
    if (B.cols !== rank) throw new UsageError(`${where}.B: ${B.cols} columns, expected rank = ${rank} (B is [N, rank])`);
    set.set(name, checkLayer(name, { rank, alpha: l.alpha, K: A.cols, N: B.rows, A: A.data, B: B.data }, what));
  }
  return set;
}

/** Parses the .npz layout (module doc). */
export function parseAdapterNpz(bytes: Uint8Array, what: string): AdapterSet {
  const arrays = parseNpz(bytes, what);
  const names = new Set<string>();
  for (const key of arrays.keys()) {
    const m = /^(.+)\.(A|B|alpha)$/.exec(key);
    if (!m) throw new UsageError(`${what}: member "${key}.npy" (allowed: NAME.A.npy, NAME.B.npy, NAME.alpha.npy)`);
    names.add(m[1]);
  }
  const set: AdapterSet = new Map();
  for (const name of names) {
    const get = (f: string) => {
      const a = arrays.get(`${name}.${f}`);
      if (!a) throw new UsageError(`${what}: layer "${name}" has no ${name}.${f}.npy (each layer needs A, B and alpha)`);
      return a;
    };
    const A = get('A');
    const B = get('B');
    const alpha = get('alpha');
    if (A.shape.length !== 2) throw new UsageError(`${what}: ${name}.A has shape [${A.shape.join(', ')}] (allowed: [rank, K])`);
    if (B.shape.length !== 2 || B.shape[1] !== A.shape[0]) throw new UsageError(`${what}: ${name}.B has shape [${B.shape.join(', ')}] (allowed: [N, rank] with rank = ${A.shape[0]})`);
    if (alpha.data.length !== 1) throw new UsageError(`${what}: ${name}.alpha has shape [${alpha.shape.join(', ')}] (allowed: [] or [1])`);
    set.set(name, checkLayer(name, { rank: A.shape[0], alpha: alpha.data[0], K: A.shape[1], N: B.shape[0], A: Float32Array.from(A.data), B: Float32Array.from(B.data) }, what));
  }
  return set;
}

/** Parses an adapter file by its extension (.npz or .json). */
export function parseAdapterFile(path: string, bytes: Uint8Array): AdapterSet {
  const what = `--adapters ${path}`;
  if (path.endsWith('.npz')) return parseAdapterNpz(bytes, what);
  if (path.endsWith('.json')) return parseAdapterJson(new TextDecoder().decode(bytes), what);
  throw new UsageError(`${what}: unknown file type (allowed: .npz, .json)`);
}

/** The .npz bytes of a set (stored members in layer order). */
export function encodeAdapterNpz(set: AdapterSet): Uint8Array {
  const members: { name: string; data: Uint8Array }[] = [];
  for (const [name, a] of set) {
    members.push({ name: `${name}.A.npy`, data: encodeNpy([a.rank, a.K], '<f4', a.A) });
    members.push({ name: `${name}.B.npy`, data: encodeNpy([a.N, a.rank], '<f4', a.B) });
    members.push({ name: `${name}.alpha.npy`, data: encodeNpy([], '<f4', [a.alpha]) });
  }
  return encodeZip(members);
}

/** The JSON text of a set. */
export function encodeAdapterJson(set: AdapterSet): string {
  const rows = (v: Float32Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(v.subarray(i * c, (i + 1) * c)));
  const layers = Object.fromEntries([...set].map(([name, a]) => [name, { A: rows(a.A, a.rank, a.K), B: rows(a.B, a.N, a.rank), alpha: a.alpha }]));
  return `${JSON.stringify(layers)}\n`;
}

