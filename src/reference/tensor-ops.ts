/**
 * CPU oracle of the IR ops that move, pick or make elements (src/ir/ops-tensor.ts): slice, gather,
 * pad, expand, where, constant, resize and ConvTranspose's col2im, each computed per output
 * coordinate straight from the ONNX definitions (no stride tables shared with the kernels).
 */
import type { Col2ImOp, ConstantOp, ExpandOp, GatherElementsOp, GatherOp, LookupOp, PadOp, RandomOp, ResizeOp, SliceOp, WhereOp } from '../ir/graph.ts';
import { MODEL_KEY, NOISE_STREAM, NoiseDraws, modelDraw } from '../random/philox.ts';
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

/** The table row an index value picks (negative ones from the end), or −1 for a value that picks none. */
export function lookupRow(v: number, rows: number): number {
  if (!Number.isInteger(v) || v < -rows || v >= rows) return -1;
  return v < 0 ? v + rows : v;
}

/** out[c] = in[c with c[axis] = idx[c]] per sample; NaN where an index picks no element. */
export function gatherElementsRef(op: GatherElementsOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape, op.outShape);
  const L = op.inShape[op.axis];
  const inSize = count(op.inShape);
  const n = count(op.outShape);
  const src = new Array<number>(op.inShape.length);
  const out = new Float32Array(B * n);
  for (let s = 0; s < B; s++) {
    forEachIndex(op.outShape, (c, i) => {
      const r = lookupRow(inputs[1].data[s * n + i], L);
      c.forEach((v, d) => (src[d] = d === op.axis ? r : v));
      out[s * n + i] = r < 0 ? NaN : inputs[0].data[s * inSize + flat(op.inShape, src)];
    });
  }
  return { shape: [B, ...op.outShape], data: out };
}

/** out[j…, c…] = table[idx[j…], c…]; NaN where an index picks no row. */
export function lookupRef(op: LookupOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.indicesShape);
  const rows = op.table.dims[0];
  const width = count(op.table.dims.slice(1));
  const J = count(op.indicesShape);
  const idx = inputs[0].data;
  const out = new Float32Array(B * J * width);
  for (let j = 0; j < B * J; j++) {
    const r = lookupRow(idx[j], rows);
    for (let c = 0; c < width; c++) out[j * width + c] = r < 0 ? NaN : op.table.data[r * width + c];
  }
  return { shape: [B, ...op.outShape], data: out };
}

/** Where an output index along one axis reads, or −1 for the constant value. */
export function padSource(mode: PadOp['mode'], i: number, d: number): number {
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

/**
 * The model's random draws (RandomOp) for B samples, the first at `sampleOffset` in the whole input
 * set; `seed` is the run's, unless the op has its own.
 */
export function randomRef(op: RandomOp, inputs: readonly HostTensor[], B: number, ctx: { seed: number; sampleOffset: number }): HostTensor {
  checkSamples(op, inputs, B, ...(op.dist === 'bernoulli' ? [op.outShape] : []));
  const per = count(op.outShape);
  const p = op.dist === 'bernoulli' ? inputs[0].data : undefined;
  const draws = new NoiseDraws(op.seed ?? ctx.seed, MODEL_KEY, op.stream, NOISE_STREAM.model);
  const y = new Float32Array(B * per);
  for (let b = 0; b < B; b++) {
    const sample = op.perSample ? ctx.sampleOffset + b : 0;
    for (let e = 0; e < per; e++) y[b * per + e] = modelDraw(draws, op.dist, op.a, op.b, e, sample, p ? p[b * per + e] : 0);
  }
  return { shape: [B, ...op.outShape], data: y };
}

/** ONNX Resize's input coordinate of output coordinate x on axis d (f64; the float output length where ONNX uses it). */
export function resizeCoordinate(op: Pick<ResizeOp, 'coordinateTransform' | 'scales' | 'inShape' | 'outShape' | 'roi'>, d: number, x: number): number {
  const scale = op.scales[d];
  const lenIn = op.inShape[d];
  const lenOut = scale * lenIn;
  switch (op.coordinateTransform) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (lenIn / 2) * (1 - op.outShape[d] / lenOut);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel': return lenOut === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'align_corners': return lenOut === 1 ? 0 : (x * (lenIn - 1)) / (lenOut - 1);
    case 'asymmetric': return x / scale;
    case 'tf_half_pixel_for_nn': return (x + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const r = op.inShape.length;
      const [s0, s1] = [op.roi![d], op.roi![r + d]];
      const v = lenOut === 1 ? ((s1 - s0) * (lenIn - 1)) / 2 : (x * (s1 - s0) * (lenIn - 1)) / (lenOut - 1);
      return v + s0 * (lenIn - 1);
    }
  }
}

