import programWgsl from '../../shaders/program.wgsl?raw';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage, uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import type { ChipId } from '../crossbar/chip.ts';
import { ceilDiv, checkParam, instantiate } from './template.ts';

/** How a dataflow's conductance planes are formed from cells (DESIGN.md section 9). */
export type PlaneMode = 'cells' | 'difference' | 'weighted-difference';

/** The planes a layer's kernel multiplies by, and the digital weight and read-noise factor of each. */
export interface PlaneLayout {
  mode: PlaneMode;
  npl: number;
  /** Inputs drive u/Vm once instead of bit-serial cycles (buffered, analog-sa). */
  collapsed: boolean;
  /** Per plane: ±2^(s·c)·Vm/ΔG, the factor its converted value is shift-added with. */
  weights: Float64Array;
  /** Per plane: Σ over the plane's cells of their weight² (additive read noise: variance = σ²·factor·ΣV²). */
  varFactors: Float64Array;
  /** Gmin subtracted digitally (Gmin·ΣV) per converted current, else 0. */
  gminSub: number;
}

/**
 * Each (slice, polarity) current for digital subtraction; the analog difference G⁺−G⁻ per slice for
 * analog subtract and `buffered`; the slice-weighted difference Σ_s 2^(s·c)(G⁺_s − G⁻_s) for `analog-sa`.
 */
export function planeLayout(g: LayerGeometry, cfg: XbarConfig): PlaneLayout {
  const { S, c, Vm, dG, Gmin } = g;
  const digitalSub = cfg.dataflow === 'digital-sa' && (cfg.weights.mapping === 'offset' || cfg.adc.subtract === 'digital');
  const mode: PlaneMode = digitalSub ? 'cells' : cfg.dataflow === 'analog-sa' ? 'weighted-difference' : 'difference';
  const npl = mode === 'cells' ? S * g.pol : mode === 'difference' ? S : 1;
  const weights = new Float64Array(npl);
  const varFactors = new Float64Array(npl);
  if (mode === 'cells') {
    for (let s = 0; s < S; s++) {
      for (let q = 0; q < g.pol; q++) {
        weights[s * g.pol + q] = ((q === 0 ? 1 : -1) * 2 ** (s * c) * Vm) / dG;
        varFactors[s * g.pol + q] = 1;
      }
    }
  } else if (mode === 'difference') {
    for (let s = 0; s < S; s++) {
      weights[s] = (2 ** (s * c) * Vm) / dG;
      varFactors[s] = 2;
    }
  } else {
    weights[0] = Vm / dG;
    for (let s = 0; s < S; s++) varFactors[0] += 2 * 4 ** (s * c);
  }
  return { mode, npl, collapsed: cfg.dataflow !== 'digital-sa', weights, varFactors, gminSub: digitalSub ? Gmin : 0 };
}

