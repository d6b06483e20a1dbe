/**
 * ONNX's former experimental ops, still in the ONNX Model Zoo's opset 7–9 files and ONNX Runtime's
 * kernels: ImageScaler (WinMLTools' and CNTK's image preprocessing), Scale, Affine, ScaledTanh,
 * ParametricSoftplus and Crop, each expanded into the ops it stands for (their definitions:
 * onnx/defs/experiments in ONNX 1.3, ONNX Runtime's contrib_defs.cc). ConstantFill is with the
 * constant makers (constants.ts).
 */
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { Expansion, dimsOf } from './expansion.ts';

/** α·tanh(β·x) on `v`. */
export function scaledTanh(e: Expansion, v: string, alpha: number, beta: number): string {
  return e.op('Mul', [e.op('Tanh', [e.op('Mul', [v, e.scalar(beta, 'beta')], 'scaled')], 'tanh'), e.scalar(alpha, 'alpha')], 'scaled-tanh');
}

/** α·ln(1 + e^{β·x}) on `v`. */
export function parametricSoftplus(e: Expansion, v: string, alpha: number, beta: number): string {
  return e.op('Mul', [e.op('Softplus', [e.op('Mul', [v, e.scalar(beta, 'beta')], 'scaled')], 'softplus'), e.scalar(alpha, 'alpha')], 'parametric-softplus');
}

/** ImageScaler: x·scale + bias[c] over [N, C, H, W], bias one per channel. */
function imageScaler(n: NodeContext): void {
  const dims = dimsOf(n, 0, 'input');
  if (dims.length !== 4) throw new NodeError(`input has ${dims.length} dims; ImageScaler takes [N, C, H, W]`);
  const e = new Expansion(n);
  const C = dims[1];
  const bias = n.a.floats('bias', null);
  if (bias && C !== null && bias.length !== C) throw new NodeError(`attribute "bias" has ${bias.length} entries for ${C} channels`);
  const scaled = e.op('Mul', [n.ins[0], e.scalar(n.a.float('scale', 1), 'scale')], 'scaled');
  e.finish([bias ? e.op('Add', [scaled, e.const({ kind: 'float', dims: [bias.length, 1, 1], data: Float32Array.from(bias) }, 'bias')], 'biased') : scaled]);
}

/** Affine: α·x + β. */
function affine(n: NodeContext): void {
  const e = new Expansion(n);
  e.finish([e.op('Add', [e.op('Mul', [n.ins[0], e.scalar(n.a.float('alpha', 1), 'alpha')], 'scaled'), e.scalar(n.a.float('beta', 0), 'beta')], 'affine')]);
}

/** Crop of [N, C, H, W]: `border` (left, top, right, bottom) off each side, or with `scale` (height, width) that window from the top-left border. */
function crop(n: NodeContext): void {
  const dims = dimsOf(n, 0, 'input');
  if (dims.length !== 4) throw new NodeError(`input has ${dims.length} dims; Crop takes [N, C, H, W]`);
  const border = n.a.ints('border', null);
  if (!border || border.length !== 4) throw new NodeError('attribute "border" must give 4 values (left, top, right, bottom)');
  const [left, top, right, bottom] = border;
  const [H, W] = [dims[2], dims[3]];
  if (H === null || W === null) throw new NodeError('needs static height and width');
  const scale = n.a.ints('scale', null);
  if (scale && scale.length !== 2) throw new NodeError(`attribute "scale" has ${scale.length} entries; it gives (height, width)`);
  const [h, w] = scale ?? [H - top - bottom, W - left - right];
  if (h < 1 || w < 1 || top + h > H || left + w > W || [left, top, right, bottom].some((b) => b < 0)) {
    throw new NodeError(`a [${h}, ${w}] window at (${top}, ${left}) does not fit in [${H}, ${W}]`);
  }
  const e = new Expansion(n);
  e.finish([e.slice(e.slice(n.ins[0], 2, top, top + h, 'rows'), 3, left, left + w, 'cols')]);
}

/** An op of one input and α, β attributes (defaults 1) expanded by `body`. */
function alphaBeta(body: (e: Expansion, v: string, alpha: number, beta: number) => string): (n: NodeContext) => void {
  return (n) => {
    const e = new Expansion(n);
    e.finish([body(e, n.ins[0], n.a.float('alpha', 1), n.a.float('beta', 1))]);
  };
}

/** Scale: x·scale. */
function scale(n: NodeContext): void {
  const e = new Expansion(n);
  e.finish([e.op('Mul', [n.ins[0], e.scalar(n.a.float('scale', 1), 'scale')], 'scaled')]);
}

export const EXPERIMENTAL_OPS: OpTable = {
  ImageScaler: { activation: imageScaler },
  Scale: { activation: scale },
  Affine: { activation: affine },
  ScaledTanh: { activation: alphaBeta(scaledTanh) },
  ParametricSoftplus: { activation: alphaBeta(parametricSoftplus) },
  Crop: { activation: crop },
};
