import { describe, expect, it } from 'vitest';
import { BATCH, BatchDim } from '../../src/io/onnx/consts.ts';
import { NodeError, type Value } from '../../src/io/onnx/node.ts';
import { reshapeBatch } from '../../src/io/onnx/ops/batch-reshape.ts';

// Where Reshape puts the batch when it is not simply first (src/io/onnx/ops/batch-reshape.ts), on the
// views PyTorch's nn.MultiheadAttention makes of its [T, batch, D] activations.
const v = (shape: number[], batchAt = 0, merged?: 'major' | 'minor'): Value => ({ name: 'x', shape, dtype: 'float', batchAt, ...(merged ? { merged } : {}) });
const place = (x: Value, target: (number | BatchDim)[], declared: number | null = null) => reshapeBatch(x, target, false, declared, `[${target.join(', ')}]`);

describe('Reshape of a moved or merged batch', () => {
  it('[T, batch, D] → [T, batch·heads, d]: the batch is the major part of dim 1', () => {
    expect(place(v([12, 16], 1), [12, new BatchDim(2), 8])).toEqual({ shape: [12, 2, 8], batchAt: 1, merged: 'major' });
    // The same with 0 copying T and −1 for d, as traced shapes often read.
    expect(place(v([12, 16], 1), [0, new BatchDim(2), -1])).toEqual({ shape: [12, 2, 8], batchAt: 1, merged: 'major' });
  });

  it('[T, batch·heads, d] → [T·batch, D]: the batch is the minor part of dim 0; back to [T, batch, D] it stands alone', () => {
    const heads = v([12, 2, 8], 1, 'major');
    expect(place(heads, [new BatchDim(12), 16])).toEqual({ shape: [12, 16], batchAt: 0, merged: 'minor' });
    expect(place(v([12, 16], 0, 'minor'), [12, BATCH, 16])).toEqual({ shape: [12, 16], batchAt: 1 });
    // −1 takes the batch when no other dim does.
    expect(place(heads, [-1, 16])).toEqual({ shape: [12, 16], batchAt: 0, merged: 'minor' });
  });

  it('a static export (batch 6 written as a number) places the batch by the values around it', () => {
    expect(place(v([12, 16], 1), [12, 12, 8], 6)).toEqual({ shape: [12, 2, 8], batchAt: 1, merged: 'major' });
    expect(place(v([12, 2, 8], 1, 'major'), [72, 16], 6)).toEqual({ shape: [12, 16], batchAt: 0, merged: 'minor' });
    // At batch 1 the number fits anywhere: a dim of its own first, then not the last dim.
    expect(place(v([12, 16], 1), [12, 2, 8], 1)).toEqual({ shape: [12, 2, 8], batchAt: 1, merged: 'major' });
    expect(place(v([12, 2, 8], 1, 'major'), [12, 1, 16], 1)).toEqual({ shape: [12, 16], batchAt: 1 });
  });

  it('a target that would split the batch from its neighbours, or hold it twice, is refused', () => {
    expect(() => place(v([4, 6], 1), [8, new BatchDim(3)])).toThrow(/would split the batch from the values around it/);
    expect(() => place(v([4, 6], 1), [BATCH, BATCH, 24])).toThrow(/holds the batch size in two dims/);
    expect(() => place(v([4, 6], 1), [4, 6])).toThrow(/has no dim that holds the batch size/);
    expect(() => place(v([4, 6], 1), [4, -1, -1])).toThrow(NodeError);
  });
});
