import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { usageMessage } from '../helpers/errors.ts';
import { LP_CASES, lpError, lpModel } from '../helpers/lp-ops.ts';

// Hardmax, LpNormalization, MeanVarianceNormalization, ReduceLogSum, LpPool and GlobalLpPool on the
// CPU oracle against their definitions (test/helpers/lp-ops.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('Hardmax, Lp norms and pools, MVN and ReduceLogSum', () => {
  it.each(LP_CASES)('%s', async (_what, c) => {
    expect(await lpError(CPU, c, 3)).toBeLessThan(2e-6);
  });

  it('refuses what would mix samples or is not supported, in one line', () => {
    const message = (op: string, attrs: Record<string, number | number[]>) => usageMessage(() => importOnnx(lpModel({ op, opset: 13, attrs, ref: () => [] }), 'm.onnx'));
    // MVN's default axes [0, 2, 3] include the batch.
    expect(message('MeanVarianceNormalization', {})).toMatch(/^m\.onnx: node "MeanVarianceNormalization_\d+" \(MeanVarianceNormalization\): axes entry 0 is the batch dimension; MeanVarianceNormalization across samples is not supported$/);
    expect(message('LpNormalization', { p: 3 })).toMatch(/attribute "p" is 3; allowed: 1, 2$/);
    expect(message('LpNormalization', { axis: 0 })).toMatch(/axis 0 is the batch dimension/);
    expect(message('LpPool', { kernel_shape: [2, 2], ceil_mode: 1 })).toMatch(/attribute "ceil_mode" is 1; only 0 is supported for LpPool$/);
    expect(message('LpPool', { kernel_shape: [2, 2], p: 0 })).toMatch(/attribute "p" is 0; it must be a positive integer$/);
    expect(message('Hardmax', { axis: 0 })).toMatch(/hardmax over axis 0 would mix samples of the batch$/);
  });
});
