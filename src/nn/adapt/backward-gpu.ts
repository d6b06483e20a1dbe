/**
 * The backward pass of adapter and --full training on WebGPU (issue 17), the same reverse walk as the
 * CPU oracle (src/nn/adapt/backward.ts) in f32 on the GPU kernels of src/kernels/backward.ts: linear
 * layers (adapter branch, weight and bias gradients, dx through the chip's effective weights: the
 * straight-through estimate), reshapes and unary activations, which is every op of an MLP's path.
 * Ops outside that list have no GPU backward yet: `gpuBackwardGap` names the first one.
 */
import { UsageError } from '../../errors.ts';
import { readBuffer, uploadStorage } from '../../gpu/buffers.ts';
import type { GpuSession } from '../../gpu/runtime.ts';
import { sizeOf, type LinearOp, type Network, type NetOp } from '../../ir/graph.ts';
import { BACKWARD_UNARY, encodeAccumulate, encodeColumnSum, encodeStridedGemm, encodeUnaryBackward, type BackwardUnary } from '../../kernels/backward.ts';
import type { Recorder } from '../../kernels/dispatch.ts';
import type { AdapterGrad, BackwardContext, ParamGrad } from './backward.ts';

/** The op kinds (and functions) the GPU backward crosses. */
export const GPU_BACKWARD_OPS = `linear, reshape, unary (${Object.keys(BACKWARD_UNARY).join(', ')})`;

/** The first op from the first trained one on whose backward has no GPU kernel, or null. */
export function gpuBackwardGap(net: Network, trained: (op: NetOp) => boolean): NetOp | null {
  const first = net.ops.findIndex(trained);
  if (first < 0) return null;
  for (let i = first; i < net.ops.length; i++) {
    const op = net.ops[i];
    const ok = op.kind === 'linear' || op.kind === 'reshape' || (op.kind === 'unary' && op.fn in BACKWARD_UNARY);
    if (!ok) return op;
  }
  return null;
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
    const val = (name: string): GPUBuffer => {
      let b = uploaded.get(name);
      if (!b) {
        const v = values.get(name);
        if (!v) throw new Error(`adapt: value "${name}" was not kept by the forward pass`);
        uploaded.set(name, (b = w.upload(v, name)));
      }
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
      } else if (op.kind === 'unary') {
        const dx = w.alloc(go.n, `${op.name}.dx`);
        encodeUnaryBackward(s, w, op.fn as BackwardUnary, op.alpha, val(op.inputs[0]), go.buf, dx, go.n);
        add(op.inputs[0], { buf: dx, n: go.n });
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
  if (ctx.params?.has(op.name)) {
    // dW = xᵀ·g [K, N]; db = Σ_rows g.
    const dW = w.alloc(K * N, `${op.name}.dW`);
    encodeStridedGemm(s, w, { ...xs, s0: 1, s1: K }, { ...gs, s0: N, s1: 1 }, dW, K, n, N, 1, false);
    const grad: ParamGrad = { dW: new Float64Array(0), db: null };
    params.set(op.name, grad);
    reads.push({ buf: dW, n: K * N, put: (v) => (grad.dW = v) });
    if (op.bias) {
      const db = w.alloc(N, `${op.name}.db`);
      encodeColumnSum(s, w, g.buf, db, n, N, false);
      reads.push({ buf: db, n: N, put: (v) => (grad.db = v) });
    }
  }
  if (!needDx) return null;
  // dx = g·W_effᵀ [n, K] (+ gh·A with an adapter).
  const W = w.upload(ctx.weights(op), `${op.name}.W`);
  const dx = w.alloc(n * K, `${op.name}.dx`);
  encodeStridedGemm(s, w, { ...gs, s0: N, s1: 1 }, { buf: W, elements: K * N, s0: 1, s1: N }, dx, n, N, K, 1, false);
  if (gh && Ab && ad) encodeStridedGemm(s, w, { buf: gh, elements: n * ad.a.rank, s0: ad.a.rank, s1: 1 }, { buf: Ab, elements: ad.a.rank * K, s0: K, s1: 1 }, dx, n, ad.a.rank, K, 1, true);
  return { buf: dx, n: n * K };
}
