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

/** Optional capabilities kernels may branch on. */
export interface GpuCapabilities {
  features: string[];
  wgslLanguageFeatures: string[];
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
  packedDot4: boolean;
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

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** An open WebGPU device plus what we learned about it. */
export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterDescription;
  limits: GpuLimits;
  caps: GpuCapabilities;
  /** Rejects with the first uncaptured GPU error since the last call, if any. */
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
  const pending: string[] = [];
  void device.lost.then((e) => {
    lost = true;
    // "destroyed" is our own destroy(); anything else is news the user must see.
    if (e.reason !== 'destroyed') log(`xbarsim: GPU device lost (${e.reason}): ${e.message}`);
  });
  device.addEventListener('uncapturederror', (ev) => {
    const msg = (ev as GPUUncapturedErrorEvent).error.message;
    pending.push(msg);
    log(`xbarsim: GPU error: ${msg.split('\n')[0]}`);
  });

  return {
    device,
    adapter: { ...desc, source, isSoftware: isSoftwareAdapter(desc) },
    limits,
    caps: {
      features,
      wgslLanguageFeatures: wgsl,
      shaderF16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      timestampQuery: device.features.has('timestamp-query'),
      packedDot4: wgsl.includes('packed_4x8_integer_dot_product'),
    },
    checkErrors() {
      if (lost) throw new RuntimeFailure('GPU device was lost');
      if (pending.length > 0) {
        const first = pending.splice(0).at(0) ?? '';
        throw new RuntimeFailure(`GPU error: ${first}`);
      }
    },
    isLost: () => lost,
    destroy() {
      lost = true;
      device.destroy();
      keepAlive = null;
    },
  };
}

/** One line naming the adapter, to print beside any result. */
export function adapterLine(a: AdapterDescription): string {
  const parts = [a.vendor, a.architecture, a.description || a.device].filter((s) => s.length > 0);
  return `${parts.join(' / ')}${a.isSoftware ? ' (software)' : ''}`;
}
