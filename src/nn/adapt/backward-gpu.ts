/**
 * The backward pass of adapter and --full training on WebGPU (issue 17), the same reverse walk as the
 * CPU oracle (src/nn/adapt/backward.ts) in f32 on the GPU kernels of src/kernels/backward.ts: linear
 * layers (adapter branch, weight and bias gradients, dx through the chip's effective weights: the
 * straight-through estimate), conv layers (the same three gradients through an im2col of the
 * input on the GPU), unary activations, binary ops with broadcasting, softmax, layernorm, matmul of two
 * activations, pooling and affine, and transpose, slice, gather, pad, concat and reduce as index maps
 * (per input element the output elements that read it, built on the host from the CPU oracle's own
 * maps). `gpuBackwardGap` names the first op outside that list. A linear layer's weight gradient or
 * weight larger than one storage binding is computed in row blocks (`rowBlocks`), a conv's backward
 * over blocks of samples whose im2col fits one binding.
 */
import { UsageError } from '../../errors.ts';
import { readBuffer, uploadStorage } from '../../gpu/buffers.ts';
import type { GpuSession } from '../../gpu/runtime.ts';
import { sizeOf, type AffineOp, type BinaryOp, type ConcatOp, type ConvOp, type LayerNormOp, type LinearOp, type MatMulOp, type Network, type NetOp, type PoolOp, type SoftmaxOp } from '../../ir/graph.ts';
import {
  encodeAccumulate, encodeBinaryTerm, encodeColumnSum, encodeIndexMapBackward, encodeLayerNormBackward, encodeSoftmaxBackward, encodeStridedGemm, encodeUnaryBackward, encodeWeightedMapBackward,
  type BackwardUnary, type BinaryTerm, type IndexLists,
} from '../../kernels/backward.ts';
import type { Recorder } from '../../kernels/dispatch.ts';
import { convTaps } from '../../reference/ops.ts';
import {
  BACKWARD_OPS, concatTarget, convDims, gatherSource, indexMap, operandStrides, padSourceMap, poolTaps, reduceTarget, sliceSource, transposeSource, unsupportedOp,
  type AdapterGrad, type BackwardContext, type ParamGrad,
} from './backward.ts';

/** The op kinds (and functions) the GPU backward crosses: all the CPU oracle's. */
export const GPU_BACKWARD_OPS = BACKWARD_OPS;

/** The first op from the first trained one on whose backward has no GPU kernel, or null. */
export function gpuBackwardGap(net: Network, trained: (op: NetOp) => boolean): NetOp | null {
  const first = net.ops.findIndex(trained);
  return first < 0 ? null : unsupportedOp(net, first);
}

/**
 * Row blocks [k0, k1) of a [K, N] f32 matrix each of which fits one storage binding of `maxBinding`
 * bytes: a weight gradient (or a weight) larger than one binding is computed (uploaded) block by
 * block, and a conv's backward runs over blocks of samples. `row` names one row in the error.
 */
export function rowBlocks(K: number, N: number, maxBinding: number, row = `one row of ${N} weights`): { k0: number; k1: number }[] {
  const rows = Math.floor(maxBinding / (4 * Math.max(1, N)));
  if (rows < 1) throw new Error(`adapt: ${row} (${4 * N} bytes) exceeds this adapter's maxStorageBufferBindingSize (${maxBinding})`);
  const out: { k0: number; k1: number }[] = [];
  for (let k0 = 0; k0 < K; k0 += rows) out.push({ k0, k1: Math.min(K, k0 + rows) });
  return out;
}

/** One value's gradient on the GPU: its buffer and element count. */
interface Grad {
  buf: GPUBuffer;
  n: number;
}

/** A command encoder with the temporaries it frees once its work has been read back. */
class Work implements Recorder {
  readonly encoder: GPUCommandEncoder;
  private readonly temps: GPUBuffer[] = [];

  constructor(private readonly s: GpuSession) {
    this.encoder = s.ctx.device.createCommandEncoder({ label: 'backward' });
  }

  temp(buf: GPUBuffer): GPUBuffer {
    this.temps.push(buf);
    return buf;
  }

