import type { GpuContext } from './gpu-context.ts';

/** How the crossbar kernel is tiled: its launch shape and which of its two variants runs. */
export interface XbarTiles {
  /** Input vectors per invocation. */
  tm: number;
  wgx: number;
  wgy: number;
  /** Most conductance planes sharing one decode of the input bits. */
  pcMax: number;
  /** Input rows staged per workgroup in shared memory; 0 selects the register-only variant. */
  kt: number;
  /** false keeps exact-level layers on the general variant (tests and benches compare the two); default: the bit-plane variant where it pays. */
  bitplane?: boolean;
}

/** Kernel tuning of one session: chosen from the adapter, or forced by a test or bench through withTuning. */
export interface KernelTuning {
  xbar: XbarTiles;
}

/**
 * CPU drivers (lavapipe, SwiftShader) vectorize across invocations and pay dearly for barriers
 * (DESIGN.md section 2): register-only, small tiles, wide workgroups.
 */
export const REGISTER_TILES: XbarTiles = { tm: 4, wgx: 8, wgy: 8, pcMax: 4, kt: 0 };
/** Real GPUs: inputs decoded once per workgroup into shared memory, 32 rows of W per tile. */
export const SHARED_TILES: XbarTiles = { tm: 4, wgx: 16, wgy: 4, pcMax: 4, kt: 32 };

/** Bytes of workgroup memory per staged input element: the level and, for proportional read noise, its square. */
export const SHARED_BYTES_PER_ELEMENT = 8;

/**
 * The tiling an adapter gets: the register variant on CPU drivers; on GPUs the shared variant with
 * its tile depth halved until the largest tile fits the adapter's workgroup memory.
 */
export function adapterTuning(ctx: Pick<GpuContext, 'adapter' | 'limits'>): KernelTuning {
  if (ctx.adapter.isSoftware) return { xbar: REGISTER_TILES };
  const t = { ...SHARED_TILES };
  const rows = t.wgy * t.tm;
  while (t.kt > 1 && t.kt * rows * SHARED_BYTES_PER_ELEMENT > ctx.limits.maxComputeWorkgroupStorageSize) t.kt >>= 1;
  if (t.kt * rows * SHARED_BYTES_PER_ELEMENT > ctx.limits.maxComputeWorkgroupStorageSize || t.wgx * t.wgy > ctx.limits.maxComputeInvocationsPerWorkgroup) return { xbar: REGISTER_TILES };
  return { xbar: t };
}

/** Bump when the tuning candidates or the kernels change enough that cached choices should be measured again. */
export const TUNING_VERSION = 1;

/** A tuning result as cached per adapter (src/kernels/autotune.ts). */
export interface TuningEntry {
  version: number;
  xbar: XbarTiles;
  /** Median milliseconds of each candidate tried, by its short name, for reports. */
  timings: Record<string, number>;
}

/** Where tuning results are kept between runs. */
export interface TuningStore {
  get(adapterKey: string): TuningEntry | null;
  /** Stores an entry; false when the store cannot be written (it is then read-only). */
  set(adapterKey: string, e: TuningEntry): boolean;
  /** Where it lives, for messages. */
  readonly where: string;
}

/** A store that keeps entries for this process only (the browser, tests). */
export function memoryTuningStore(): TuningStore {
  const m = new Map<string, TuningEntry>();
  return { where: 'memory', get: (k) => m.get(k) ?? null, set: (k, e) => (m.set(k, e), true) };
}
