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

/**
 * The uniform blocks of one batch's dispatches, packed at aligned offsets into a few 64 KiB buffers
 * and written through the queue. A buffer per dispatch, as uploadUniform makes, kept alive until
 * the batch completes, ran lavapipe out of memory mappings (a segfault inside Dawn) on a
 * 4,300-op network (torchvision's MaxViT: 37,787 buffers).
 */
export class UniformArena {
  private static readonly CHUNK = 1 << 16;
  private readonly chunks: GPUBuffer[] = [];
  private used = UniformArena.CHUNK;

  constructor(private readonly device: GPUDevice) {}

  /** A binding holding `bytes` (padded to 16 bytes), valid until `destroy`. */
  put(bytes: ArrayBuffer, label: string): GPUBufferBinding {
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    if (size > UniformArena.CHUNK) {
      const own = uploadUniform(this.device, bytes, label);
      this.chunks.push(own);
      return { buffer: own, offset: 0, size };
    }
    if (this.used + size > UniformArena.CHUNK) {
      this.chunks.push(this.device.createBuffer({ size: UniformArena.CHUNK, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniforms' }));
      this.used = 0;
    }
    const at = this.used;
    const chunk = this.chunks[this.chunks.length - 1];
    this.device.queue.writeBuffer(chunk, at, bytes);
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    this.used = Math.ceil((at + size) / align) * align;
    return { buffer: chunk, offset: at, size };
  }

  /** Frees every block; call once the work that reads them has completed (or been submitted). */
  destroy(): void {
    for (const c of this.chunks.splice(0)) c.destroy();
    this.used = UniformArena.CHUNK;
  }
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