  alloc(n: number, label: string): GPUBuffer {
    return this.temp(this.s.ctx.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label }));
  }

  upload(data: ArrayLike<number>, label: string): GPUBuffer {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.temp(uploadStorage(this.s.ctx.device, f, label));
  }

  uploadU32(data: Uint32Array | Int32Array, label: string): GPUBuffer {
    return this.temp(uploadStorage(this.s.ctx.device, data, label));
  }

  /** Per input element (of nIn) the output elements i with src[i] = it (src[i] = −1: none), as CSR lists. */
  inverseLists(src: Int32Array, nIn: number, label: string): IndexLists {
    const off = new Uint32Array(nIn + 1);
    let n = 0;
    for (let i = 0; i < src.length; i++) if (src[i] >= 0) { off[src[i] + 1]++; n++; }
    for (let j = 0; j < nIn; j++) off[j + 1] += off[j];
    const pos = off.slice(0, nIn);
    const idx = new Uint32Array(Math.max(1, n));
    for (let i = 0; i < src.length; i++) if (src[i] >= 0) idx[pos[src[i]]++] = i;
    return { off: this.uploadU32(off, `${label}.off`), idx: this.uploadU32(idx, `${label}.idx`), nIn, nIdx: n };
  }

  /** Element j reads exactly element dst[j] of the other side, or nothing where dst[j] = −1 (a gather: reduce's backward, concat's, im2col). */
  gatherLists(dst: Int32Array, label: string): IndexLists {
    const off = new Uint32Array(dst.length + 1);
    const idx: number[] = [];
    for (let j = 0; j < dst.length; j++) {
      if (dst[j] >= 0) idx.push(dst[j]);
      off[j + 1] = idx.length;
    }
    return { off: this.uploadU32(off, `${label}.off`), idx: this.uploadU32(idx.length ? Uint32Array.from(idx) : new Uint32Array(1), `${label}.idx`), nIn: dst.length, nIdx: idx.length };
  }

  /** Per input element (of nIn) the (output element, weight) pairs with inp = it, as CSR lists and their weights. */
  weightedLists(inp: Int32Array, out: Int32Array, wts: Float64Array, nIn: number, label: string): { lists: IndexLists; w: GPUBuffer } {
    const off = new Uint32Array(nIn + 1);
    for (let t = 0; t < inp.length; t++) off[inp[t] + 1]++;
    for (let j = 0; j < nIn; j++) off[j + 1] += off[j];
    const pos = off.slice(0, nIn);
    const idx = new Uint32Array(Math.max(1, inp.length));
    const w = new Float32Array(Math.max(1, inp.length));
    for (let t = 0; t < inp.length; t++) {
      const at = pos[inp[t]]++;
      idx[at] = out[t];
      w[at] = wts[t];
    }
    return { lists: { off: this.uploadU32(off, `${label}.off`), idx: this.uploadU32(idx, `${label}.idx`), nIn, nIdx: inp.length }, w: this.upload(w, `${label}.w`) };
  }

  destroy(): void {
    for (const b of this.temps) b.destroy();
  }
}

/**
 * Gradients of the adapters in `ctx.adapters` and of the parameters in `ctx.params` (as
 * adapterGradients / parameterGradients of the CPU oracle, in f32) on session `s`.
 */
