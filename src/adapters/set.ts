/**
 * Adapter sets (issue 17): digital low-rank branches `y = W̃·x + (α/r)·B·(A·x)` beside analog linear
 * layers (LoRA, Hu et al. 2021; Li et al. 2024 for analog in-memory hardware). A set maps an ONNX
 * layer name to its A [r, K], B [N, r], rank r and α. File layouts (README "Adapter sets"):
 * - `.npz`: members `NAME.A.npy` (float32 [r, K]), `NAME.B.npy` (float32 [N, r]) and
 *   `NAME.alpha.npy` (0-d), per layer; r is A's first dimension. numpy.savez writes it.
 * - `.json` (DESIGN.md section 14: the same fields): `{NAME: {"A": [[...K] × r], "B": [[...r] × N],
 *   "alpha": α}}`, with an optional "rank" (= A's rows).
 */
import { UsageError } from '../errors.ts';
import { isMatrixOp, type LinearOp, type Network } from '../ir/graph.ts';
import { encodeNpy } from '../io/npy.ts';
import { encodeZip, parseNpz } from '../io/npz.ts';

/** One layer's adapter: A [rank, K] and B [N, rank], row-major f32. */
export interface AdapterLayer {
  rank: number;
  alpha: number;
  K: number;
  N: number;
  A: Float32Array;
  B: Float32Array;
}

/** Layer name → adapter. */
export type AdapterSet = Map<string, AdapterLayer>;

/** (α/r)·B, rounded to f32 once: the up-projection both executors apply. */
export function scaledUp(a: AdapterLayer): Float32Array {
  const s = a.alpha / a.rank;
  return Float32Array.from(a.B, (v) => s * v);
}

/** A zero-B adapter (LoRA's initialisation: the branch starts as exact zero) with A drawn by `draw`. */
export function newAdapter(K: number, N: number, rank: number, alpha: number, draw: () => number): AdapterLayer {
  return { rank, alpha, K, N, A: Float32Array.from({ length: rank * K }, draw), B: new Float32Array(N * rank) };
}

/** Number of adapter parameters of a set. */
export function adapterParams(set: AdapterSet): number {
  let n = 0;
  for (const a of set.values()) n += a.A.length + a.B.length;
  return n;
}

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

/** The linear layers of `net` by name. */
export function linearLayers(net: Network): Map<string, LinearOp> {
  const m = new Map<string, LinearOp>();
  for (const op of net.ops) if (isMatrixOp(op) && op.kind === 'linear') m.set(op.name, op);
  return m;
}

/** Checks a set against a network: every name is a linear layer whose K and N match. */
export function checkAdapterSet(set: AdapterSet, net: Network, what: string): void {
  const lin = linearLayers(net);
  for (const [name, a] of set) {
    const op = lin.get(name);
    if (!op) throw new UsageError(`${what}: layer "${name}": not a linear (Gemm/MatMul) layer of the model (allowed: ${[...lin.keys()].join(', ')})`);
    if (a.K !== op.K || a.N !== op.N) throw new UsageError(`${what}: layer "${name}": A is [${a.rank}, ${a.K}] and B [${a.N}, ${a.rank}], the layer is K=${op.K} → N=${op.N}`);
  }
}

/**
 * CPU oracle of the branch: h = A·x then d = ((α/r)·B)·h, per row of x [n, K], each sum in f64 rounded
 * to f32 (as the f32 linear layers); returns d [n, N] and h [n, r] (training keeps h).
 */
export function adapterBranchRef(a: AdapterLayer, up: Float32Array, x: Float32Array, n: number): { d: Float32Array; h: Float32Array } {
  const { rank: r, K, N, A } = a;
  const h = new Float32Array(n * r);
  const d = new Float32Array(n * N);
  for (let i = 0; i < n; i++) {
    const xo = i * K;
    for (let q = 0; q < r; q++) {
      let s = 0;
      const ao = q * K;
      for (let k = 0; k < K; k++) s += A[ao + k] * x[xo + k];
      h[i * r + q] = s;
    }
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let q = 0; q < r; q++) s += up[j * r + q] * h[i * r + q];
      d[i * N + j] = s;
    }
  }
  return { d, h };
}

/** y + d in f32, where an exact-zero d leaves y's bits (its sign of zero) as they were. */
export function addBranch(y: Float32Array, d: Float32Array): Float32Array {
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = d[i] === 0 ? y[i] : y[i] + d[i];
  return out;
}
