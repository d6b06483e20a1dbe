/**
 * CPU oracle of the IR ops that move, pick or make elements (src/ir/ops-tensor.ts): slice, gather,
 * pad, expand, where, constant, resize and ConvTranspose's col2im, each computed per output
 * coordinate straight from the ONNX definitions (no stride tables shared with the kernels).
 */
import type { Col2ImOp, ConstantOp, ExpandOp, GatherOp, PadOp, ResizeOp, SliceOp, WhereOp } from '../ir/graph.ts';
import type { HostTensor } from '../ir/tensor.ts';
import { broadcastAt, checkSamples } from './math-ops.ts';
import { count, forEachIndex } from './ops.ts';

/** Flat row-major index of `coord` in `dims`. */
function flat(dims: readonly number[], coord: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < dims.length; d++) i = i * dims[d] + coord[d];
  return i;
}

/** Fills B samples of `outShape` with `value(sampleInput, coord)`. */
function perSample(B: number, inSize: number, outShape: readonly number[], x: Float32Array, value: (xs: Float32Array, c: readonly number[]) => number): HostTensor {
  const n = count(outShape);
  const y = new Float32Array(B * n);
  for (let s = 0; s < B; s++) {
    const xs = x.subarray(s * inSize, (s + 1) * inSize);
    forEachIndex(outShape, (c, i) => {
      y[s * n + i] = value(xs, c);
    });
  }
  return { shape: [B, ...outShape], data: y };
}

/** out[c] = in[starts + c·steps]. */
export function sliceRef(op: SliceOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const src = new Array<number>(op.inShape.length);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => {
    for (let d = 0; d < c.length; d++) src[d] = op.starts[d] + c[d] * op.steps[d];
    return xs[flat(op.inShape, src)];
  });
}

/** out[a…, j…, c…] = in[a…, indices[j…], c…]. */
export function gatherRef(op: GatherOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const q = op.indicesShape.length;
  const src = new Array<number>(op.inShape.length);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => {
    for (let d = 0; d < op.axis; d++) src[d] = c[d];
    src[op.axis] = op.indices[flat(op.indicesShape, c.slice(op.axis, op.axis + q))];
    for (let d = op.axis + 1; d < op.inShape.length; d++) src[d] = c[d + q - 1];
    return xs[flat(op.inShape, src)];
  });
}

/** Where an output index along one axis reads, or −1 for the constant value. */
function padSource(mode: PadOp['mode'], i: number, d: number): number {
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return Math.min(Math.max(i, 0), d - 1);
    case 'wrap': return ((i % d) + d) % d;
    case 'reflect': {
      // Mirror without repeating the edge, as often as needed (period 2(d − 1)).
      if (d === 1) return 0;
      const p = 2 * (d - 1);
      const m = ((i % p) + p) % p;
      return m < d ? m : p - m;
    }
  }
}

/** ONNX Pad: out[c] = in[c − begin pads], or the mode's value outside. */
export function padRef(op: PadOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const r = op.inShape.length;
  const src = new Array<number>(r);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => {
    for (let d = 0; d < r; d++) {
      const s = padSource(op.mode, c[d] - op.pads[d], op.inShape[d]);
      if (s < 0) return op.value;
      src[d] = s;
    }
    return xs[flat(op.inShape, src)];
  });
}

/** numpy broadcast to outShape. */
export function expandRef(op: ExpandOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => xs[broadcastAt(op.inShape, c)]);
}

/** cond ≠ 0 ? x : y, all three broadcast. */
export function whereRef(op: WhereOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.condShape, op.xShape, op.yShape);
  const [c, x, y] = inputs;
  const [nc, nx, ny] = [op.condShape, op.xShape, op.yShape].map(count);
  const n = count(op.outShape);
  const out = new Float32Array(B * n);
  for (let s = 0; s < B; s++) {
    forEachIndex(op.outShape, (k, i) => {
      const cond = c.data[s * nc + broadcastAt(op.condShape, k)];
      out[s * n + i] = cond !== 0 ? x.data[s * nx + broadcastAt(op.xShape, k)] : y.data[s * ny + broadcastAt(op.yShape, k)];
    });
  }
  return { shape: [B, ...op.outShape], data: out };
}