export async function gpuGradients(s: GpuSession, net: Network, values: ReadonlyMap<string, Float32Array>, B: number, gOut: Float64Array, ctx: BackwardContext): Promise<{ adapters: Map<string, AdapterGrad>; params: Map<string, ParamGrad> }> {
  const trained = (op: NetOp) => (op.kind === 'linear' && ctx.adapters.has(op.name)) || (ctx.params?.has(op.name) ?? false);
  const first = net.ops.findIndex(trained);
  const adapters = new Map<string, AdapterGrad>();
  const params = new Map<string, ParamGrad>();
  if (first < 0) return { adapters, params };
  const gap = gpuBackwardGap(net, trained);
  if (gap) throw new UsageError(`adapt: the backward of ${gap.kind} op "${gap.name}" has no WebGPU kernel (GPU backward: ${GPU_BACKWARD_OPS})`);
  const w = new Work(s);
  try {
    const uploaded = new Map<string, GPUBuffer>();
    const host = (name: string): Float32Array => {
      const v = values.get(name);
      if (!v) throw new Error(`adapt: value "${name}" was not kept by the forward pass`);
      return v;
    };
    const val = (name: string): GPUBuffer => {
      let b = uploaded.get(name);
      if (!b) uploaded.set(name, (b = w.upload(host(name), name)));
      return b;
    };
    const g = new Map<string, Grad>([[net.output, { buf: w.upload(gOut, 'dloss'), n: gOut.length }]]);
    const add = (name: string, d: Grad): void => {
      const prev = g.get(name);
      if (!prev) g.set(name, d);
      else encodeAccumulate(s, w, d.buf, prev.buf, d.n);
    };
    const reads: { buf: GPUBuffer; n: number; put: (v: Float64Array) => void }[] = [];
    for (let i = net.ops.length - 1; i >= first; i--) {
      const op = net.ops[i];
      const go = g.get(op.output);
      if (!go) continue;
      if (op.kind === 'linear') {
        const dx = linearBackward(s, w, op, val(op.inputs[0]), go, B, ctx, i > first, reads, adapters, params);
        if (dx) add(op.inputs[0], dx);
      } else if (op.kind === 'reshape') {
        add(op.inputs[0], go);
      } else if (op.kind === 'conv') {
        const dx = convBackward(s, w, op, () => val(op.inputs[0]), host(op.inputs[0]).length, go, B, ctx, i > first, reads, params);
        if (dx) add(op.inputs[0], dx);
      } else if (op.kind === 'pool') {
        add(op.inputs[0], poolBackward(s, w, op, host(op.inputs[0]), go, B));
      } else if (op.kind === 'affine') {
        add(op.inputs[0], affineBackward(s, w, op, go));
      } else if (op.kind === 'concat') {
        concatBackward(s, w, op, go, B).forEach((d, k) => add(op.inputs[k], d));
      } else if (op.kind === 'constant') {
        // No input: the class token is a constant, not trained.
      } else if (op.kind === 'unary') {
        const dx = w.alloc(go.n, `${op.name}.dx`);
        encodeUnaryBackward(s, w, op.fn as BackwardUnary, op.alpha, val(op.inputs[0]), go.buf, dx, go.n, [op.min, op.max]);
        add(op.inputs[0], { buf: dx, n: go.n });
      } else if (op.kind === 'binary') {
        const r = binaryBackward(s, w, op, op.inputs.map((x) => ({ buf: val(x), n: values.get(x)!.length })), go, B, ctx.params?.has(op.name) ?? false);
        r.dx.forEach((d, k) => add(op.inputs[k], d));
        if (r.dConst) {
          const grad: ParamGrad = { dW: new Float64Array(0), db: null };
          params.set(op.name, grad);
          reads.push({ buf: r.dConst.buf, n: r.dConst.n, put: (v) => (grad.dW = v) });
        }
      } else if (op.kind === 'softmax') {
        add(op.inputs[0], softmaxBackward(s, w, op, val(op.output), go, B));
      } else if (op.kind === 'layernorm') {
        add(op.inputs[0], layerNormBackward(s, w, op, val(op.inputs[0]), go));
      } else if (op.kind === 'matmul') {
        const a = values.get(op.inputs[0])!.length;
        const b = values.get(op.inputs[1])!.length;
        matmulBackward(s, w, op, { buf: val(op.inputs[0]), n: a }, { buf: val(op.inputs[1]), n: b }, go, B).forEach((d, k) => add(op.inputs[k], d));
      } else if (op.kind === 'transpose' || op.kind === 'slice' || op.kind === 'gather' || op.kind === 'pad' || op.kind === 'reduce') {
        add(op.inputs[0], indexMapBackward(s, w, op, go, B));
      } else {
        throw new Error(`adapt: no GPU backward for ${op.kind}`);
      }
      g.delete(op.output);
    }
    s.ctx.device.queue.submit([w.encoder.finish()]);
    for (const r of reads) r.put(Float64Array.from(new Float32Array(await readBuffer(s.ctx.device, r.buf, r.n * 4))));
    return { adapters, params };
  } finally {
    w.destroy();
  }
}

type Reads = { buf: GPUBuffer; n: number; put: (v: Float64Array) => void }[];

