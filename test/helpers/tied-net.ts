// A network that reads one crossbar layer three times (LinearOp.tie), as an unrolled RNN reads its
// recurrent weights, and its untied twin (three layers with the same weights): x → rec → sigmoid → ×3 →
// rec, and rec on x again; output the three uses' results side by side.
import type { LinearOp, Network, NetOp } from '../../src/ir/graph.ts';
import { Prng } from '../../src/io/datasets/prng.ts';

export const K = 40;

/** The network [K] → [3K]: tied (one layer, three uses) or untied (three layers of the same weights). */
export function tiedNet(tied: boolean, seed = 3): Network {
  const rng = new Prng(seed);
  const weight = Float32Array.from({ length: K * K }, () => (2 * rng.uniform() - 1) / Math.sqrt(K));
  const bias = Float32Array.from({ length: K }, () => 0.1 * (2 * rng.uniform() - 1));
  let li = 0;
  const rec = (output: string, input: string): LinearOp => ({
    kind: 'linear', name: tied ? 'rec' : `rec.${output}`, inputs: [input], output, layerIndex: tied ? 0 : li++, K, N: K, inShape: [K], weight, bias, ...(tied ? { tie: 'rec' } : {}),
  });
  const ops: NetOp[] = [
    rec('r0', 'x'),
    { kind: 'unary', name: 'sigmoid', inputs: ['r0'], output: 'h', fn: 'sigmoid', alpha: 0, min: -Infinity, max: Infinity },
    // A larger input at the second use: calibration must take the largest over every use.
    { kind: 'binary', name: 'three', inputs: ['h'], output: 'h3', fn: 'mul', b: { dims: [1], data: Float32Array.of(3) }, constFirst: false, aShape: [K], bShape: [1], outShape: [K] },
    rec('r1', 'h3'),
    rec('r2', 'x'),
    { kind: 'concat', name: 'out', inputs: ['r0', 'r1', 'r2'], output: 'out', axis: 0, inShapes: [[K], [K], [K]] },
  ];
  const shapes = new Map<string, number[]>([['x', [K]], ['r0', [K]], ['h', [K]], ['h3', [K]], ['r1', [K]], ['r2', [K]], ['out', [3 * K]]]);
  return {
    input: { name: 'x', shape: [K] },
    output: 'out',
    inputs: [{ name: 'x', value: 'x', shape: [K], dtype: 'float32', offset: 0 }],
    outputs: [{ name: 'out', value: 'out', shape: [3 * K], dtype: 'float32', offset: 0 }],
    batched: true,
    shapes,
    ops,
    opset: 17,
  };
}

/** B samples of inputs in [0, 1): with the sigmoid, no use needs the X⁻ pass. */
export function tiedInputs(B: number, seed = 11): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: B * K }, () => rng.uniform());
}

/** The three uses' outputs of sample b from a [B, 3K] output. */
export function usesOf(y: Float32Array, b: number): Float32Array[] {
  return [0, 1, 2].map((u) => y.subarray((3 * b + u) * K, (3 * b + u + 1) * K));
}
