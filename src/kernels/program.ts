import programWgsl from '../../shaders/program.wgsl?raw';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import cellsWgsl from '../../shaders/cells.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import type { ChipId } from '../crossbar/chip.ts';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage } from '../gpu/buffers.ts';
import { COUNTER_LAYOUT_WGSL } from '../random/philox.ts';
import { defineKernel, readWrite } from './kernel.ts';
import { dispatch, linearGrid, type Recorder } from './dispatch.ts';
import { ceilDiv, checkParam } from './template.ts';
import { CELL_UNIFORMS } from './cell-uniforms.ts';
import { DEVICE, devicePlan } from './device.ts';
import { hasWires } from '../circuits/params.ts';

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
  /**
   * circuit.model "approx" on a difference dataflow: the planes in memory are the cells (both
   * polarities of each of the npl logical planes side by side), as the drop acts on each physical column.
   */
  pairs: boolean;
}

/**
 * Each (slice, polarity) current for digital subtraction; the analog difference G⁺−G⁻ per slice for
 * analog subtract, `buffered` and NNS+A's `analog-sa` (its slices combine in the kernel, src/readout/neural-sa.ts); the slice-weighted difference Σ_s 2^(s·c)(G⁺_s − G⁻_s) for `analog-sa`.
 */
export function planeLayout(g: LayerGeometry, cfg: XbarConfig): PlaneLayout {
  const { S, c, Vm, dG, Gmin } = g;
  const digitalSub = cfg.dataflow === 'digital-sa' && (cfg.weights.mapping === 'offset' || cfg.adc.subtract === 'digital');
  // NNS+A weights each slice with its own chain coefficients before the one conversion: per-slice planes.
  const approx = cfg.circuit.model === 'approx' && hasWires(cfg);
  // So does the IR-drop approximation, which acts on each physical column per cycle before any sum.
  const sliceChain = cfg.dataflow === 'analog-sa' && (cfg.analog.model === 'neural' || approx);
  const mode: PlaneMode = digitalSub ? 'cells' : cfg.dataflow === 'analog-sa' && !sliceChain ? 'weighted-difference' : 'difference';
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
  return { mode, npl, collapsed: cfg.dataflow !== 'digital-sa', weights, varFactors, gminSub: digitalSub ? Gmin : 0, pairs: approx && mode !== 'cells' };
}

/** What a chip-programming pipeline bakes in (as WGSL overrides: one shader module serves them all). */
export type ProgrammingVariant = {
  entry: 'perturb' | 'planes';
  mode: PlaneMode;
  npl: number;
  programming: boolean;
  stuckAt: boolean;
  drift: boolean;
  /** Also build the G² variance planes (proportional read noise). */
  varPlanes: boolean;
  /** The variance planes hold the device model's per-cell σ² (binding Sg) instead of G². */
  deviceRead: boolean;
};

/** Writing conductances: a chip's static noise on its cells, then the planes the crossbar kernel reads. */
export const PROGRAMMING = defineKernel({
  name: 'program',
  uniforms: {
    ...CELL_UNIFORMS,
    progModel: 'u32',
    progSigma: 'f32',
    sa0: 'f32',
    sa1: 'f32',
    nu: 'f32',
    nuStd: 'f32',
    logRatio: 'f32',
    Gmin: 'f32',
  },
  bindings: { G: readWrite('f32'), R: readWrite('f32'), Q: readWrite('f32'), Sg: readWrite('f32') },
  includes: [philoxWgsl, COUNTER_LAYOUT_WGSL, cellsWgsl],
  compile(v: ProgrammingVariant) {
    checkParam('npl', v.npl, 1, 64);
    return {
      body: programWgsl,
      entry: v.entry,
      overrides: {
        MODE: v.mode === 'cells' ? 0 : v.mode === 'difference' ? 1 : 2,
        PROG: v.programming,
        STUCK: v.stuckAt,
        DRIFT: v.drift,
        WANTQ: v.varPlanes,
        DEVREAD: v.deviceRead,
        NPL: v.npl,
      },
      uses: v.entry === 'perturb' ? (['G'] as const) : undefined,
    };
  },
});

