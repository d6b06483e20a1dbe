/**
 * CPU oracle of the IR ops that compute across elements of a sample (src/ir/ops-math.ts): matmul of
 * activations, reductions, argmax, log-softmax, layer/instance normalization and LRN. Written from
 * the ONNX definitions with coordinates, f64 arithmetic, one f32 rounding. Each takes the op, its
 * input tensors (full shapes, batch first) and the batch size, and checks the shapes it is given.
 */
import type { ArgMaxOp, CumSumOp, TopKOp, InstanceNormOp, LayerNormOp, LogSoftmaxOp, LrnOp, MatMulOp, ReduceOp, Shape } from '../ir/graph.ts';
import type { HostTensor } from '../ir/tensor.ts';
import { count, forEachIndex } from './ops.ts';

/** Throws `<kind> <name>: …` unless `inputs` are `shapes.length` tensors of B samples of those shapes. */
export function checkSamples(op: { kind: string; name: string }, inputs: readonly HostTensor[], B: number, ...shapes: Shape[]): void {
  if (inputs.length !== shapes.length) throw new Error(`${op.kind} ${op.name}: expects ${shapes.length} inputs, got ${inputs.length}`);
  inputs.forEach((t, i) => {
    if (t.data.length !== B * count(shapes[i])) throw new Error(`${op.kind} ${op.name}: input ${i} has ${t.data.length} values, expected ${B}×[${shapes[i].join(', ')}]`);
  });
}

/** Row-major strides. */
function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Flat index into a tensor of `dims` (right-aligned in `coord`'s rank) broadcast along its 1s. */
export function broadcastAt(dims: readonly number[], coord: readonly number[]): number {
  const off = coord.length - dims.length;
  let i = 0;
  for (let d = 0; d < dims.length; d++) i = i * dims[d] + (dims[d] === 1 ? 0 : coord[off + d]);
  return i;
}

/** Batched matrix product with numpy broadcasting of the leading dims, per sample. */
export function matmulRef(op: MatMulOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.aShape, op.bShape);
  const [a, b] = inputs;
  const out = op.outShape;
  const r = out.length;
  const [M, N] = [out[r - 2], out[r - 1]];
  const K = op.aShape[op.aShape.length - 1];
  if (op.bShape[op.bShape.length - 2] !== K) throw new Error(`matmul ${op.name}: inner dims ${K} and ${op.bShape[op.bShape.length - 2]} differ`);
  const lead = out.slice(0, -2);
  const aLead = op.aShape.slice(0, -2);
  const bLead = op.bShape.slice(0, -2);
  const [aSize, bSize, oSize] = [count(op.aShape), count(op.bShape), count(out)];
  const y = new Float32Array(B * oSize);
  for (let s = 0; s < B; s++) {
    forEachIndex(lead, (c, li) => {
      const ao = s * aSize + broadcastAt(aLead, c) * M * K;
      const bo = s * bSize + broadcastAt(bLead, c) * K * N;
      const yo = s * oSize + li * M * N;
      for (let m = 0; m < M; m++) {
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += a.data[ao + m * K + k] * b.data[bo + k * N + j];
          y[yo + m * N + j] = acc;
        }
      }
    });
  }
  return { shape: [B, ...out], data: y };
}

/** Calls f(outFlat, inFlat) for every element of a sample of `inShape`, with the reduced axes collapsed in outFlat. */
function forEachReduced(inShape: Shape, axes: readonly number[], f: (o: number, i: number) => void): number {
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = stridesOf(kept);
  forEachIndex(inShape, (c, i) => {
    let o = 0;
    for (let d = 0; d < c.length; d++) if (!axes.includes(d)) o += c[d] * ks[d];
    f(o, i);
  });
  return count(kept);
}

/** ReduceSum/Mean/Max/Min over per-sample axes; an empty reduction gives 0 (sum), NaN (mean) or ∓Infinity. */
export function reduceRef(op: ReduceOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const inSize = count(op.inShape);
  const outSize = count(op.outShape);
  const n = count(op.axes.map((a) => op.inShape[a]));
  const init = op.fn === 'max' ? -Infinity : op.fn === 'min' ? Infinity : op.fn === 'prod' ? 1 : 0;
  const y = new Float32Array(B * outSize);
  for (let s = 0; s < B; s++) {
    const acc = new Float64Array(outSize).fill(init);
    forEachReduced(op.inShape, op.axes, (o, i) => {
      const v = x[s * inSize + i];
      acc[o] = op.fn === 'max' ? Math.max(acc[o], v) : op.fn === 'min' ? Math.min(acc[o], v) : op.fn === 'prod' ? acc[o] * v : acc[o] + v;
    });
    for (let o = 0; o < outSize; o++) y[s * outSize + o] = op.fn === 'mean' ? acc[o] / n : acc[o];
  }
  return { shape: [B, ...op.outShape], data: y };
}

/** Visits each line along `axis` of a sample: f(offsets of its elements). */
function forEachLine(shape: Shape, axis: number, f: (at: (k: number) => number) => void): void {
  const L = shape[axis];
  const inner = count(shape.slice(axis + 1));
  const outer = count(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) f((k) => (o * L + k) * inner + j);
}

/** Index of the largest element along the axis (first or last of equal ones). */
export function argmaxRef(op: ArgMaxOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const inSize = count(op.inShape);
  const outSize = inSize / op.inShape[op.axis];
  const y = new Float32Array(B * outSize);
  let w = 0;
  for (let s = 0; s < B; s++) {
    forEachLine(op.inShape, op.axis, (at) => {
      let best = 0;
      for (let k = 1; k < op.inShape[op.axis]; k++) {
        const v = x[s * inSize + at(k)];
        const b = x[s * inSize + at(best)];
        if (v > b || (op.selectLastIndex && v === b)) best = k;
      }
      y[w++] = best;
    });
  }
  return { shape: [B, ...op.outShape], data: y };
}

