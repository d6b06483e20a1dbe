import type { GpuContext, GpuLimits } from './gpu-context.ts';
import { PipelineCache } from './pipeline-cache.ts';
import { adapterTuning, type KernelTuning } from './tuning.ts';

/** Device plus what kernels share: the pipeline cache and this session's tuning. Re-created with the device after a loss. */
export interface GpuSession {
  ctx: GpuContext;
  pipelines: PipelineCache;
  tuning: KernelTuning;
}

/**
 * Holds the current device; a lost device is replaced on the next `session()` call, so one failure
 * does not poison later runs in the same process (the browser app, a long sweep).
 */
export class GpuRuntime {
  private current: GpuSession | null = null;
  /** Tuning chosen for this adapter (autotuning), kept for the sessions that replace a lost device. */
  private tuned: KernelTuning | null = null;

  constructor(private readonly open: () => Promise<GpuContext | null>) {}

  /** The live session, opening (or re-opening after loss) a device if needed; null if no adapter. */
  async session(): Promise<GpuSession | null> {
    if (this.current && !this.current.ctx.isLost()) return this.current;
    const ctx = await this.open();
    if (!ctx) return null;
    this.current = { ctx, pipelines: new PipelineCache(ctx.device), tuning: this.tuned ?? adapterTuning(ctx) };
    return this.current;
  }

  /** Uses `t` in the live session and every later one (the adapter stays the same across device losses). */
  setTuning(t: KernelTuning): void {
    this.tuned = t;
    if (this.current) this.current.tuning = t;
  }

  /** Releases the device so Node can exit promptly. */
  release(): void {
    if (this.current) {
      this.current.ctx.destroy();
      this.current = null;
    }
  }
}

/** A view of `s` (same device and pipelines) whose kernels use other tuning: tests run both crossbar variants on one adapter, benches compare them. */
export function withTuning(s: GpuSession, tuning: Partial<KernelTuning>): GpuSession {
  return { ...s, tuning: { ...s.tuning, ...tuning } };
}

/** A view of `s` whose kernels see lower limits than the device's, e.g. a tiny binding size that forces every splitting path in a test. */
export function withLimits(s: GpuSession, lower: Partial<GpuLimits>): GpuSession {
  for (const [k, v] of Object.entries(lower)) {
    if (v > s.ctx.limits[k as keyof GpuLimits]) throw new Error(`withLimits: ${k}=${v} exceeds the device's ${s.ctx.limits[k as keyof GpuLimits]}`);
  }
  return { ...s, ctx: { ...s.ctx, limits: { ...s.ctx.limits, ...lower } } };
}
