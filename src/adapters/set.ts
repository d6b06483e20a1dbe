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
