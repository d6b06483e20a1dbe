/**
 * The model's own random ops: RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike and
 * Bernoulli (a VAE's reparameterization with torch.randn_like, noise injected at inference), as one
 * `random` IR op each (src/ir/ops-tensor.ts RandomOp). Draws are Philox (src/random/philox.ts) keyed
 * by the node's `seed` attribute or, without one, the run's config seed, by the op's stream (a hash
 * of its output's name, fixed by the file) and by each sample's position in the whole input set, so
 * that a run gives the same draws at any batch size, on the CPU and the GPU alike.
 */
import type { RandomOp } from '../../../ir/graph.ts';
import { NodeError } from '../node.ts';
import type { DType, NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';
import { castKind } from './constants.ts';

/** FNV-1a of `text`: the op's stream, the same for the same file whatever else it holds. */
function streamOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The element type a random op's `dtype` asks for, as the IR carries it; `floatOnly`: a normal or uniform draw, which ONNX types float. */
function dtypeOf(n: NodeContext, def: DType, floatOnly: boolean): DType {
  const to = n.a.int('dtype', -1);
  if (to === -1) {
    if (floatOnly && def !== 'float') throw new NodeError(`input is ${def === 'bool' ? 'bool' : 'an integer'}; without "dtype" the draws would take its type, and ${n.op} draws floats`);
    return def;
  }
  const kind = castKind(to);
  if (floatOnly && kind !== 'float') throw new NodeError(`attribute "dtype" is ${to}; ${n.op} draws float32, float64, float16 or bfloat16`);
  return kind;
}

/**
 * A draw's per-sample shape and whether each sample draws its own, from the ONNX shape of a tensor
 * that is not an activation (a shape attribute, a constant): in a batched import its first dim must
 * be 1 (one draw shared by every sample) or the batch a static export declared (one draw per sample).
 */
function sampleShape(n: NodeContext, dims: readonly number[]): { shape: number[]; perSample: boolean } {
  if (!n.imp.batched) return { shape: [...dims], perSample: false };
  if (dims.length === 0 || !(dims[0] === 1 || dims[0] === n.imp.declaredBatch)) {
    throw new NodeError(`draws a tensor of shape [${dims.join(', ')}]; in a batched import its first dim must be 1 (one draw for every sample) or the batch`);
  }
  // With a declared batch of 1 the leading 1 is the batch: each sample run is one traced call, its own draw.
  return { shape: dims.slice(1), perSample: dims[0] !== 1 || n.imp.declaredBatch === 1 };
}

function emitRandom(n: NodeContext, dist: RandomOp['dist'], a: number, b: number, shape: number[], perSample: boolean, dtype: DType, inputs: string[] = []): void {
  const seed = n.a.float('seed', Number.NaN);
  const op: RandomOp = {
    kind: 'random', name: n.name, inputs, output: n.out, dist, a, b,
    seed: Number.isNaN(seed) ? null : Math.trunc(seed) >>> 0, stream: streamOf(n.out), perSample, outShape: shape,
  };
  n.imp.emit(op, shape, dtype);
}

/** The parameters of a normal (mean, scale) or uniform (low, high) draw. */
function params(n: NodeContext, dist: 'normal' | 'uniform'): [number, number] {
  if (dist === 'normal') return [n.a.float('mean', 0), n.a.float('scale', 1)];
  const [low, high] = [n.a.float('low', 0), n.a.float('high', 1)];
  if (!(high > low)) throw new NodeError(`attribute "high" (${high}) must be above "low" (${low})`);
  return [low, high];
}

/** RandomNormal / RandomUniform: the `shape` attribute's draw. */
function fromShape(dist: 'normal' | 'uniform'): (n: NodeContext) => void {
  return (n) => {
    const dims = n.a.ints('shape', null);
    if (!dims || dims.some((d) => !Number.isInteger(d) || d < 0)) throw new NodeError('attribute "shape" is required and must hold non-negative integers');
    const { shape, perSample } = sampleShape(n, dims);
    const [a, b] = params(n, dist);
    emitRandom(n, dist, a, b, shape, perSample, dtypeOf(n, 'float', true));
  };
}

/** RandomNormalLike / RandomUniformLike: a draw of the input's shape (of each sample's, for an activation). */
function like(dist: 'normal' | 'uniform'): (n: NodeContext) => void {
  return (n) => {
    const c = n.constAt(0);
    const { shape, perSample } = c ? sampleShape(n, c.dims) : { shape: [...n.value(0, 'input').shape], perSample: n.imp.batched };
    const [a, b] = params(n, dist);
    emitRandom(n, dist, a, b, shape, perSample, dtypeOf(n, c ? (c.kind === 'float' ? 'float' : 'int') : n.value(0, 'input').dtype, true));
  };
}

/** Bernoulli: 1 with each element's probability (an activation), else 0. */
function bernoulli(n: NodeContext): void {
  if (n.constAt(0)) throw new NodeError(`probabilities ${quote(n.ins[0])} are a constant; Bernoulli of the data's probabilities is supported`);
  const p = n.value(0, 'input');
  emitRandom(n, 'bernoulli', 0, 0, [...p.shape], n.imp.batched, dtypeOf(n, p.dtype, false), [p.name]);
}

export const RANDOM_OPS: OpTable = {
  RandomNormal: { always: fromShape('normal') },
  RandomUniform: { always: fromShape('uniform') },
  RandomNormalLike: { activation: like('normal'), fold: () => null, constInputs: true, reads: 'shape' },
  RandomUniformLike: { activation: like('uniform'), fold: () => null, constInputs: true, reads: 'shape' },
  Bernoulli: { activation: bernoulli },
};