/** WGSL of the chip-programming kernels. */
export function programmingSource(v: ProgrammingVariant, limits?: GpuLimits): string {
  return PROGRAMMING.source(v, limits);
}

/** Columns [4·col4, 4·col4 + ncols) of a crossbar layer: cells and planes of this many columns fit one storage binding each. */
export interface ColumnSlice {
  col4: number;
  /** vec4 columns of its planes (ceil(ncols / 4)). */
  n4: number;
  ncols: number;
}

/**
 * The column slices of a layer on this session: one when its conductances fit one binding, else
 * as many vec4 columns per slice as the larger of its cells ([K, S, pol, cols]) and planes
 * ([K, npl, cols]) allow.
 */
export function columnSlices(s: GpuSession, g: LayerGeometry, layout: PlaneLayout): ColumnSlice[] {
  const N4 = ceilDiv(g.N, 4);
  const max = Math.min(s.ctx.limits.maxStorageBufferBindingSize, s.ctx.limits.maxBufferSize);
  const per = Math.floor(max / (16 * g.K * Math.max(layout.npl, g.S * g.pol)));
  if (per < 1) throw new Error(`crossbar layer: one column of K=${g.K} rows needs ${16 * g.K * Math.max(layout.npl, g.S * g.pol)} bytes of conductances; this adapter binds at most ${max}`);
  const slices: ColumnSlice[] = [];
  for (let c4 = 0; c4 < N4; c4 += per) {
    const n4 = Math.min(per, N4 - c4);
    slices.push({ col4: c4, n4, ncols: Math.min(4 * n4, g.N - 4 * c4) });
  }
  return slices;
}

/** The noise-free cells of one slice ([K, S, pol, ncols] of G's [K, S, pol, N]), uploaded. */
export function uploadSliceCells(s: GpuSession, G: ArrayLike<number>, g: LayerGeometry, slice: ColumnSlice): GPUBuffer {
  if (slice.ncols === g.N) return uploadStorage(s.ctx.device, Float32Array.from(G), 'xbar.baseCells');
  const rows = g.K * g.S * g.pol;
  const out = new Float32Array(rows * slice.ncols);
  const j0 = 4 * slice.col4;
  for (let r = 0; r < rows; r++) for (let j = 0; j < slice.ncols; j++) out[r * slice.ncols + j] = G[r * g.N + j0 + j];
  return uploadStorage(s.ctx.device, out, `xbar.baseCells[${j0}:]`);
}

/** One column slice of a programmed chip on the GPU. */
export interface ChipSlice {
  /** [K·S·pol·ncols] f32 cell conductances after static noise. */
  cells: GPUBuffer;
  /** [K, npl, n4] vec4 conductance planes. */
  planes: GPUBuffer;
  /** Variance planes, or a placeholder when unused. */
  varPlanes: GPUBuffer;
  /** [nBlocks, n4] vec4 of 1 + g, or all ones. */
  gains: GPUBuffer;
  /** The chip's own epilogue (weight scales times its drift compensation, bias), or null for the layer's. */
  epilogue: GPUBuffer | null;
  /** [K·S·pol·ncols] per-read σ of each cell under a device model (normalized), or null. */
  readSigma: GPUBuffer | null;
}

/** A chip's programmed layer on the GPU, slice by slice. */
export interface GpuChip {
  /** Seed and chip instance that key its noise (0, 0 for the noise-free chip). */
  seed: number;
  chip: number;
  slices: readonly ChipSlice[];
  destroy(): void;
}

/** A layer slice's noise-free cells and its epilogue (weight scales, bias) as programChipGpu reads them. */
export interface BaseSlice {
  slice: ColumnSlice;
  cells: GPUBuffer;
  epilogue: GPUBuffer;
}

