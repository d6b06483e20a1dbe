/**
 * The issue-12 ops that move, pick or make elements (src/ir/ops-tensor.ts): slice, gather, gather-elements, pad,
 * expand, where, constant, resize and ConvTranspose's col2im. The CPU oracle is
 * src/reference/tensor-ops.ts; on the GPU slice and expand are strided copies (src/kernels/layout.ts),
 * where an elementwise kernel, the rest src/kernels/tensor.ts.
 */
import { sizeOf } from '../../ir/graph.ts';
import { rowMajorStrides } from '../../ir/tensor.ts';
import { encodeWhere } from '../../kernels/elementwise.ts';
import { encodeStridedCopy } from '../../kernels/layout.ts';
import { resizeAxisTaps } from '../../kernels/resize-taps.ts';
import { encodeCol2Im, encodeGather, encodeGatherElements, encodeLookup, encodePad, encodeResize, type ResizeAxisTaps } from '../../kernels/tensor.ts';
import { col2imRef, constantRef, expandRef, gatherElementsRef, gatherRef, lookupRef, padRef, randomRef, resizeRef, sliceRef, whereRef } from '../../reference/tensor-ops.ts';
import { encodeRandom } from '../../kernels/random.ts';
import { checkArity, checkInput, fail, opAxis } from './checks.ts';
import { allocTensor, operandStrides, uploadConstant } from './elementwise.ts';
import { alignTo } from './math.ts';
import type { DigitalOpImpl, OpOf } from './types.ts';

function checkRank(op: { kind: string; name: string }, shape: readonly number[], what: string, rank: number): void {
  if (shape.length !== rank) fail(op, `${what} has ${shape.length} values for rank ${rank}`);
}

export const slice: DigitalOpImpl<OpOf<'slice'>> = {
  cpu: sliceRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const r = op.inShape.length;
    checkRank(op, op.starts, 'starts', r);
    checkRank(op, op.steps, 'steps', r);
    const st = rowMajorStrides(op.inShape);
    op.outShape.forEach((n, d) => {
      const last = op.starts[d] + (n - 1) * op.steps[d];
      if (n > 0 && (op.starts[d] < 0 || op.starts[d] >= op.inShape[d] || last < 0 || last >= op.inShape[d])) fail(op, `axis ${d} reads outside [0, ${op.inShape[d]})`);
    });
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    const dims = [B, ...op.outShape];
    const offset = op.starts.reduce((acc, s, d) => acc + s * st[d], 0);
    encodeStridedCopy(e, inputs[0].buf, y.buf, {
      dims,
      src: { strides: [sizeOf(op.inShape), ...st.map((v, d) => v * op.steps[d])], offset },
      dst: { strides: rowMajorStrides(dims), offset: 0 },
    });
    return y;
  },
};

export const gather: DigitalOpImpl<OpOf<'gather'>> = {
  cpu: gatherRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const axis = opAxis(op, op.axis, op.inShape.length);
    const Lin = op.inShape[axis];
    if (op.indices.length !== sizeOf(op.indicesShape)) fail(op, `${op.indices.length} indices for indicesShape [${op.indicesShape.join(', ')}]`);
    if (op.indices.some((i) => i < 0 || i >= Lin)) fail(op, `an index is outside [0, ${Lin})`);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    const idx = uploadConstant(e, op, `${op.name}.indices`, () => new Float32Array(Uint32Array.from(op.indices).buffer));
    encodeGather(e, inputs[0].buf, idx, y.buf, B * sizeOf(op.inShape.slice(0, axis)), Lin, op.indices.length, sizeOf(op.inShape.slice(axis + 1)));
    return y;
  },
};

export const gatherElements: DigitalOpImpl<OpOf<'gather-elements'>> = {
  cpu: gatherElementsRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 2);
    checkInput(op, inputs[0], B, op.inShape);
    checkInput(op, inputs[1], B, op.outShape, 'indices');
    const axis = opAxis(op, op.axis, op.inShape.length);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodeGatherElements(e, inputs[0].buf, inputs[1].buf, y.buf, [B, ...op.inShape], [B, ...op.outShape], axis + 1);
    return y;
  },
};

export const lookup: DigitalOpImpl<OpOf<'lookup'>> = {
  cpu: lookupRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.indicesShape);
    const [rows, ...rest] = op.table.dims;
    const width = sizeOf(rest);
    const J = B * sizeOf(op.indicesShape);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    const table = uploadConstant(e, op, `${op.name}.table`, () => op.table.data);
    encodeLookup(e, inputs[0].buf, table, y.buf, J, rows, width);
    return y;
  },
};

export const pad: DigitalOpImpl<OpOf<'pad'>> = {
  cpu: padRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const r = op.inShape.length;
    checkRank(op, op.pads, 'pads', 2 * r);
    if (op.mode !== 'constant' && op.inShape.some((d) => d === 0) && sizeOf(op.outShape) > 0) fail(op, `mode ${op.mode} cannot pad an empty axis`);
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodePad(e, op.mode, inputs[0].buf, y.buf, [B, ...op.inShape], [B, ...op.outShape], [0, ...op.pads.slice(0, r)], op.value);
    return y;
  },
};