/** Whether element a ranks before b in TopK's order: larger (or smaller) first, NaN above every number, ties to the lower index. */
export function topkBefore(va: number, a: number, vb: number, b: number, largest: boolean): boolean {
  const na = Number.isNaN(va);
  const nb = Number.isNaN(vb);
  if (na || nb) return na && nb ? a < b : largest ? na : nb;
  return va === vb ? a < b : largest ? va > vb : va < vb;
}

/** The k first elements along the axis in TopK's order (topkBefore), or their indices. */
export function topkRef(op: TopKOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const inSize = count(op.inShape);
  const L = op.inShape[op.axis];
  const inner = count(op.inShape.slice(op.axis + 1));
  const outSize = count(op.outShape);
  const y = new Float32Array(B * outSize);
  for (let s = 0; s < B; s++) {
    forEachLine(op.inShape, op.axis, (at) => {
      const first = at(0);
      const o = Math.floor(first / (L * inner));
      const j = first % inner;
      const order = Array.from({ length: L }, (_, k) => k).sort((a, b) => (topkBefore(x[s * inSize + at(a)], a, x[s * inSize + at(b)], b, op.largest) ? -1 : 1));
      for (let r = 0; r < op.k; r++) {
        const k = order[r];
        y[s * outSize + (o * op.k + r) * inner + j] = op.gives === 'values' ? x[s * inSize + at(k)] : k;
      }
    });
  }
  return { shape: [B, ...op.outShape], data: y };
}

/** Running sums along the axis (f64, one f32 rounding each): inclusive or exclusive, from either end. */
export function cumsumRef(op: CumSumOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const inSize = count(op.inShape);
  const L = op.inShape[op.axis];
  const y = new Float32Array(B * inSize);
  for (let s = 0; s < B; s++) {
    forEachLine(op.inShape, op.axis, (at) => {
      let acc = 0;
      for (let i = 0; i < L; i++) {
        const k = s * inSize + at(op.reverse ? L - 1 - i : i);
        if (op.exclusive) y[k] = acc;
        acc += x[k];
        if (!op.exclusive) y[k] = acc;
      }
    });
  }
  return { shape: [B, ...op.inShape], data: y };
}

/** x − max − log Σ exp(x − max) along the axis. */
export function logSoftmaxRef(op: LogSoftmaxOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const inSize = count(op.inShape);
  const y = new Float32Array(x.length);
  for (let s = 0; s < B; s++) {
    forEachLine(op.inShape, op.axis, (at) => {
      const L = op.inShape[op.axis];
      let m = -Infinity;
      for (let k = 0; k < L; k++) m = Math.max(m, x[s * inSize + at(k)]);
      let sum = 0;
      for (let k = 0; k < L; k++) sum += Math.exp(x[s * inSize + at(k)] - m);
      const lse = m + Math.log(sum);
      for (let k = 0; k < L; k++) y[s * inSize + at(k)] = x[s * inSize + at(k)] - lse;
    });
  }
  return { shape: [B, ...op.inShape], data: y };
}

/** Normalizes consecutive groups of `n` values: (x − mean)/sqrt(var + eps), then `post(value, index in group, group)`. */
function normalizeGroups(x: Float32Array, n: number, eps: number, post: (v: number, j: number, g: number) => number): Float32Array {
  const y = new Float32Array(x.length);
  for (let g = 0; g * n < x.length; g++) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += x[g * n + j];
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (x[g * n + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) y[g * n + j] = post((x[g * n + j] - mean) * inv, j, g);
  }
  return y;
}

/** LayerNormalization over the axes from `axis` on, with per-element scale and bias. */
export function layerNormRef(op: LayerNormOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const n = count(op.inShape.slice(op.axis));
  const y = normalizeGroups(inputs[0].data, n, op.epsilon, (v, j) => v * (op.scale ? op.scale[j] : 1) + (op.bias ? op.bias[j] : 0));
  return { shape: [B, ...op.inShape], data: y };
}

/** InstanceNormalization: each channel of each sample over its spatial elements. */
export function instanceNormRef(op: InstanceNormOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const C = op.inShape[0];
  const n = count(op.inShape.slice(1));
  const y = normalizeGroups(inputs[0].data, n, op.epsilon, (v, _j, g) => v * op.scale[g % C] + op.bias[g % C]);
  return { shape: [B, ...op.inShape], data: y };
}

/** LRN across channels (axis 0 of a sample). */
export function lrnRef(op: LrnOp, inputs: readonly HostTensor[], B: number): HostTensor {
  checkSamples(op, inputs, B, op.inShape);
  const x = inputs[0].data;
  const C = op.inShape[0];
  const inner = count(op.inShape.slice(1));
  const lo = Math.floor((op.size - 1) / 2);
  const hi = Math.ceil((op.size - 1) / 2);
  const y = new Float32Array(x.length);
  for (let s = 0; s < B; s++) {
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < inner; j++) {
        let sq = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) sq += x[(s * C + k) * inner + j] ** 2;
        const at = (s * C + c) * inner + j;
        y[at] = x[at] / Math.pow(op.bias + (op.alpha / op.size) * sq, op.beta);
      }
    }
  }
  return { shape: [B, ...op.inShape], data: y };
}
