/** Creates a storage buffer holding `data` (padded to 4 bytes). */
export function uploadStorage(device: GPUDevice, data: ArrayBufferView, label: string, extraUsage = 0): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const buf = device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage,
    label,
    mappedAtCreation: true,
  });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buf.unmap();
  return buf;
}

/** Creates a uniform buffer from 32-bit words (u32/i32/f32 mixed through one ArrayBuffer). */
export function uploadUniform(device: GPUDevice, words: ArrayBuffer, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
  const buf = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label, mappedAtCreation: true });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(words));
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

/** Builds a uniform block from named fields, each one 32-bit word, in declaration order. */
export class UniformWriter {
  private readonly view: DataView;
  private offset = 0;
  constructor(words: number) {
    this.view = new DataView(new ArrayBuffer(Math.max(16, Math.ceil((words * 4) / 16) * 16)));
  }
  u32(v: number): this {
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }
  i32(v: number): this {
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }
  f32(v: number): this {
    this.view.setFloat32(this.offset, v, true);
    this.offset += 4;
    return this;
  }
  get buffer(): ArrayBuffer {
    return this.view.buffer as ArrayBuffer;
  }
}
