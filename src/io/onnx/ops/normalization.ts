/** Normalization ops: BatchNormalization, folded into the preceding matrix op or kept as an affine op. */
import type { AffineOp } from '../../../ir/graph.ts';
import { count, floatsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { foldChannelAffine } from './matrix.ts';

function batchNorm(n: NodeContext): void {
  n.requireUnusedExtraOutputs('running statistics');
  if (n.a.int('training_mode', 0) !== 0) throw new NodeError('training_mode = 1 is not supported');
  const x = n.value(0, 'X');
  if (x.shape.length < 1) throw new NodeError('input has no channel dimension');
  const C = x.shape[0];
  const vec = (i: number, what: string): Float32Array => {
    const c = n.constIn(i, what);
    if (count(c.dims) !== C) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], expected [${C}]`);
    return floatsOf(c, what);
  };
  const gamma = vec(1, 'scale');
  const beta = vec(2, 'B');
  const mean = vec(3, 'mean');
  const variance = vec(4, 'var');
  const eps = n.a.float('epsilon', 1e-5);
  // f64 per-channel factors: folding is exact math, rounded to f32 once at the end.
  const s = new Float64Array(C);
  const t = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    s[c] = gamma[c] / Math.sqrt(variance[c] + eps);
    t[c] = beta[c] - mean[c] * s[c];
  }
  const target = n.imp.foldTarget(x.name);
  if (target) {
    foldChannelAffine(target, s, t);
    n.imp.renameOutput(target, n.out);
    return;
  }
  const op: AffineOp = {
    kind: 'affine', name: n.name, inputs: [x.name], output: n.out,
    scale: Float32Array.from(s), shift: Float32Array.from(t), inShape: x.shape,
  };
  n.imp.emit(op, [...x.shape]);
}

/** Normalization ops by ONNX op type. */
export const NORMALIZATION_OPS: OpTable = {
  BatchNormalization: { activation: batchNorm },
};
