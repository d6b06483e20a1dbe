/** A kernel's identity: everything that changes its generated WGSL, and nothing else. */
export interface ProgramKey {
  family: string;
  /** Parameters that are baked into the shader (tile sizes, workgroup size, dataflow, ...). */
  params: Readonly<Record<string, string | number | boolean>>;
}

/** Stable string for a ProgramKey (parameter order does not matter). */
export function programKeyString(key: ProgramKey): string {
  const parts = Object.keys(key.params)
    .sort()
    .map((k) => `${k}=${String(key.params[k])}`);
  return `${key.family}{${parts.join(',')}}`;
}

/** Compute pipelines cached by ProgramKey, so a shader is compiled once per device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for `key`, generating and compiling the source only on a miss. */
  get(key: ProgramKey, source: () => string, entryPoint = 'main'): GPUComputePipeline {
    const k = programKeyString(key);
    const hit = this.pipelines.get(k);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const module = this.device.createShaderModule({ code: source(), label: k });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint }, label: k });
    this.pipelines.set(k, pipeline);
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
