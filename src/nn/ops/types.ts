import type { GpuTensor, OpEncoder } from '../../gpu/encoder.ts';
import type { ConvOp, LinearOp, NetOp } from '../../ir/graph.ts';
import type { HostTensor } from '../../ir/tensor.ts';

/** The ops the digital registry runs: every IR op that is not a crossbar matrix. */
export type DigitalOp = Exclude<NetOp, LinearOp | ConvOp>;
export type DigitalKind = DigitalOp['kind'];
export type OpOf<K extends DigitalKind> = Extract<DigitalOp, { kind: K }>;

/** What a batch's digital ops may read beyond their inputs: the model's random ops (RandomOp) key their draws by it. */
export interface OpContext {
  /** The run's config seed. */
  seed: number;
  /** The batch's first sample's position in the whole input set. */
  sampleOffset: number;
}

/**
 * One digital op on both backends: the CPU oracle (src/reference) and the WGSL kernels, behind the
 * same checks. A batch holds B samples; shapes in the op are per sample.
 */
export interface DigitalOpImpl<O extends DigitalOp> {
  cpu(op: O, inputs: readonly HostTensor[], B: number, ctx: OpContext): HostTensor;
  /** Absent for an op with no WGSL kernel: the WebGPU executor then refuses the network. */
  gpu?(e: OpEncoder, op: O, inputs: readonly GpuTensor[], B: number, ctx: OpContext): GpuTensor;
  /** Whether `gpu` covers this op's variant, where it covers only some (unary and binary functions); default: yes. */
  gpuCovers?(op: O): boolean;
}

/** The registry's type: exactly one entry per digital IR op kind. */
export type DigitalOpTable = { [K in DigitalKind]: DigitalOpImpl<OpOf<K>> };