/** One linear layer's backward: its adapter's dA, dB, its dW, db when trained, and dx when an earlier op needs it. */
function linearBackward(s: GpuSession, w: Work, op: LinearOp, x: GPUBuffer, g: Grad, B: number, ctx: BackwardContext, needDx: boolean, reads: Reads, adapters: Map<string, AdapterGrad>, params: Map<string, ParamGrad>): Grad | null {
  const { K, N } = op;
  const n = (B * sizeOf(op.inShape)) / K;
  const xs = { buf: x, elements: n * K };
  const gs = { buf: g.buf, elements: n * N };
  const ad = ctx.adapters.get(op.name);
  let gh: GPUBuffer | null = null;
  let Ab: GPUBuffer | null = null;
  if (ad) {
    const { a } = ad;
    const r = a.rank;
    const sc = a.alpha / r;
    Ab = w.upload(a.A, `${op.name}.A`);
    const Bb = w.upload(a.B, `${op.name}.B`);
    // h = x·Aᵀ [n, r]; dB = s·gᵀ·h [N, r]; gh = s·g·B [n, r]; dA = ghᵀ·x [r, K].
    const h = w.alloc(n * r, `${op.name}.h`);
    encodeStridedGemm(s, w, { ...xs, s0: K, s1: 1 }, { buf: Ab, elements: r * K, s0: 1, s1: K }, h, n, K, r, 1, false);
    const dB = w.alloc(N * r, `${op.name}.dB`);
    encodeStridedGemm(s, w, { ...gs, s0: 1, s1: N }, { buf: h, elements: n * r, s0: r, s1: 1 }, dB, N, n, r, sc, false);
    gh = w.alloc(n * r, `${op.name}.gh`);
    encodeStridedGemm(s, w, { ...gs, s0: N, s1: 1 }, { buf: Bb, elements: N * r, s0: r, s1: 1 }, gh, n, N, r, sc, false);
    const dA = w.alloc(r * K, `${op.name}.dA`);
    encodeStridedGemm(s, w, { buf: gh, elements: n * r, s0: 1, s1: r }, { ...xs, s0: K, s1: 1 }, dA, r, n, K, 1, false);
    const grad: AdapterGrad = { dA: new Float64Array(0), dB: new Float64Array(0) };
    adapters.set(op.name, grad);
    reads.push({ buf: dA, n: r * K, put: (v) => (grad.dA = v) }, { buf: dB, n: N * r, put: (v) => (grad.dB = v) });
  }
  const blocks = rowBlocks(K, N, s.ctx.limits.maxStorageBufferBindingSize);
  if (ctx.params?.has(op.name)) {
    // dW = xᵀ·g [K, N], rows k0..k1 per block (one binding each); db = Σ_rows g.
    const grad: ParamGrad = { dW: new Float64Array(K * N), db: null };
    params.set(op.name, grad);
    for (const { k0, k1 } of blocks) {
      const dW = w.alloc((k1 - k0) * N, `${op.name}.dW[${k0}:${k1}]`);
      encodeStridedGemm(s, w, { ...xs, s0: 1, s1: K }, { ...gs, s0: N, s1: 1 }, dW, k1 - k0, n, N, 1, false, 1, { xo: k0 });
      reads.push({ buf: dW, n: (k1 - k0) * N, put: (v) => grad.dW.set(v, k0 * N) });
    }
    if (op.bias) {
      const db = w.alloc(N, `${op.name}.db`);
      encodeColumnSum(s, w, g.buf, db, n, N, false);
      reads.push({ buf: db, n: N, put: (v) => (grad.db = v) });
    }
  }
  if (!needDx) return null;
  // dx = g·W_effᵀ [n, K] (+ gh·A with an adapter): columns k0..k1 of dx from rows k0..k1 of W per block.
  const Wf = Float32Array.from(ctx.weights(op));
  const dx = w.alloc(n * K, `${op.name}.dx`);
  for (const { k0, k1 } of blocks) {
    const W = w.upload(Wf.subarray(k0 * N, k1 * N), `${op.name}.W[${k0}:${k1}]`);
    encodeStridedGemm(s, w, { ...gs, s0: N, s1: 1 }, { buf: W, elements: (k1 - k0) * N, s0: 1, s1: N }, dx, n, N, k1 - k0, 1, false, 1, { zo: k0, ldz: K });
  }
  if (gh && Ab && ad) encodeStridedGemm(s, w, { buf: gh, elements: n * ad.a.rank, s0: ad.a.rank, s1: 1 }, { buf: Ab, elements: ad.a.rank * K, s0: K, s1: 1 }, dx, n, ad.a.rank, K, 1, true);
  return { buf: dx, n: n * K };
}

