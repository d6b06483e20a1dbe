/** Rounds a byte size up to its pool class: powers of two from 256 B, so buffers are reusable across shapes. */
export function sizeClass(bytes: number): number {
  let s = 256;
  while (s < bytes) s *= 2;
  return s;
}

/**
 * Reuses storage buffers between dispatches of similar size, so a long run (many batches, many chips)
 * does not allocate and free GPU memory per call.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly all = new Set<GPUBuffer>();

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` with exactly `usage`; return it with release(). */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'pooled'): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) return reused;
    const buf = this.device.createBuffer({ size, usage, label });
    this.all.add(buf);
    return buf;
  }

  /** Gives a buffer back for reuse. */
  release(buf: GPUBuffer): void {
    const key = `${buf.usage}:${buf.size}`;
    const list = this.free.get(key) ?? [];
    list.push(buf);
    this.free.set(key, list);
  }

  /** Number of buffers currently allocated (in use or free). */
  get allocated(): number {
    return this.all.size;
  }

  destroyAll(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
  }
}
