// GPU time of recorded work from `timestamp-query`: every compute pass the recorded code begins gets
// timestampWrites, injected through a thin wrapper of the command encoder, so kernels are timed as
// they are (no timing code in src/). Where the adapter lacks the feature, callers fall back to the
// wall clock and say so.

/** Timestamp pairs one timed submission may hold (passes beyond it go untimed and are reported). */
const MAX_PASSES = 512;

/** What one timed submission measured. */
export interface GpuTiming {
  /** First pass begin to last pass end, seconds (includes gaps between passes). */
  span: number;
  /** Sum of the passes' own durations, seconds. */
  busy: number;
  passes: number;
}

/** Times the compute passes recorded through `wrap` with one query set, reusable across submissions. */
export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;
  private passes = 0;
  private overflow = false;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES, label: 'bench.timestamps' });
    this.resolveBuf = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'bench.resolve' });
    this.readBuf = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'bench.read' });
  }

  /** Whether `device` can be timed this way (the feature must have been requested with it). */
  static available(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  /** An encoder that records into `encoder` and timestamps each compute pass begun through it. */
  wrap(encoder: GPUCommandEncoder): GPUCommandEncoder {
    this.passes = 0;
    this.overflow = false;
    const beginComputePass = (desc?: GPUComputePassDescriptor): GPUComputePassEncoder => {
      if (this.passes >= MAX_PASSES) {
        this.overflow = true;
        return encoder.beginComputePass(desc);
      }
      const i = this.passes++;
      return encoder.beginComputePass({ ...desc, timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    };
    return new Proxy(encoder, {
      get(target, prop) {
        if (prop === 'beginComputePass') return beginComputePass;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** Records the query resolution into `encoder` (call after the timed work, before finish). */
  resolve(encoder: GPUCommandEncoder): void {
    if (this.passes === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.passes, this.resolveBuf, 0);
    encoder.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16 * this.passes);
  }

  /** Reads what the last submission measured (after it was submitted). */
  async read(): Promise<GpuTiming> {
    if (this.overflow) throw new Error(`bench: more than ${MAX_PASSES} compute passes in one timed submission`);
    const n = this.passes;
    if (n === 0) return { span: 0, busy: 0, passes: 0 };
    await this.readBuf.mapAsync(GPUMapMode.READ, 0, 16 * n);
    const t = new BigUint64Array(this.readBuf.getMappedRange(0, 16 * n).slice(0));
    this.readBuf.unmap();
    let first = t[0];
    let last = t[1];
    let busy = 0n;
    for (let i = 0; i < n; i++) {
      const b = t[2 * i];
      const e = t[2 * i + 1];
      if (b < first) first = b;
      if (e > last) last = e;
      if (e > b) busy += e - b;
    }
    return { span: Number(last - first) / 1e9, busy: Number(busy) / 1e9, passes: n };
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}