/** Transpose, slice, gather and pad (each output element reads one input element or none) and reduce sum/mean (each input element feeds one output element): the CPU oracle's maps. */
function indexMapBackward(s: GpuSession, w: Work, op: Extract<NetOp, { kind: 'transpose' | 'slice' | 'gather' | 'pad' | 'reduce' }>, g: Grad, B: number): Grad {
  const nIn = B * sizeOf(op.inShape);
  let lists: IndexLists;
  let scale = 1;
  if (op.kind === 'reduce') {
    const m = reduceTarget(op, B);
    lists = w.gatherLists(indexMap(m.dims, m.at), op.name);
    scale = m.scale;
  } else {
    const m = op.kind === 'transpose' ? transposeSource(op, B) : op.kind === 'slice' ? sliceSource(op, B) : op.kind === 'pad' ? padSourceMap(op, B) : { dims: [B, ...op.outShape], at: gatherSource(op, B) };
    lists = w.inverseLists(indexMap(m.dims, m.at), nIn, op.name);
  }
  const dx = w.alloc(nIn, `${op.name}.dx`);
  encodeIndexMapBackward(s, w, g.buf, g.n, lists, dx, scale, false);
  return { buf: dx, n: nIn };
}

/** Concat: each input's gradient is its part of the output's (a gather per input). */
function concatBackward(s: GpuSession, w: Work, op: ConcatOp, g: Grad, B: number): Grad[] {
  return op.inputs.map((_, k) => {
    const m = concatTarget(op, B, k);
    const dst = indexMap(m.dims, m.at);
    const dx = w.alloc(dst.length, `${op.name}.dx${k}`);
    encodeIndexMapBackward(s, w, g.buf, g.n, w.gatherLists(dst, `${op.name}.${k}`), dx, 1, false);
    return { buf: dx, n: dst.length };
  });
}

/** Max and average pooling: the oracle's (output, input, weight) triples, the max's argmax taken on the host from the kept input. */
function poolBackward(s: GpuSession, w: Work, op: PoolOp, x: Float32Array, g: Grad, B: number): Grad {
  const t = poolTaps(op, x, B);
  const { lists, w: wts } = w.weightedLists(t.inp, t.out, t.w, x.length, op.name);
  const dx = w.alloc(x.length, `${op.name}.dx`);
  encodeWeightedMapBackward(s, w, g.buf, g.n, lists, wts, dx, 1, false);
  return { buf: dx, n: x.length };
}

/** Affine: dx = g·scale[channel], as a binary term whose right operand is the scale read at each element's channel. */
function affineBackward(s: GpuSession, w: Work, op: AffineOp, g: Grad): Grad {
  const inner = sizeOf(op.inShape.slice(1));
  const C = op.inShape[0];
  const ch = w.uploadU32(Uint32Array.from({ length: g.n }, (_, i) => Math.floor(i / inner) % C), `${op.name}.channel`);
  const scale = { buf: w.upload(op.scale, `${op.name}.scale`), elements: C };
  const dx = w.alloc(g.n, `${op.name}.dx`);
  encodeBinaryTerm(s, w, 'mul-left', scale, scale, ch, ch, g.buf, dx, g.n);
  return { buf: dx, n: g.n };
}

/**
 * A conv layer's backward: the output gradient gathered to [cout, B·P] (P = OH·OW), the input's
 * im2col [group, Kg, B·P] gathered on the GPU from the oracle's taps, then per group dW = gᵀ·col
 * ([cout, Kg]: the ONNX layout), db = Σ g, and dx = col2im(Wᵀ·g) through the chip's effective
 * weights; over blocks of samples whose im2col fits one storage binding, dW and db summed across them.
 */
