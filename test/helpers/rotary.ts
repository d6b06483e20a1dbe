/**
 * RotaryEmbedding (opset 23) test models and the operator's definition in f64 (from the spec and
 * onnx/reference/ops/op_rotary_embedding.py), shared by the CPU and WebGPU tests. X comes from a
 * crossbar projection of the input, run digitally; position ids, when given, from the data.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel, type AttrValue, type BuildNode, type BuildTensor, type BuildValue } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { randomArray } from './random.ts';

const E = 5;
const MAX_POS = 9;

/** One configuration: X's rank, heads and head size, the features rotated, and where positions come from. */
export interface RotaryCase {
  rank: 3 | 4;
  s: number;
  heads: number;
  head: number;
  rot?: number;
  interleaved?: boolean;
  /** 'data': position_ids [batch, s] from a graph input; 'const': a [1, s] initializer; 'none': 3-D caches [1, s, half]; 'offset': com.microsoft's [1] start position (2); 'data-offset': that offset computed from the data. */
  positions: 'data' | 'const' | 'none' | 'offset' | 'data-offset';
  /** com.microsoft only: leave num_heads out of a 3-D input (ONNX Runtime takes the head size from the cache). */
  inferHeads?: boolean;
  /** ONNX Runtime's com.microsoft RotaryEmbedding (inputs X, position_ids, cos, sin) in an opset-17 model. */
  contrib?: boolean;
  /** Features the caches are made for, when not the rotated ones (a refusal test). */
  cacheRot?: number;
}

const rotOf = (c: RotaryCase): number => c.rot ?? c.head;

function tables(c: RotaryCase) {
  const half = (c.cacheRot ?? rotOf(c)) / 2;
  const rows = c.positions === 'none' ? c.s : MAX_POS;
  return { w: randomArray(E * c.heads * c.head, 41), cos: randomArray(rows * half, 42), sin: randomArray(rows * half, 43), constPos: Array.from({ length: c.s }, (_, t) => (c.positions === 'offset' || c.positions === 'data-offset' ? 2 + t : (3 * t + 1) % MAX_POS)) };
}