/**
 * Programs one chip of a layer on the GPU: copies each slice's noise-free cells, applies the chip's
 * static noise (when `id` is given and the config has any: section 4's, or a device model's with its
 * per-read σ and drift compensation, src/kernels/device.ts) and builds the kernel's planes.
 */
export function programChipGpu(
  s: GpuSession,
  base: readonly BaseSlice[],
  g: LayerGeometry,
  cfg: XbarConfig,
  layout: PlaneLayout,
  id: ChipId | null,
  gains: Float64Array,
): GpuChip {
  const { device } = s.ctx;
  const n = cfg.noise;
  const logRatio = Math.log(n.drift.t / n.drift.t0);
  const dev = id !== null ? devicePlan(cfg, g) : null;
  const section4 = id !== null && dev === null;
  const deviceRead = dev !== null && dev.variant.reads;
  const shape = {
    mode: layout.pairs ? ('cells' as const) : layout.mode,
    npl: layout.pairs ? 2 * layout.npl : layout.npl,
    programming: section4 && n.programming.sigma > 0,
    stuckAt: section4 && (n.stuckAt.sa0 > 0 || n.stuckAt.sa1 > 0),
    drift: section4 && logRatio !== 0 && (n.drift.nu > 0 || n.drift.nuStd > 0),
    varPlanes: deviceRead || (n.read.sigma > 0 && n.read.model === 'proportional'),
    deviceRead,
  };
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  // Uniform buffers live as long as the chip: the submitted passes read them.
  const owned: GPUBuffer[] = [];
  const enc = device.createCommandEncoder();
  const rec = { encoder: enc, temp: (b: GPUBuffer) => (owned.push(b), b) };
  const buffer = (bytes: number, label: string): GPUBuffer => rec.temp(device.createBuffer({ size: Math.max(16, bytes), usage, label }));
  // Separate placeholders: two writable bindings of one buffer would alias.
  const unusedPm = buffer(16, 'chip.unusedProgrammed');
  const placeholder = buffer(16, 'chip.unusedSigma');
  const keep = dev !== null && dev.variant.keep;
  const programmed: GPUBuffer[] = [];
  const common = (slice: ColumnSlice, cellsN: number) => ({
    cells: cellsN, stride: 0, K: g.K, N: g.N, ncols: slice.ncols, n4: slice.n4, j0: 4 * slice.col4,
    S: g.S, pol: g.pol, cellBits: g.c, seed: id?.seed ?? 0, chip: id?.chip ?? 0, layer: id?.layer ?? 0,
  });
  const slices = base.map(({ slice, cells: baseCells }): ChipSlice => {
    const cellsN = g.K * g.S * g.pol * slice.ncols;
    const planeBytes = g.K * shape.npl * slice.n4 * 16;
    const cells = buffer(cellsN * 4, 'chip.cells');
    const planes = buffer(planeBytes, 'chip.planes');
    const varPlanes = shape.varPlanes ? buffer(planeBytes, 'chip.varPlanes') : buffer(16, 'chip.varPlanes');
    const j0 = 4 * slice.col4;
    const gainPadded = new Float32Array(g.blocks.length * slice.n4 * 4).fill(1);
    for (let p = 0; p < g.blocks.length; p++) for (let j = 0; j < slice.ncols; j++) gainPadded[p * slice.n4 * 4 + j] = gains[p * g.N + j0 + j];
    const gainBuf = rec.temp(uploadStorage(device, gainPadded, 'chip.gains'));
    enc.copyBufferToBuffer(baseCells, 0, cells, 0, Math.max(16, cellsN * 4));
    const at = common(slice, cellsN);
    const params = {
      ...at,
      progModel: n.programming.model === 'additive' ? 0 : 1,
      progSigma: n.programming.sigma, sa0: n.stuckAt.sa0, sa1: n.stuckAt.sa1, nu: n.drift.nu, nuStd: n.drift.nuStd, logRatio, Gmin: g.Gmin,
    };
    let sigma = placeholder;
    if (dev !== null) {
      const pm = keep ? buffer(cellsN * 4, 'chip.programmed') : unusedPm;
      programmed.push(pm);
      if (deviceRead) sigma = buffer(cellsN * 4, 'chip.readSigma');
      const grid = linearGrid(s, cellsN, 64);
      dispatch(s, rec, DEVICE, { entry: 'cells', ...dev.variant }, { params: { ...at, ...dev.params, stride: grid.stride }, bind: { G: cells, Pm: pm, Sg: sigma }, grid, label: 'cells' });
    } else if (shape.programming || shape.stuckAt || shape.drift) {
      const grid = linearGrid(s, cellsN, 64);
      dispatch(s, rec, PROGRAMMING, { entry: 'perturb', ...shape }, { params: { ...params, stride: grid.stride }, bind: { G: cells }, grid, label: 'perturb' });
    }
    const grid = linearGrid(s, g.K * slice.n4 * 4, 64);
    dispatch(s, rec, PROGRAMMING, { entry: 'planes', ...shape }, { params: { ...params, stride: grid.stride }, bind: { G: cells, R: planes, Q: varPlanes, Sg: sigma }, grid, label: 'planes' });
    return { cells, planes, varPlanes, gains: gainBuf, epilogue: null, readSigma: deviceRead ? sigma : null };
  });
  if (dev !== null && keep) {
    // Drift compensation (src/devices/compensation.ts): every slice's eye readouts first, as the global factor sums all columns.
    const E = buffer(2 * g.N * 4, 'chip.readouts');
    base.forEach(({ slice }, i) => {
      const grid = linearGrid(s, slice.ncols, 64);
      const params = { ...common(slice, 0), ...dev.params, stride: grid.stride };
      dispatch(s, rec, DEVICE, { entry: 'readout', ...dev.variant }, { params, bind: { G: slices[i].cells, Pm: programmed[i], E }, grid, label: 'readout' });
    });
    base.forEach(({ slice, epilogue }, i) => {
      const EO = buffer(slice.n4 * 8 * 4, 'chip.epilogue');
      const grid = linearGrid(s, slice.n4 * 4, 64);
      const params = { ...common(slice, 0), ...dev.params, stride: grid.stride };
      dispatch(s, rec, DEVICE, { entry: 'factors', ...dev.variant }, { params, bind: { E, EI: epilogue, EO }, grid, label: 'factors' });
      slices[i].epilogue = EO;
    });
  }
  device.queue.submit([enc.finish()]);
  return {
    seed: id?.seed ?? 0,
    chip: id?.chip ?? 0,
    slices,
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}

/**
 * Records the planes of one slice rebuilt from `cells` (another [K, S, pol, ncols] buffer, such as a
 * circuit's effective conductances) into `planes`, leaving the variance planes as they are.
 */
export function encodePlanesFrom(s: GpuSession, rec: Recorder, g: LayerGeometry, layout: PlaneLayout, slice: ColumnSlice, cells: GPUBuffer, planes: GPUBuffer): void {
  const { device } = s.ctx;
  const unused = (label: string): GPUBuffer => rec.temp(device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label }));
  const grid = linearGrid(s, g.K * slice.n4 * 4, 64);
  const shape = { entry: 'planes', mode: layout.mode, npl: layout.npl, programming: false, stuckAt: false, drift: false, varPlanes: false, deviceRead: false } as const;
  const params = {
    cells: g.K * g.S * g.pol * slice.ncols, stride: grid.stride, K: g.K, N: g.N, ncols: slice.ncols, n4: slice.n4, j0: 4 * slice.col4,
    S: g.S, pol: g.pol, cellBits: g.c, seed: 0, chip: 0, layer: 0, progModel: 0, progSigma: 0, sa0: 0, sa1: 0, nu: 0, nuStd: 0, logRatio: 0, Gmin: g.Gmin,
  };
  dispatch(s, rec, PROGRAMMING, shape, { params, bind: { G: cells, R: planes, Q: unused('planes.unusedQ'), Sg: unused('planes.unusedSigma') }, grid, label: 'planesFrom' });
}
