import { traceSpan } from '../trace.ts';

/** A kernel's identity: its family and every parameter that changes its WGSL or pipeline, nothing else. */
export interface KernelKey {
  family: string;
  /** Parameters baked into the shader or its pipeline constants (tile sizes, workgroup size, dataflow, ...). */
  params: Readonly<Record<string, string | number | boolean>>;
}

/** Stable string for a KernelKey (parameter order does not matter). */
export function kernelKeyString(key: KernelKey): string {
  const parts = Object.keys(key.params)
    .sort()
    .map((k) => `${k}=${String(key.params[k])}`);
  return `${key.family}{${parts.join(',')}}`;
}

/** Everything a compute pipeline is built from. */
export interface PipelineSource {
  code: string;
  entryPoint: string;
  /** Group 0's layout; the pipeline's own ('auto') layout when absent. */
  bindings?: readonly GPUBindGroupLayoutEntry[];
  /** Values of the WGSL `override` constants. */
  constants?: Readonly<Record<string, number>>;
}

/** Compute pipelines cached by KernelKey, so a kernel is compiled once per device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for `key`, generating and compiling its source only on a miss. */
  get(key: KernelKey, build: () => PipelineSource): GPUComputePipeline {
    const k = kernelKeyString(key);
    const hit = this.pipelines.get(k);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const src = build();
    const pipeline = traceSpan('pipelines', () => {
      const module = this.device.createShaderModule({ code: src.code, label: k });
      const layout = src.bindings
        ? this.device.createPipelineLayout({ label: k, bindGroupLayouts: [this.device.createBindGroupLayout({ label: k, entries: [...src.bindings] })] })
        : 'auto';
      const compute: GPUProgrammableStage = { module, entryPoint: src.entryPoint };
      if (src.constants) compute.constants = { ...src.constants };
      return this.device.createComputePipeline({ layout, compute, label: k });
    });
    this.pipelines.set(k, pipeline);
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