export const expand: DigitalOpImpl<OpOf<'expand'>> = {
  cpu: expandRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const a = alignTo(op.inShape, op.outShape.length);
    if (a.length !== op.outShape.length || a.some((d, k) => d !== 1 && d !== op.outShape[k])) fail(op, `[${op.inShape.join(', ')}] does not broadcast to [${op.outShape.join(', ')}]`);
    const dims = [B, ...op.outShape];
    const y = allocTensor(e, dims, op.name);
    encodeStridedCopy(e, inputs[0].buf, y.buf, { dims, src: { strides: operandStrides(a, true), offset: 0 }, dst: { strides: rowMajorStrides(dims), offset: 0 } });
    return y;
  },
};

export const where: DigitalOpImpl<OpOf<'where'>> = {
  cpu: whereRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 3);
    const shapes = [op.condShape, op.xShape, op.yShape];
    const r = op.outShape.length;
    const operands = shapes.map((s, k) => {
      checkInput(op, inputs[k], B, s, ['condition', 'x', 'y'][k]);
      const a = alignTo(s, r);
      if (a.length !== r || a.some((d, j) => d !== 1 && d !== op.outShape[j])) fail(op, `[${s.join(', ')}] does not broadcast to [${op.outShape.join(', ')}]`);
      return { buf: inputs[k].buf, elements: B * sizeOf(s), strides: operandStrides(a, true) };
    });
    const dims = [B, ...op.outShape];
    const y = allocTensor(e, dims, op.name);
    encodeWhere(e, operands[0], operands[1], operands[2], y.buf, dims);
    return y;
  },
};

export const random: DigitalOpImpl<OpOf<'random'>> = {
  cpu: randomRef,
  gpu(e, op, inputs, B, ctx) {
    const bernoulli = op.dist === 'bernoulli';
    checkArity(op, inputs, bernoulli ? 1 : 0);
    if (bernoulli) checkInput(op, inputs[0], B, op.outShape, 'p');
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodeRandom(e, { ...op, seed: op.seed ?? ctx.seed }, bernoulli ? inputs[0].buf : null, y.buf, B, sizeOf(op.outShape), ctx.sampleOffset);
    return y;
  },
};

export const constant: DigitalOpImpl<OpOf<'constant'>> = {
  cpu: constantRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 0);
    const n = op.value.data.length;
    if (n !== sizeOf(op.value.dims)) fail(op, `${n} values for dims [${op.value.dims.join(', ')}]`);
    const y = allocTensor(e, [B, ...op.value.dims], op.name);
    if (n > 0) {
      // One copy per batch size: a run's batches are all one size but the last.
      const all = uploadConstant(e, op, `${op.name}.value×${B}`, () => {
        const data = new Float32Array(B * n);
        for (let s = 0; s < B; s++) data.set(op.value.data, s * n);
        return data;
      });
      e.encoder.copyBufferToBuffer(all, 0, y.buf, 0, B * n * 4);
    }
    return y;
  },
};

export const resize: DigitalOpImpl<OpOf<'resize'>> = {
  cpu: resizeRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    checkInput(op, inputs[0], B, op.inShape);
    const r = op.inShape.length;
    checkRank(op, op.scales, 'scales', r);
    checkRank(op, op.outShape, 'outShape', r);
    if (op.coordinateTransform === 'tf_crop_and_resize' && (!op.roi || op.roi.length !== 2 * r)) fail(op, `tf_crop_and_resize needs a roi of ${2 * r} values`);
    if (op.inShape.some((d, k) => d === 0 && op.outShape[k] > 0)) fail(op, 'cannot resize an empty axis');
    const batch: ResizeAxisTaps = { count: 1, idx: Array.from({ length: B }, (_, i) => i), w: new Array<number>(B).fill(1) };
    const taps = [batch, ...op.inShape.map((_, d) => resizeAxisTaps(op, d))];
    const y = allocTensor(e, [B, ...op.outShape], op.name);
    encodeResize(e, inputs[0].buf, y.buf, [B, ...op.inShape], [B, ...op.outShape], taps, op.extrapolationValue);
    return y;
  },
};

export const col2im: DigitalOpImpl<OpOf<'col2im'>> = {
  cpu: col2imRef,
  gpu(e, op, inputs, B) {
    checkArity(op, inputs, 1);
    const [H, W] = op.inSize;
    checkInput(op, inputs[0], B, [H * W, op.cout * op.kh * op.kw]);
    const [C, OH, OW] = op.outShape;
    if (C !== op.cout) fail(op, `outShape has ${C} channels, cout is ${op.cout}`);
    if (op.bias && op.bias.length !== C) fail(op, `bias has ${op.bias.length} values for ${C} channels`);
    const y = allocTensor(e, [B, C, OH, OW], op.name);
    const bias = uploadConstant(e, op, `${op.name}.bias`, () => op.bias ?? new Float32Array(C));
    encodeCol2Im(e, inputs[0].buf, bias, y.buf, B, {
      C, OH, OW, H, W, kh: op.kh, kw: op.kw, strides: op.strides, pads: [op.pads[0], op.pads[1]], dilations: op.dilations,
    });
    return y;
  },
};
