import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { CONFORMANCE_DIR, LIGHT_MODELS, runLightModel } from '../helpers/conformance.ts';

const CFG = resolveConfig({ preset: 'ideal' });

async function cpu(net: Network, x: Float32Array, B: number): Promise<Float32Array> {
  const r = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/**
 * The CPU oracle's f64 convolutions take 3–60 s of CPU per ImageNet network; the five lightest
 * (under 2 G multiply-adds) run here, all nine run on WebGPU (test/gpu/conformance-light*.test.ts; VGG-19 with XBARSIM_GPU_VGG=1).
 */
const ON_CPU = ['bvlc_alexnet', 'squeezenet', 'shufflenet', 'zfnet512', 'inception_v1'];

describe('ONNX light models (model zoo networks with constant weights) on the CPU executor', () => {
  it.each(LIGHT_MODELS)('%s imports with the expected output shape and every conv and Gemm on crossbars', (m) => {
    const net = importOnnx(readFileSync(join(CONFORMANCE_DIR, 'light', `light_${m}.onnx`)), m);
    expect(net.input.shape).toEqual([3, 224, 224]);
    expect(net.outputs[0].shape.reduce((a, b) => a * b, 1)).toBe(1000);
    expect(net.ops.filter((o) => o.kind === 'linear' || o.kind === 'conv').length).toBeGreaterThan(4);
  });

  it.each(ON_CPU)('%s reproduces its expected output', async (m) => {
    expect(await runLightModel(m, cpu)).toBeNull();
  }, 300_000);
});
