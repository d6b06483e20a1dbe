/** Reshape (no copy), transpose and concat on both backends. */
import { sizeOf } from '../../ir/graph.ts';
import { elementCount } from '../../ir/tensor.ts';
import { concatPlan, encodeStridedCopy, transposePlan } from '../../kernels/layout.ts';
import { concatRef, transposeRef } from '../../reference/ops.ts';
import { checkArity, checkInput, concatShape, fail, transposeShape } from './checks.ts';
import { allocTensor } from './elementwise.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

function checkReshape(op: OpOf<'reshape'>, x: { shape: readonly number[] }, B: number): void {
  if (elementCount(x.shape) !== B * sizeOf(op.outShape)) fail(op, `cannot reshape [${x.shape.join(', ')}] to [${[B, ...op.outShape].join(', ')}]`);
}

export const reshape: DigitalOpImpl<OpOf<'reshape'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, 1);
    checkReshape(op, inputs[0], B);
    return { shape: [B, ...op.outShape], data: inputs[0].data };
  },
  gpu(_e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkReshape(op, inputs[0], B);
    return { shape: [B, ...op.outShape], buf: inputs[0].buf };
  },
};

export const transpose: DigitalOpImpl<OpOf<'transpose'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    transposeShape(op);
    const y = transposeRef(inputs[0].data, [B, ...op.inShape], [0, ...op.perm.map((p) => p + 1)]);
    return { shape: y.dims, data: y.data };
  },
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const outShape = transposeShape(op);
    const y = allocTensor(e, [B, ...outShape], op.name);
    encodeStridedCopy(e, inputs[0].buf, y.buf, transposePlan([B, ...op.inShape], [0, ...op.perm.map((p) => p + 1)]));
    return y;
  },
};

export const concat: DigitalOpImpl<OpOf<'concat'>> = {
  cpu(op, inputs, B) {
    checkArity(op, inputs, op.inShapes.length);
    const { axis } = concatShape(op);
    op.inShapes.forEach((s, k) => checkInput(op, inputs[k], B, s, `input ${k}`));
    const y = concatRef(
      inputs.map((t, k) => ({ data: t.data, dims: [B, ...op.inShapes[k]] })),
      axis + 1,
    );
    return { shape: y.dims, data: y.data };
  },
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, op.inShapes.length);
    const { axis, shape } = concatShape(op);
    const y = allocTensor(e, [B, ...shape], op.name);
    const outer = B * sizeOf(shape.slice(0, axis));
    const tail = sizeOf(shape.slice(axis + 1));
    const outRow = shape[axis] * tail;
    let offset = 0;
    op.inShapes.forEach((s, k) => {
      checkInput(op, inputs[k], B, s, `input ${k}`);
      const inner = s[axis] * tail;
      encodeStridedCopy(e, inputs[k].buf, y.buf, concatPlan(outer, inner, outRow, offset));
      offset += inner;
    });
    return y;
  },
};