/** The model: x [batch, s, E] → MatMul → (4-D: Reshape, Transpose) → RotaryEmbedding → y. */
export function rotaryModel(c: RotaryCase): Uint8Array {
  const t = tables(c);
  const half = (c.cacheRot ?? rotOf(c)) / 2;
  const i64 = (name: string, dims: number[], data: number[]): BuildTensor => ({ name, dims, data: BigInt64Array.from(data.map(BigInt)) });
  const cacheDims = c.positions === 'none' ? [1, c.s, half] : [MAX_POS, half];
  const init: BuildTensor[] = [{ name: 'w', dims: [E, c.heads * c.head], data: t.w }, { name: 'cos', dims: cacheDims, data: t.cos }, { name: 'sin', dims: cacheDims, data: t.sin }];
  const nodes: BuildNode[] = [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h3'] }];
  const inputs: BuildValue[] = [{ name: 'x', dims: ['batch', c.s, E] }];
  let h = 'h3';
  if (c.rank === 4) {
    init.push(i64('split', [4], [0, 0, c.heads, c.head]));
    nodes.push({ op: 'Reshape', inputs: ['h3', 'split'], outputs: ['hr'] }, { op: 'Transpose', inputs: ['hr'], outputs: ['h4'], attrs: { perm: [0, 2, 1, 3] } });
    h = 'h4';
  }
  let pos = '';
  if (c.positions === 'data') {
    inputs.push({ name: 'pos_in', dims: ['batch', c.s] });
    nodes.push({ op: 'Cast', inputs: ['pos_in'], outputs: ['pos'], attrs: { to: 7 } });
    pos = 'pos';
  } else if (c.positions === 'const') {
    init.push(i64('pos', [1, c.s], t.constPos));
    pos = 'pos';
  } else if (c.positions === 'offset') {
    init.push(i64('pos', [1], [2]));
    pos = 'pos';
  } else if (c.positions === 'data-offset') {
    // 2 + 0·max(x) per sample: an offset the importer cannot fold.
    init.push({ name: 'two', dims: [], data: Float32Array.of(2) }, { name: 'nil', dims: [], data: Float32Array.of(0) });
    nodes.push(
      { op: 'ReduceMax', inputs: ['x'], outputs: ['xmax'], attrs: { axes: [1, 2], keepdims: 0 } },
      { op: 'Mul', inputs: ['xmax', 'nil'], outputs: ['xzero'] },
      { op: 'Add', inputs: ['xzero', 'two'], outputs: ['posf'] },
      { op: 'Cast', inputs: ['posf'], outputs: ['pos'], attrs: { to: 7 } },
    );
    pos = 'pos';
  }
  const attrs: Record<string, AttrValue> = {};
  if (c.rank === 3 && !c.inferHeads) attrs.num_heads = c.heads;
  if (c.rot !== undefined) attrs.rotary_embedding_dim = c.rot;
  if (c.interleaved) attrs.interleaved = 1;
  if (c.contrib) nodes.push({ op: 'RotaryEmbedding', domain: 'com.microsoft', inputs: [h, pos, 'cos', 'sin'], outputs: ['y'], attrs });
  else nodes.push({ op: 'RotaryEmbedding', inputs: [h, 'cos', 'sin', ...(pos ? [pos] : [])], outputs: ['y'], attrs });
  return buildOnnxModel({ opset: c.contrib ? 17 : 23, inputs, outputs: [{ name: 'y', dims: ['batch'] }], initializers: init, nodes });
}

/** The definition for one sample: x [s, E] and its positions → y in X's layout. */
export function rotaryReference(c: RotaryCase, x: Float32Array, positions: number[] | null): number[] {
  const t = tables(c);
  const rot = rotOf(c);
  const half = rot / 2;
  const out: number[][][] = []; // [token][head][feature]
  for (let s = 0; s < c.s; s++) {
    out.push([]);
    const p = c.positions === 'none' ? s : c.positions === 'data' ? positions![s] : t.constPos[s];
    for (let h = 0; h < c.heads; h++) {
      const v = Array.from({ length: c.head }, (_, f) => {
        let a = 0;
        for (let e = 0; e < E; e++) a += x[s * E + e] * t.w[e * c.heads * c.head + h * c.head + f];
        return a;
      });
      const y = [...v];
      for (let i = 0; i < half; i++) {
        const [cs, sn] = [t.cos[p * half + i], t.sin[p * half + i]];
        const [a, b] = c.interleaved ? [v[2 * i], v[2 * i + 1]] : [v[i], v[i + half]];
        const [re, im] = [cs * a - sn * b, sn * a + cs * b];
        if (c.interleaved) [y[2 * i], y[2 * i + 1]] = [re, im];
        else [y[i], y[i + half]] = [re, im];
      }
      out[s].push(y);
    }
  }
  if (c.rank === 3) return out.flat(2);
  return Array.from({ length: c.heads }, (_, h) => out.map((tok) => tok[h])).flat(2);
}

/** Per-sample inputs: x, and positions (in [0, MAX_POS)) when they come from the data. */
export function rotaryInputs(c: RotaryCase, b: number): { x: Float32Array; positions: number[] | null; packed: Float32Array } {
  const x = randomArray(c.s * E, 50 + b, -1.5, 1.5);
  const positions = c.positions === 'data' ? Array.from({ length: c.s }, (_, t) => (t * (b + 2) + b) % MAX_POS) : null;
  const packed = positions ? Float32Array.from([...x, ...positions]) : x;
  return { x, positions, packed };
}

/** The imported model's digital output on `backend` for samples `b` = 0 … B − 1, against the definition: the largest error. */
export async function rotaryError(backend: Backend, c: RotaryCase, B: number): Promise<number> {
  const samples = Array.from({ length: B }, (_, b) => rotaryInputs(c, b));
  const per = samples[0].packed.length;
  const x = new Float32Array(B * per);
  samples.forEach((s, b) => x.set(s.packed, b * per));
  const got = await digitalForward(backend, rotaryModel(c), 'rope.onnx', x, B);
  const n = got.length / B;
  let worst = 0;
  samples.forEach((s, b) => {
    const want = rotaryReference(c, s.x, s.positions);
    if (want.length !== n) throw new Error(`output has ${n} values per sample, the definition ${want.length}`);
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[b * n + i] - want[i]) / Math.max(1, Math.abs(want[i])));
  });
  return worst;
}

/** The cases both backends run: layouts, halves and pairs, partial rotation, each source of positions. */
export const ROTARY_CASES: [string, RotaryCase][] = [
  ['4-D, halves, positions from the data', { rank: 4, s: 4, heads: 2, head: 6, positions: 'data' }],
  ['3-D with num_heads, interleaved pairs, constant positions', { rank: 3, s: 4, heads: 3, head: 4, interleaved: true, positions: 'const' }],
  ['partial rotation (4 of 6 features), halves, caches per position without ids', { rank: 4, s: 3, heads: 2, head: 6, rot: 4, positions: 'none' }],
  ['partial rotation (2 of 6), interleaved, 3-D, positions from the data', { rank: 3, s: 5, heads: 2, head: 6, rot: 2, interleaved: true, positions: 'data' }],
  ["ONNX Runtime's com.microsoft RotaryEmbedding at opset 17, 3-D, positions from the data", { rank: 3, s: 4, heads: 2, head: 4, positions: 'data', contrib: true }],
  ["ONNX Runtime's com.microsoft RotaryEmbedding, 4-D, interleaved, a [1] start offset", { rank: 4, s: 3, heads: 2, head: 6, interleaved: true, positions: 'offset', contrib: true }],
  ["ONNX Runtime's com.microsoft RotaryEmbedding, 3-D without num_heads, a start offset from the data", { rank: 3, s: 4, heads: 3, head: 4, positions: 'data-offset', contrib: true, inferHeads: true }],
];
