/**
 * Small builders for the one-input test models of the op suites (spectral, contrib, contrib
 * attention): x [batch, …dims] → nodes → y, float in and out, and the tensors and contrib nodes in them.
 */
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';

/** x [batch, …dims] → `nodes` → y. */
export function xyModel(dims: readonly number[], nodes: BuildNode[], initializers: BuildTensor[] = [], opset = 13): Uint8Array {
  return buildOnnxModel({ opset, inputs: [{ name: 'x', dims: ['batch', ...dims] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers, nodes });
}

/** A node of ONNX Runtime's contrib domain (com.microsoft). */
export const contribNode = (op: string, inputs: string[], outputs: string[], attrs?: BuildNode['attrs']): BuildNode => ({ op, domain: 'com.microsoft', inputs, outputs, ...(attrs ? { attrs } : {}) });

/** A float32 scalar, a float32 tensor, an int64 tensor (1-D unless `dims` says otherwise). */
export const f32 = (name: string, v: number): BuildTensor => ({ name, dims: [], data: Float32Array.of(v) });
export const floats = (name: string, dims: number[], v: ArrayLike<number>): BuildTensor => ({ name, dims, data: Float32Array.from(v) });
export const i64 = (name: string, v: number[], dims: number[] = [v.length]): BuildTensor => ({ name, dims, data: BigInt64Array.from(v.map(BigInt)) });