/** Compile-time shape of a chip-programming kernel. */
export interface ChipProgram {
  mode: PlaneMode;
  npl: number;
  programming: boolean;
  stuckAt: boolean;
  drift: boolean;
  /** Also build the G² variance planes (proportional read noise). */
  varPlanes: boolean;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL (and the entry point). */
export function chipProgramKey(p: ChipProgram, entry: 'perturb' | 'planes'): ProgramKey {
  return { family: 'program', params: { ...p, entry } };
}

const ROW_STRIDE = 65535 * 64;

/** WGSL for a chip-programming program. */
export function chipProgramSource(p: ChipProgram): string {
  checkParam('npl', p.npl, 1, 64);
  return instantiate(programWgsl, {
    MODE: p.mode === 'cells' ? 0 : p.mode === 'difference' ? 1 : 2,
    PROG: String(p.programming),
    STUCK: String(p.stuckAt),
    DRIFT: String(p.drift),
    WANTQ: String(p.varPlanes),
    NPL: p.npl,
    ROWSTRIDE: ROW_STRIDE,
    PHILOX: philoxWgsl,
  });
}

/** A chip's programmed layer on the GPU: cells, planes, variance planes and analog gains. */
export interface GpuChip {
  /** Seed and chip instance that key its noise (0, 0 for the noise-free chip). */
  seed: number;
  chip: number;
  /** [K·S·pol·N] f32 cell conductances after static noise. */
  cells: GPUBuffer;
  planes: GPUBuffer;
  /** Variance planes, or a placeholder when unused. */
  varPlanes: GPUBuffer;
  /** [nBlocks, N4·4] 1 + g, or all ones. */
  gains: GPUBuffer;
  destroy(): void;
}

/** Grid covering `n` invocations of a 64-wide workgroup within the per-dimension limit. */
function grid(n: number): [number, number] {
  const groups = Math.max(1, ceilDiv(n, 64));
  return groups <= 65535 ? [groups, 1] : [65535, ceilDiv(groups, 65535)];
}

/**
 * Programs one chip of a layer on the GPU: copies the noise-free cells, applies the chip's static
 * noise (when `id` is given and the config has any) and builds the kernel's planes.
 */
export function programChipGpu(
  s: GpuSession,
  baseCells: GPUBuffer,
  g: LayerGeometry,
  cfg: XbarConfig,
  layout: PlaneLayout,
  id: ChipId | null,
  gains: Float64Array,
): GpuChip {
  const { device } = s.ctx;
  const n = cfg.noise;
  const logRatio = Math.log(n.drift.t / n.drift.t0);
  const prog: ChipProgram = {
    mode: layout.mode,
    npl: layout.npl,
    programming: id !== null && n.programming.sigma > 0,
    stuckAt: id !== null && (n.stuckAt.sa0 > 0 || n.stuckAt.sa1 > 0),
    drift: id !== null && logRatio !== 0 && (n.drift.nu > 0 || n.drift.nuStd > 0),
    varPlanes: n.read.sigma > 0 && n.read.model === 'proportional',
  };
  const cellsN = g.K * g.S * g.pol * g.N;
  const N4 = ceilDiv(g.N, 4);
  const planeBytes = g.K * layout.npl * N4 * 16;
  const maxBinding = s.ctx.limits.maxStorageBufferBindingSize;
  if (planeBytes > maxBinding || cellsN * 4 > maxBinding) {
    throw new Error(`crossbar layer needs ${Math.max(planeBytes, cellsN * 4)} bytes of conductances; this adapter binds at most ${maxBinding}`);
  }
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const cells = device.createBuffer({ size: Math.max(16, cellsN * 4), usage, label: 'chip.cells' });
  const planes = device.createBuffer({ size: Math.max(16, planeBytes), usage, label: 'chip.planes' });
  const varPlanes = device.createBuffer({ size: prog.varPlanes ? Math.max(16, planeBytes) : 16, usage, label: 'chip.varPlanes' });
  const gainPadded = new Float32Array(g.blocks.length * N4 * 4).fill(1);
  for (let p = 0; p < g.blocks.length; p++) for (let j = 0; j < g.N; j++) gainPadded[p * N4 * 4 + j] = gains[p * g.N + j];
  const gainBuf = uploadStorage(device, gainPadded, 'chip.gains');
  const params = uploadUniform(
    device,
    new UniformWriter(20)
      .u32(cellsN).u32(g.K).u32(g.N).u32(N4).u32(g.S).u32(g.pol).u32(g.c).u32(id?.seed ?? 0).u32(id?.chip ?? 0).u32(id?.layer ?? 0)
      .u32(n.programming.model === 'additive' ? 0 : 1).u32(0)
      .f32(n.programming.sigma).f32(n.stuckAt.sa0).f32(n.stuckAt.sa1).f32(n.drift.nu).f32(n.drift.nuStd).f32(logRatio).f32(g.Gmin).f32(0).buffer,
    'chip.params',
  );
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(baseCells, 0, cells, 0, Math.max(16, cellsN * 4));
  const src = (): string => chipProgramSource(prog);
  if (prog.programming || prog.stuckAt || prog.drift) {
    const pipe = s.pipelines.get(chipProgramKey(prog, 'perturb'), src, 'perturb');
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [params, cells].map((buffer, binding) => ({ binding, resource: { buffer } })) }));
    pass.dispatchWorkgroups(...grid(cellsN));
    pass.end();
  }
  const pipe = s.pipelines.get(chipProgramKey(prog, 'planes'), src, 'planes');
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(
    0,
    device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [params, cells, planes, varPlanes].map((buffer, binding) => ({ binding, resource: { buffer } })) }),
  );
  pass.dispatchWorkgroups(...grid(g.K * N4 * 4));
  pass.end();
  device.queue.submit([enc.finish()]);
  return {
    seed: id?.seed ?? 0,
    chip: id?.chip ?? 0,
    cells,
    planes,
    varPlanes,
    gains: gainBuf,
    destroy() {
      for (const b of [cells, planes, varPlanes, gainBuf, params]) b.destroy();
    },
  };
}
