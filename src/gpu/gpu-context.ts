import { RuntimeFailure } from '../errors.ts';

/** What we tell users (and log with every result) about the adapter a run used. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How it was found: "default", or the software Vulkan ICD file we pointed the loader at. */
  source: string;
  isSoftware: boolean;
}

/** What the device offers beyond the core, as reported by `xbarsim info`. */
export interface GpuCapabilities {
  features: string[];
  wgslLanguageFeatures: string[];
}

/** Limits we request at their adapter maximum, so batches can be sized to the real hardware. */
export const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;
export type RequestedLimit = (typeof REQUESTED_LIMITS)[number];
export type GpuLimits = Record<RequestedLimit, number>;

/**
 * The WebGPU specification's default limits, which every adapter supports: what a kernel source is
 * checked against when no session is given (a session checks against its adapter's real limits).
 */
export const WEBGPU_DEFAULT_LIMITS: Readonly<GpuLimits> = {
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
};

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** An open WebGPU device plus what we learned about it. */
export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterDescription;
  limits: GpuLimits;
  caps: GpuCapabilities;
  /** Throws one line for the GPU errors since the last call (the first, and how many followed it), if any. */
  checkErrors(): void;
  isLost(): boolean;
  destroy(): void;
}

/** Heuristic: CPU-emulated Vulkan drivers, which want register-blocked rather than shared-memory kernels. */
export function isSoftwareAdapter(info: { vendor: string; architecture: string; description: string; device: string }): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.description} ${info.device}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|software|mesa\/x11|cpu/.test(text);
}

/** Opens a device on `adapter` with the adapter's real limits and the optional features kernels use. */
export async function openDevice(
  instance: GPU,
  adapter: GPUAdapter,
  source: string,
  log: (line: string) => void,
): Promise<GpuContext> {
  // Dawn in Node tears the instance down once its GPU object is collected: hold it while the device lives.
  let keepAlive: GPU | null = instance;
  const wgslLanguageFeatures = instance.wgslLanguageFeatures as Iterable<string>;
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'xbarsim' });

  const info = adapter.info;
  const desc = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const wgsl = [...wgslLanguageFeatures].sort();
  const features = [...device.features].map(String).sort();
  const limits = {} as GpuLimits;
  for (const name of REQUESTED_LIMITS) limits[name] = device.limits[name];

  let lost = false;
  void keepAlive;
  const pending: GPUError[] = [];
  void device.lost.then((e) => {
    lost = true;
    // "destroyed" is our own destroy(); anything else is news the user must see.
    if (e.reason !== 'destroyed') log(`xbarsim: GPU device lost (${e.reason}): ${e.message.split('\n')[0]}`);
  });
  device.addEventListener('uncapturederror', (ev) => {
    // One failure cascades (an invalid buffer invalidates its bind group, pass and submit): keep them
    // for checkErrors' one line, and cancel the event, or Dawn in Node prints each one to stdout.
    ev.preventDefault();
    pending.push((ev as GPUUncapturedErrorEvent).error);
  });

  return {
    device,
    adapter: { ...desc, source, isSoftware: isSoftwareAdapter(desc) },
    limits,
    caps: { features, wgslLanguageFeatures: wgsl },
    checkErrors() {
      if (lost) throw new RuntimeFailure('GPU device was lost');
      const errors = pending.splice(0);
      if (errors.length > 0) throw gpuFailure(errors[0], errors.length - 1);
    },
    isLost: () => lost,
    destroy() {
      lost = true;
      device.destroy();
      keepAlive = null;
    },
  };
}

/** One line for a GPU error: its kind, the first line of Dawn's message, and how many errors it caused. */
export function gpuFailure(error: GPUError, followers = 0): RuntimeFailure {
  const oom = typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError;
  const first = error.message.split('\n')[0].trim();
  const more = followers > 0 ? ` (${followers} more GPU error${followers > 1 ? 's' : ''} followed from it)` : '';
  return new RuntimeFailure(`${oom ? 'GPU out of memory' : 'GPU error'}: ${first}${more}`);
}

/** One line naming the adapter, to print beside any result. */
export function adapterLine(a: AdapterDescription): string {
  const parts = [a.vendor, a.architecture, a.description || a.device].filter((s) => s.length > 0);
  return `${parts.join(' / ')}${a.isSoftware ? ' (software)' : ''}`;
}
