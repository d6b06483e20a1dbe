import { openDevice, type GpuContext } from './gpu-context.ts';

/** Opens a WebGPU device through navigator.gpu; null when the browser has no adapter. */
export async function openBrowserGpu(log: (line: string) => void): Promise<GpuContext | null> {
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  return openDevice(gpu, adapter, 'navigator.gpu', log);
}
