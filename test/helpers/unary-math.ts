/**
 * ONNX's trigonometric and hyperbolic ops, ThresholdedRelu and Shrink in one-node models, run
 * digitally and compared per element with their definitions in f64 (numpy's, so NaN outside a
 * domain and ±∞ at atanh(±1)); shared by the CPU and WebGPU tests.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel, type AttrValue } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { randomArray } from './random.ts';

/** One case: the op, its attributes, its definition and the inputs that probe it. */
export interface UnaryMathCase {
  op: string;
  attrs?: Record<string, AttrValue>;
  f: (v: number) => number;
  /** Values that must be exact or hit a branch (domain edges, 0, ±1, thresholds), then random ones in [lo, hi]. */
  edges: number[];
  lo: number;
  hi: number;
  /** Absolute slack per element beyond 1e-5·max(1, |f|): tan's error grows as its slope 1 + tan², near its poles. */
  slack?: (want: number) => number;
}

const shrink = (lambd: number, bias: number) => (v: number): number => (v < -lambd ? v + bias : v > lambd ? v - bias : 0);

export const UNARY_MATH_CASES: [string, UnaryMathCase][] = [
  ['Tan near 0', { op: 'Tan', f: Math.tan, edges: [0, -0, 1e-6, 1.5, -1.5], lo: -1.5, hi: 1.5 }],
  ['Tan of large arguments', { op: 'Tan', f: Math.tan, edges: [100, -1000], lo: -3000, hi: 3000, slack: (t) => 2e-6 * (1 + t * t) }],
  ['Asin', { op: 'Asin', f: Math.asin, edges: [-1, 1, 0, 1e-6, 1.0001, -2, 0.999], lo: -1, hi: 1 }],
  ['Acos', { op: 'Acos', f: Math.acos, edges: [-1, 1, 0, 1.0001, -2, 0.999], lo: -1, hi: 1 }],
  ['Atan', { op: 'Atan', f: Math.atan, edges: [0, 1e-6, 1, -1, 1e6, -1e30], lo: -50, hi: 50 }],
  ['Sinh', { op: 'Sinh', f: Math.sinh, edges: [0, 1e-6, -1e-3, 1, 20, -20], lo: -8, hi: 8 }],
  ['Cosh', { op: 'Cosh', f: Math.cosh, edges: [0, 1e-3, 1, -20, 20], lo: -8, hi: 8 }],
  ['Asinh', { op: 'Asinh', f: Math.asinh, edges: [0, 1e-6, -1e-3, 1, 4096, 5000, -1e5, 1e30], lo: -100, hi: 100 }],
  ['Acosh', { op: 'Acosh', f: Math.acosh, edges: [1, 1.0001, 1.5, 0.999, 0, -3, 4096, 5000, 1e30], lo: 1, hi: 100 }],
  ['Atanh', { op: 'Atanh', f: Math.atanh, edges: [0, 1e-6, -1e-3, 0.5, 0.999, -0.999, 1, -1, 1.0001, -2], lo: -0.99, hi: 0.99 }],
  ['ThresholdedRelu (alpha 1 by default)', { op: 'ThresholdedRelu', f: (v) => (v > 1 ? v : 0), edges: [1, 1.0001, 0, -1], lo: -3, hi: 3 }],
  ['ThresholdedRelu alpha -0.5', { op: 'ThresholdedRelu', attrs: { alpha: -0.5 }, f: (v) => (v > -0.5 ? v : 0), edges: [-0.5, -0.4999], lo: -3, hi: 3 }],
  ['Shrink (lambd 0.5, bias 0 by default: Hardshrink)', { op: 'Shrink', f: shrink(0.5, 0), edges: [0.5, -0.5, 0.5001, 0], lo: -2, hi: 2 }],
  ['Shrink lambd 0.7, bias 0.7 (Softshrink)', { op: 'Shrink', attrs: { lambd: 0.7, bias: 0.7 }, f: shrink(0.7, 0.7), edges: [0.7, -0.7, 0.71, -0.71], lo: -2, hi: 2 }],
];

const N = 48;

function inputs(c: UnaryMathCase, B: number): Float32Array {
  const x = randomArray(B * N, 7, c.lo, c.hi);
  c.edges.forEach((v, i) => { x[i] = v; x[B * N - 1 - i] = v; });
  return x;
}

/** The largest error (relative to max(1, |f|), over the slack), and whether every NaN and ±∞ of the definition came back as such; batch B. */
export async function unaryMathError(backend: Backend, c: UnaryMathCase, B: number): Promise<{ worst: number; special: boolean }> {
  const model = buildOnnxModel({
    opset: 17,
    inputs: [{ name: 'x', dims: ['batch', N] }],
    outputs: [{ name: 'y', dims: ['batch', N] }],
    initializers: [],
    nodes: [{ op: c.op, inputs: ['x'], outputs: ['y'], ...(c.attrs ? { attrs: c.attrs } : {}) }],
  });
  const x = inputs(c, B);
  const got = await digitalForward(backend, model, `${c.op}.onnx`, x, B);
  let worst = 0;
  let special = true;
  x.forEach((v, i) => {
    const want = c.f(v);
    if (!Number.isFinite(want)) {
      special &&= Number.isNaN(want) ? Number.isNaN(got[i]) : got[i] === want;
      return;
    }
    const tol = 1e-5 * Math.max(1, Math.abs(want)) + (c.slack?.(want) ?? 0);
    worst = Math.max(worst, Math.abs(got[i] - want) / tol);
  });
  return { worst, special };
}
