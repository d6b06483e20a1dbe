import type { GpuContext } from './gpu-context.ts';
import { PipelineCache } from './pipeline-cache.ts';
import { BufferPool } from './buffer-pool.ts';

/** Device plus the caches kernels share. Re-created with the device after a loss. */
export interface GpuSession {
  ctx: GpuContext;
  pipelines: PipelineCache;
  buffers: BufferPool;
}

/**
 * Holds the current device; a lost device is replaced on the next `session()` call, so one failure
 * does not poison later runs in the same process (the browser app, a long sweep).
 */
export class GpuRuntime {
  private current: GpuSession | null = null;

  constructor(private readonly open: () => Promise<GpuContext | null>) {}

  /** The live session, opening (or re-opening after loss) a device if needed; null if no adapter. */
  async session(): Promise<GpuSession | null> {
    if (this.current && !this.current.ctx.isLost()) return this.current;
    const ctx = await this.open();
    if (!ctx) return null;
    this.current = { ctx, pipelines: new PipelineCache(ctx.device), buffers: new BufferPool(ctx.device) };
    return this.current;
  }

  /** Releases the device so Node can exit promptly. */
  release(): void {
    if (this.current) {
      this.current.buffers.destroyAll();
      this.current.ctx.destroy();
      this.current = null;
    }
  }
}