function nearestIndex(mode: ResizeOp['nearestMode'], v: number): number {
  if (Number.isInteger(v)) return v;
  return mode === 'floor' ? Math.floor(v) : mode === 'ceil' ? Math.ceil(v) : mode === 'round_prefer_ceil' ? Math.floor(v + 0.5) : Math.ceil(v - 0.5);
}

/** The input indices (clamped into the axis) and weights one output coordinate reads on axis d; null: outside the crop. */
function resizeTaps(op: ResizeOp, d: number, x: number): { idx: number[]; w: number[] } | null {
  const len = op.inShape[d];
  const v = resizeCoordinate(op, d, x);
  if (op.coordinateTransform === 'tf_crop_and_resize' && (v < 0 || v > len - 1)) return null;
  const clamp = (i: number): number => Math.min(Math.max(i, 0), len - 1);
  if (op.mode === 'nearest') return { idx: [clamp(nearestIndex(op.nearestMode, v))], w: [1] };
  // The kernel's support (1 linear, 2 cubic), widened by 1/s when antialiasing a downsample.
  const cubic = op.mode === 'cubic';
  const reach = cubic ? 2 : 1;
  const s = op.antialias ? Math.min(op.scales[d], 1) : 1;
  const start = Math.floor(-reach / s) + 1;
  const n = 2 - 2 * start;
  // Index base: the neighbour at or below v, one lower when v is whole (ONNX's ratio in (0, 1]).
  const base = (Number.isInteger(v) ? v - 1 : Math.floor(v)) + start;
  const kernel = (t: number): number => (cubic ? keysCubic(Math.abs(t), op.cubicCoeffA) : Math.max(0, 1 - Math.abs(t)));
  const raw = Array.from({ length: n }, (_, k) => {
    const i = base + k;
    return op.excludeOutside && (i < 0 || i >= len) ? 0 : kernel((i - v) * s);
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  return { idx: raw.map((_, k) => clamp(base + k)), w: raw.map((w) => w / sum) };
}

/** Keys' cubic convolution kernel at distance t ≥ 0 with parameter A (ONNX Resize cubic). */
function keysCubic(t: number, A: number): number {
  if (t <= 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
  if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
  return 0;
}

/** Resize nearest or (multi)linear, per ONNX's coordinate transforms. */
export function resizeRef(op: ResizeOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const r = op.inShape.length;
  const taps = op.outShape.map((len, d) => Array.from({ length: len }, (_, x) => resizeTaps(op, d, x)));
  const src = new Array<number>(r);
  return perSample(B, count(op.inShape), op.outShape, inputs[0].data, (xs, c) => {
    const t = c.map((x, d) => taps[d][x]);
    if (t.some((a) => a === null)) return op.extrapolationValue;
    const axes = t as { idx: number[]; w: number[] }[];
    let acc = 0;
    // Every combination of one tap per axis.
    forEachIndex(axes.map((a) => a.idx.length), (k) => {
      let weight = 1;
      for (let d = 0; d < r; d++) {
        weight *= axes[d].w[k[d]];
        src[d] = axes[d].idx[k[d]];
      }
      if (weight !== 0) acc += weight * xs[flat(op.inShape, src)];
    });
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