/** The constant in every sample. */
export function constantRef(op: ConstantOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B);
  const n = op.value.data.length;
  if (n !== count(op.value.dims)) throw new Error(`constant ${op.name}: ${n} values for dims [${op.value.dims.join(', ')}]`);
  const y = new Float32Array(B * n);
  for (let s = 0; s < B; s++) y.set(op.value.data, s * n);
  return { shape: [B, ...op.value.dims], data: y };
}

/** ONNX Resize's input coordinate of output coordinate x on one axis (f64). */
export function resizeCoordinate(t: ResizeOp['coordinateTransform'], x: number, scale: number, lenIn: number, lenOut: number): number {
  switch (t) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = lenOut / (scale * lenIn);
      const offset = (lenIn / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel': return lenOut > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return lenOut === 1 ? 0 : (x * (lenIn - 1)) / (lenOut - 1);
    case 'asymmetric': return x / scale;
    case 'tf_half_pixel_for_nn': return (x + 0.5) / scale;
  }
}

function nearestIndex(mode: ResizeOp['nearestMode'], v: number, len: number): number {
  const i = mode === 'floor' ? Math.floor(v) : mode === 'ceil' ? Math.ceil(v) : mode === 'round_prefer_ceil' ? Math.floor(v + 0.5) : Math.ceil(v - 0.5);
  return Math.min(Math.max(i, 0), len - 1);
}

/** Resize nearest or (multi)linear, per ONNX's coordinate transforms. */
export function resizeRef(op: ResizeOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const r = op.inShape.length;
  // Per axis and output index: the two source indices and the weight of the second.
  const taps = op.outShape.map((len, d) =>
    Array.from({ length: len }, (_, x) => {
      const v = resizeCoordinate(op.coordinateTransform, x, op.scales[d], op.inShape[d], len);
      const n = op.inShape[d];
      if (op.mode === 'nearest') return { i0: nearestIndex(op.nearestMode, v, n), i1: 0, w: 0 };
      const c = Math.min(Math.max(v, 0), n - 1);
      const i0 = Math.floor(c);
      return { i0, i1: Math.min(i0 + 1, n - 1), w: c - i0 };
    }),
  );
  const src = new Array<number>(r);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => {
    let acc = 0;
    // Every corner of the interpolation cell: bit d of `corner` picks axis d's second neighbour.
    for (let corner = 0; corner < (op.mode === 'nearest' ? 1 : 1 << r); corner++) {
      let weight = 1;
      for (let d = 0; d < r; d++) {
        const t = taps[d][c[d]];
        const second = (corner >> d) & 1;
        weight *= second ? t.w : 1 - t.w;
        src[d] = second ? t.i1 : t.i0;
      }
      if (weight !== 0) acc += weight * xs[flat(op.inShape, src)];
    }
    return acc;
  });
}

/** ConvTranspose's overlap-add of per-pixel columns, plus the bias. */
export function col2imRef(op: Col2ImOp, inputs: readonly HostTensor[], B: number): HostTensor {
  const [H, W] = op.inSize;
  const cols = op.cout * op.kh * op.kw;
  checkSamples(op, inputs, B, [H * W, cols]);
  const [C, OH, OW] = op.outShape;
  const x = inputs[0].data;
  const y = new Float64Array(B * C * OH * OW);
  for (let s = 0; s < B; s++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const row = (s * H * W + h * W + w) * cols;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < op.kh; i++) {
            const oh = h * op.strides[0] - op.pads[0] + i * op.dilations[0];
            if (oh < 0 || oh >= OH) continue;
            for (let j = 0; j < op.kw; j++) {
              const ow = w * op.strides[1] - op.pads[1] + j * op.dilations[1];
              if (ow >= 0 && ow < OW) y[((s * C + c) * OH + oh) * OW + ow] += x[row + (c * op.kh + i) * op.kw + j];
            }
          }
        }
      }
    }
  }
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] + (op.bias ? op.bias[Math.floor(i / (OH * OW)) % C] : 0);
  return { shape: [B, C, OH, OW], data: out };
}
