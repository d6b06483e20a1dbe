/**
 * The one table from digital IR op kind to its CPU and GPU implementations (issue 11: registries
 * instead of parallel switches). A new op kind fails to type-check until it has an entry here.
 */
import type { GpuTensor, OpEncoder } from '../../gpu/encoder.ts';
import { isMatrixOp, type NetOp } from '../../ir/graph.ts';
import type { HostTensor } from '../../ir/tensor.ts';
import { affine, binary, unary } from './elementwise.ts';
import { concat, reshape, transpose } from './layout.ts';
import { argmax, cumsum, instancenorm, topk, layernorm, logSoftmax, lrn, matmul, reduce } from './math.ts';
import { pool, softmax } from './reduce.ts';
import { col2im, constant, expand, gather, gatherElements, lookup, pad, random, resize, slice, where } from './tensor.ts';
import type { DigitalKind, DigitalOp, DigitalOpImpl, DigitalOpTable, OpContext } from './types.ts';

export const DIGITAL_OPS: DigitalOpTable = {
  unary, binary, affine, softmax, pool, reshape, transpose, concat,
  matmul, reduce, argmax, cumsum, topk, 'log-softmax': logSoftmax, layernorm, instancenorm, lrn,
  slice, gather, 'gather-elements': gatherElements, lookup, pad, expand, where, constant, random, resize, col2im,
};

function implOf(op: DigitalOp): DigitalOpImpl<DigitalOp> {
  // The table is keyed by kind, so the entry for op.kind accepts exactly this op (TS cannot see it).
  return DIGITAL_OPS[op.kind] as DigitalOpImpl<DigitalOp>;
}

/** Digital op kinds that have no WGSL kernel (the WebGPU executor refuses networks using them); empty today. */
export function kindsWithoutGpu(): DigitalKind[] {
  return (Object.keys(DIGITAL_OPS) as DigitalKind[]).filter((k) => DIGITAL_OPS[k].gpu === undefined);
}

/** Why the WebGPU executor cannot run `op` yet (no WGSL kernel for its kind, or for its function), or null. */
export function gpuKernelMissing(op: NetOp): string | null {
  if (isMatrixOp(op)) return null;
  const impl = implOf(op as DigitalOp);
  if (!impl.gpu) return op.kind;
  if (impl.gpuCovers && !impl.gpuCovers(op as DigitalOp)) return `${op.kind} ${'fn' in op ? op.fn : ''}`.trim();
  return null;
}

/** The context of a lone op (seed 0, the first sample): an executor's batches pass their own. */
const LONE: OpContext = { seed: 0, sampleOffset: 0 };

/** Runs a digital op on the CPU oracle for B samples. */
export function digitalOpRef(op: DigitalOp, inputs: readonly HostTensor[], B: number, ctx: OpContext = LONE): HostTensor {
  return implOf(op).cpu(op, inputs, B, ctx);
}

/** Records a digital op on the GPU for B samples (reshape shares its input's buffer). */
export function encodeDigitalOp(e: OpEncoder, op: DigitalOp, inputs: readonly GpuTensor[], B: number, ctx: OpContext = LONE): GpuTensor {
  const gpu = implOf(op).gpu;
  if (!gpu) throw new Error(`${op.kind} ${op.name}: no WebGPU kernel for this op yet; run with --backend cpu`);
  return gpu(e, op, inputs, B, ctx);
}
