import type { GpuSession } from './runtime.ts';

/** A tensor resident on the GPU: full shape including the batch dimension, row-major f32, tightly packed. */
export interface GpuTensor {
  shape: readonly number[];
  buf: GPUBuffer;
}

/**
 * What a GPU op needs to record its work: the session, the command encoder of the current batch,
 * and an allocator whose buffers the executor frees once the batch's commands have completed.
 */
export interface OpEncoder {
  session: GpuSession;
  encoder: GPUCommandEncoder;
  /** A storage buffer (STORAGE | COPY_SRC | COPY_DST) of at least `bytes`, freed after the batch. */
  alloc(bytes: number, label: string): GPUBuffer;
  /** Registers a buffer the op created itself (uniforms, constants) to be destroyed after the batch. */
  temp(buf: GPUBuffer): GPUBuffer;
}
