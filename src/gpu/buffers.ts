import { RuntimeFailure } from '../errors.ts';

/**
 * Creates a buffer mapped at creation; Dawn throws a RangeError when it cannot allocate one, which
 * becomes one line naming the buffer.
 */
function createMapped(device: GPUDevice, size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
  try {
    return device.createBuffer({ size, usage, label, mappedAtCreation: true });
  } catch (e) {
    if (e instanceof RangeError) throw new RuntimeFailure(`GPU out of memory: cannot allocate ${size} bytes for ${label}`);
    throw e;
  }
}

/** Creates a storage buffer holding `data` (padded to 4 bytes). */
export function uploadStorage(device: GPUDevice, data: ArrayBufferView, label: string, extraUsage = 0): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const buf = createMapped(device, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage, label);
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buf.unmap();
  return buf;
}

/** Creates a uniform buffer holding `bytes` (padded to 16 bytes). */
export function uploadUniform(device: GPUDevice, bytes: ArrayBuffer, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
  const buf = createMapped(device, size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(bytes));
  buf.unmap();
  return buf;
}

/** Copies `bytes` from a storage buffer back to the host. */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, bytes: number, srcOffset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, srcOffset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}
