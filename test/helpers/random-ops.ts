/**
 * Models of ONNX's random ops (test/cpu/onnx-random.test.ts, test/gpu/onnx-random.test.ts): each
 * draws from the input's shape or its values, run in batches starting at any sample offset.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildNode } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { readNpyFile } from '../../src/io/npy.ts';
import { loadModel } from '../../src/nn/load-model.ts';

/** A one-node model on x [N, ...dims] (or a static [declared, ...dims]) with attributes `attrs`. */
export function randomNet(op: string, dims: number[], attrs: BuildNode['attrs'] = {}, declared?: number): Network {
  const bytes = buildOnnxModel({
    opset: 15,
    inputs: [{ name: 'x', dims: [declared ?? 'N', ...dims] }],
    outputs: [{ name: 'y', dims: ['N', ...dims] }],
    nodes: [{ op, inputs: op === 'RandomNormal' || op === 'RandomUniform' ? [] : ['x'], outputs: op === 'RandomNormal' || op === 'RandomUniform' ? ['r'] : ['y'], attrs },
      ...(op === 'RandomNormal' || op === 'RandomUniform' ? [{ op: 'Add', inputs: ['x', 'r'], outputs: ['y'] }] : [])],
  });
  return importOnnx(bytes, `${op}.onnx`);
}

/** The network's digital outputs for `n` samples x, run in batches of `batch` (each batch's first sample at its position), under config seed `seed`. */
export async function drawsOf(backend: Backend, net: Network, x: Float32Array, n: number, batch: number, seed = 7): Promise<Float32Array> {
  const r = openNetwork(backend, net, resolveConfig({ preset: 'ideal', seed }), true);
  try {
    const per = x.length / n;
    const out: Float32Array[] = [];
    for (let s0 = 0; s0 < n; s0 += batch) {
      const B = Math.min(batch, n - s0);
      out.push((await r.forward(null, x.subarray(s0 * per, (s0 + B) * per), B, s0)).output);
    }
    const y = new Float32Array(out.reduce((a, o) => a + o.length, 0));
    out.reduce((at, o) => (y.set(o, at), at + o.length), 0);
    return y;
  } finally {
    r.destroy();
  }
}

/** Mean and (population) variance. */
export function moments(v: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { mean, variance: q / v.length };
}

/** test/fixtures/torch-random (scripts/torch-random-fixture.py): the VAE, its one input repeated n times, and each output's expected mean and deviation. */
export function vaeCase(n: number): { net: Network; x: Float32Array; n: number; mean: Float32Array; std: Float32Array } {
  const dir = 'test/fixtures/torch-random';
  const one = Float32Array.from(readNpyFile(`${dir}/x.npy`, 'x').data);
  const x = new Float32Array(n * one.length);
  for (let s = 0; s < n; s++) x.set(one, s * one.length);
  const f = (name: string): Float32Array => Float32Array.from(readNpyFile(`${dir}/${name}.npy`, name).data);
  return { net: loadModel(`${dir}/vae.onnx`), x, n, mean: f('mean'), std: f('std') };
}

/** x·N(0, 1) (RandomNormalLike of x) into an 8×8 crossbar layer: a network whose calibration follows its draws. */
export function drawingLayer(): Network {
  return importOnnx(buildOnnxModel({
    opset: 15, inputs: [{ name: 'x', dims: ['N', 8] }], outputs: [{ name: 'y', dims: ['N', 8] }],
    initializers: [{ name: 'w', dims: [8, 8], data: new Float32Array(64).map((_, i) => (i % 9 === 0 ? 1 : 0.1)) }],
    nodes: [{ op: 'RandomNormalLike', inputs: ['x'], outputs: ['z'] }, { op: 'Mul', inputs: ['x', 'z'], outputs: ['h'] }, { op: 'MatMul', inputs: ['h', 'w'], outputs: ['y'] }],
  }), 'drawing.onnx');
}
