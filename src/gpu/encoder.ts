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
  /** A uniform block holding `bytes` freed after the batch (UniformArena); absent: a buffer per dispatch. */
  uniform?(bytes: ArrayBuffer, label: string): GPUBufferBinding;
  /**
   * A read-only buffer holding `make()` that outlives the batch: the same `owner` (an op) and `label`
   * give the same buffer until its cache is destroyed, so an op's constant tables upload once, not per
   * batch. Absent: ops upload their constants for the batch.
   */
  constant?(owner: object, label: string, make: () => Float32Array): GPUBuffer;
}

/** Constant buffers by owner and label (OpEncoder.constant), freed together by `destroy`. */
export class ConstantCache {
  private readonly bufs = new Map<object, Map<string, GPUBuffer>>();

  constructor(private readonly upload: (data: Float32Array, label: string) => GPUBuffer) {}

  get(owner: object, label: string, make: () => Float32Array): GPUBuffer {
    let byLabel = this.bufs.get(owner);
    if (!byLabel) this.bufs.set(owner, (byLabel = new Map()));
    let b = byLabel.get(label);
    if (!b) byLabel.set(label, (b = this.upload(make(), label)));
    return b;
  }

  destroy(): void {
    for (const m of this.bufs.values()) for (const b of m.values()) b.destroy();
    this.bufs.clear();
  }
}
