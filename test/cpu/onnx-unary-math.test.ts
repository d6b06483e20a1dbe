import { describe, expect, it } from 'vitest';
import { UNARY_MATH_CASES, unaryMathError } from '../helpers/unary-math.ts';

// Trigonometric and hyperbolic ops, ThresholdedRelu and Shrink on the CPU oracle against their definitions.
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('ONNX trigonometric, hyperbolic and shrinkage ops', () => {
  it.each(UNARY_MATH_CASES)('%s', async (_what, c) => {
    const { worst, special } = await unaryMathError(CPU, c, 2);
    expect(special).toBe(true);
    // The oracle is the f64 function rounded once: within f32's half ulp.
    expect(worst).toBeLessThan(0.1);
  });
});