function convBackward(s: GpuSession, w: Work, op: ConvOp, x: () => GPUBuffer, xLen: number, g: Grad, B: number, ctx: BackwardContext, needDx: boolean, reads: Reads, params: Map<string, ParamGrad>): Grad | null {
  const { H, Wd, P, cinG, Kg, Ng } = convDims(op);
  const plane = op.cin * H * Wd;
  const trained = ctx.params?.has(op.name) ?? false;
  if (!trained && !needDx) return null;
  const taps = convTaps(op);
  // Per sample: its im2col (and dcol), its share of gT, its input (+1 for the lists' end offset).
  const perSample = Math.max(op.group * Kg * P, op.cout * P, plane + 1);
  const blocks = rowBlocks(B, perSample, s.ctx.limits.maxStorageBufferBindingSize, `one sample's im2col of ${op.name} (${perSample} values)`);
  const grad: ParamGrad = { dW: new Float64Array(0), db: null };
  const dW = trained ? w.alloc(op.weight.length, `${op.name}.dW`) : null;
  const db = trained && op.bias ? w.alloc(op.cout, `${op.name}.db`) : null;
  const W = needDx ? w.upload(ctx.weights(op), `${op.name}.W`) : null;
  const dx = needDx && blocks.length > 1 ? w.alloc(xLen, `${op.name}.dx`) : null;
  let dxOne: GPUBuffer | null = null;
  blocks.forEach(({ k0: b0, k1: b1 }, bi) => {
    const nb = b1 - b0;
    const BP = nb * P;
    const label = `${op.name}[${b0}:${b1}]`;
    const tdst = new Int32Array(op.cout * BP);
    for (let co = 0; co < op.cout; co++) for (let b = 0; b < nb; b++) for (let p = 0; p < P; p++) tdst[(co * nb + b) * P + p] = ((b0 + b) * op.cout + co) * P + p;
    const gT = w.alloc(tdst.length, `${label}.gT`);
    encodeIndexMapBackward(s, w, g.buf, g.n, w.gatherLists(tdst, `${label}.gT`), gT, 1, false);
    // The block's im2col: for each entry the input element it reads, within the block's samples (−1: padding).
    const colSrc = new Int32Array(op.group * Kg * BP);
    for (let grp = 0; grp < op.group; grp++) {
      for (let k = 0; k < Kg; k++) {
        for (let b = 0; b < nb; b++) {
          const base = b * plane + grp * cinG * H * Wd;
          const row = ((grp * Kg + k) * nb + b) * P;
          for (let p = 0; p < P; p++) {
            const t = taps[p * Kg + k];
            colSrc[row + p] = t < 0 ? -1 : base + t;
          }
        }
      }
    }
    const gOp = { buf: gT, elements: tdst.length };
    const acc = bi > 0;
    if (dW) {
      const col = w.alloc(colSrc.length, `${label}.col`);
      encodeIndexMapBackward(s, w, x(), xLen, w.gatherLists(colSrc.map((v) => (v < 0 ? -1 : v + b0 * plane)), `${label}.col`), col, 1, false);
      encodeStridedGemm(s, w, { ...gOp, s0: BP, s1: 1, batch: Ng * BP }, { buf: col, elements: colSrc.length, s0: 1, s1: BP, batch: Kg * BP }, dW, Ng, BP, Kg, 1, acc, op.group);
    }
    if (db) {
      const ones = w.upload(new Float32Array(BP).fill(1), `${label}.ones`);
      encodeStridedGemm(s, w, { ...gOp, s0: BP, s1: 1 }, { buf: ones, elements: BP, s0: 1, s1: 0 }, db, op.cout, BP, 1, 1, acc);
    }
    if (W) {
      const dcol = w.alloc(colSrc.length, `${label}.dcol`);
      encodeStridedGemm(s, w, { buf: W, elements: op.weight.length, s0: 1, s1: Kg, batch: Ng * Kg }, { ...gOp, s0: BP, s1: 1, batch: Ng * BP }, dcol, Kg, Ng, BP, 1, false, op.group);
      const dxb = w.alloc(nb * plane, `${label}.dx`);
      encodeIndexMapBackward(s, w, dcol, colSrc.length, w.inverseLists(colSrc, nb * plane, `${label}.col2im`), dxb, 1, false);
      if (dx) w.encoder.copyBufferToBuffer(dxb, 0, dx, b0 * plane * 4, nb * plane * 4);
      else dxOne = dxb;
    }
  });
  if (dW) {
    params.set(op.name, grad);
    reads.push({ buf: dW, n: op.weight.length, put: (v) => (grad.dW = v) });
    if (db) reads.push({ buf: db, n: op.cout, put: (v) => (grad.db = v) });
  }
  const out = dx ?? dxOne;
  return out ? { buf: out, n: xLen } : null;
}

const LEFT: Record<string, BinaryTerm> = { add: 'add', sub: 'sub-left', mul: 'mul-left', div: 'div-left' };
const RIGHT: Record<string, BinaryTerm> = { add: 'add', sub: 'sub-right', mul: 'mul-right', div: 'div-right' };

