import { describe, it } from 'vitest';
import { checkRowsEqualSamples } from '../helpers/rows-cases.ts';

describe('a crossbar linear layer over several rows per sample (issue 12: tokens, ConvTranspose pixels)', () => {
  it('equals the same layer over one-row samples bit for bit, read noise and counts included (CPU)', () => checkRowsEqualSamples({ kind: 'cpu', reason: 'test' }));
});
