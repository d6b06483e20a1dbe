/** Softmax and pooling on both backends. */
import { checkPoolGeometry } from '../../ir/geometry.ts';
import { encodePool } from '../../kernels/pool.ts';
import { encodeSoftmax } from '../../kernels/softmax.ts';
import { poolRef, softmaxRef } from '../../reference/ops.ts';
import { checkArity, checkInput, softmaxView } from './checks.ts';
import { allocTensor } from './elementwise.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

export const softmax: DigitalOpImpl<OpOf<'softmax'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const { axis } = softmaxView(op, B);
    return { shape: [B, ...op.inShape], data: softmaxRef(inputs[0].data, [B, ...op.inShape], axis + 1) };
  },
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const v = softmaxView(op, B);
    const y = allocTensor(e, [B, ...op.inShape], op.name);
    encodeSoftmax(e, inputs[0].buf, y.buf, v.outer, v.L, v.inner);
    return y;
  },
};

export const pool: DigitalOpImpl<OpOf<'pool'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, 1);
    checkPoolGeometry(op.name, op);
    checkInput(op, inputs[0], B, op.inShape);
    return { shape: [B, ...op.outShape], data: poolRef(op, inputs[0].data, B) };
  },
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkPoolGeometry(op.name, op);
    checkInput(op, inputs[0], B, op.inShape);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodePool(e, op, inputs[0].buf, y.buf, B);
    return y;
  },
};