/** Add, sub, mul, div with numpy broadcasting: each operand's gradient is its terms summed over the output elements that read it. */
function binaryBackward(s: GpuSession, w: Work, op: BinaryOp, ins: Grad[], g: Grad, B: number, wantConst: boolean): { dx: Grad[]; dConst: Grad | null } {
  const dims = [B, ...op.outShape];
  const swap = op.b !== null && op.constFirst;
  const cst = op.b ? { buf: w.upload(op.b.data, `${op.name}.const`), n: op.b.data.length } : null;
  const other = cst ?? ins[1];
  const left = swap ? other : ins[0];
  const right = swap ? ins[0] : other;
  const ls = operandStrides([...(swap ? op.bShape : op.aShape)], op.outShape, !swap);
  const rs = operandStrides([...(swap ? op.aShape : op.bShape)], op.outShape, swap || op.b === null);
  const li = indexMap(dims, (c) => c.reduce((a, x, d) => a + x * ls[d], 0));
  const ri = indexMap(dims, (c) => c.reduce((a, x, d) => a + x * rs[d], 0));
  const liBuf = w.uploadU32(li, `${op.name}.li`);
  const riBuf = w.uploadU32(ri, `${op.name}.ri`);
  const side = (term: BinaryTerm, map: Int32Array, len: number, label: string): Grad => {
    const t = w.alloc(g.n, `${op.name}.${label}.terms`);
    encodeBinaryTerm(s, w, term, { buf: left.buf, elements: left.n }, { buf: right.buf, elements: right.n }, liBuf, riBuf, g.buf, t, g.n);
    const d = w.alloc(len, `${op.name}.${label}`);
    encodeIndexMapBackward(s, w, t, g.n, w.inverseLists(map, len, `${op.name}.${label}`), d, 1, false);
    return { buf: d, n: len };
  };
  const needLeft = !swap || wantConst;
  const needRight = swap || op.b === null || wantConst;
  const dl = needLeft ? side(LEFT[op.fn], li, left.n, 'dl') : null;
  const dr = needRight ? side(RIGHT[op.fn], ri, right.n, 'dr') : null;
  if (op.b) return swap ? { dx: [dr!], dConst: wantConst ? dl : null } : { dx: [dl!], dConst: wantConst ? dr : null };
  return { dx: [dl!, dr!], dConst: null };
}

function softmaxBackward(s: GpuSession, w: Work, op: SoftmaxOp, y: GPUBuffer, g: Grad, B: number): Grad {
  const dims = [B, ...op.inShape];
  const ax = op.axis + 1;
  const dx = w.alloc(g.n, `${op.name}.dx`);
  encodeSoftmaxBackward(s, w, y, g.buf, dx, sizeOf(dims.slice(0, ax)), dims[ax], sizeOf(dims.slice(ax + 1)));
  return { buf: dx, n: g.n };
}

function layerNormBackward(s: GpuSession, w: Work, op: LayerNormOp, x: GPUBuffer, g: Grad): Grad {
  const len = sizeOf(op.inShape.slice(op.axis));
  const dx = w.alloc(g.n, `${op.name}.dx`);
  encodeLayerNormBackward(s, w, x, g.buf, op.scale ? w.upload(op.scale, `${op.name}.scale`) : null, dx, g.n / len, len, op.epsilon);
  return { buf: dx, n: g.n };
}

/** Batched [M, K]·[K, N] with equal leading dims: da = g·bᵀ, db = aᵀ·g per matrix. */
function matmulBackward(s: GpuSession, w: Work, op: MatMulOp, a: Grad, b: Grad, g: Grad, B: number): Grad[] {
  const M = op.aShape[op.aShape.length - 2];
  const K = op.aShape[op.aShape.length - 1];
  const N = op.bShape[op.bShape.length - 1];
  const batches = (B * sizeOf(op.outShape)) / (M * N);
  if (a.n !== batches * M * K || b.n !== batches * K * N) throw new UsageError(`${op.name}: adapter training differentiates MatMul only with equal leading dims`);
  const da = w.alloc(a.n, `${op.name}.da`);
  encodeStridedGemm(s, w, { buf: g.buf, elements: g.n, s0: N, s1: 1, batch: M * N }, { buf: b.buf, elements: b.n, s0: 1, s1: N, batch: K * N }, da, M, N, K, 1, false, batches);
  const db = w.alloc(b.n, `${op.name}.db`);
  encodeStridedGemm(s, w, { buf: a.buf, elements: a.n, s0: 1, s1: K, batch: M * K }, { buf: g.buf, elements: g.n, s0: N, s1: 1, batch: M * N }, db, K, M, N, 1, false, batches);
  return [{ buf: da, n: a.n }, { buf: db, n: b.n }];
}
