import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';

/** The digital (f32) output of ONNX model `bytes` on `backend` for a batch of `B` samples packed in `x`. */
export async function digitalForward(backend: Backend, bytes: Uint8Array, label: string, x: Float32Array, B: number): Promise<Float32Array> {
  const r = openNetwork(backend, importOnnx(bytes, label), resolveConfig({ preset: 'ideal' }), true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}
