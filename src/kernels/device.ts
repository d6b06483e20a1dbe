import deviceWgsl from '../../shaders/device.wgsl?raw';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import cellsWgsl from '../../shaders/cells.wgsl?raw';
import { deviceRange } from '../config/device.ts';
import type { DeviceModelName, XbarConfig } from '../config/types.ts';
import { CMO_DECAY_MEAN, CMO_DECAY_STD, CMO_PROG_COEFF, CMO_READ_K, CMO_T_READ } from '../devices/reram-cmo.ts';
import { PCM_PROG_COEFF, PCM_PROG_G_REF, PCM_T0, PCM_T_READ } from '../devices/pcm.ts';
import { WAN_COEFF, WAN_G_REF } from '../devices/reram-wan.ts';
import { cellDevice } from '../devices/model.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import { COUNTER_LAYOUT_WGSL } from '../random/philox.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { CELL_UNIFORMS } from './cell-uniforms.ts';

/** What a device-model pipeline bakes in (as WGSL overrides: one shader module serves them all). */
export type DeviceVariant = {
  entry: 'cells' | 'readout' | 'factors';
  model: Exclude<DeviceModelName, 'none'>;
  programming: boolean;
  stuckAt: boolean;
  drifts: boolean;
  reads: boolean;
  /** A stuck cell keeps its stuck value through the time step (reram-wan2022). */
  holdsStuck: boolean;
  /** Keep the programmed state for drift compensation. */
  keep: boolean;
  /** Global (one factor per layer) rather than per-column compensation. */
  global: boolean;
};

const MODEL_ID: Record<DeviceVariant['model'], number> = { 'pcm-joshi2020': 0, 'reram-wan2022': 1, 'reram-cmo': 2 };

/** Device models of DESIGN.md section 12 on a chip's cells, and their drift compensation (shaders/device.wgsl). */
export const DEVICE = defineKernel({
  name: 'device',
  uniforms: {
    ...CELL_UNIFORMS,
    gMax: 'f32',
    gMin: 'f32',
    Gmin: 'f32',
    progScale: 'f32',
    driftScale: 'f32',
    readScale: 'f32',
    /** ln of the model's time ratio: ln((t + t0)/t0) for PCM, ln t for CMO (f64 on the host). */
    logT: 'f32',
    /** √ln((t + t_read)/(2·t_read)) of the model's 1/f read noise (f64 on the host). */
    readFactor: 'f32',
    sa0: 'f32',
    sa1: 'f32',
    dG: 'f32',
    Qw: 'f32',
    /** Subtracted from Σ±2^(s·c)·(G − Gmin) before dividing by dG: Qw·dG for the offset mapping (ŵ = Σ…/dG − Qw), else 0. */
    offsetW: 'f32',
    /** The model's coefficients (src/devices), constant terms first. */
    coef: 'array<vec4<f32>, 3>',
  },
  bindings: { G: readWrite('f32'), Pm: readWrite('f32'), Sg: readWrite('f32'), E: readWrite('f32'), EI: read('f32'), EO: readWrite('f32') },
  includes: [philoxWgsl, COUNTER_LAYOUT_WGSL, cellsWgsl],
  compile(v: DeviceVariant) {
    // Overrides do not remove code: an entry point binds every buffer it names (16-byte placeholders when off).
    const uses = v.entry === 'cells' ? (['G', 'Pm', 'Sg'] as const) : v.entry === 'readout' ? (['G', 'Pm', 'E'] as const) : (['E', 'EI', 'EO'] as const);
    return {
      body: deviceWgsl,
      entry: v.entry,
      overrides: {
        MODEL: MODEL_ID[v.model],
        PROG: v.programming,
        STUCK: v.stuckAt,
        DRIFTS: v.drifts,
        READS: v.reads,
        HOLDS: v.holdsStuck,
        KEEP: v.keep,
        GLOBAL: v.global,
      },
      uses,
    };
  },
});

/** How a config's device model runs on a layer: its variant flags and the time-only uniforms. */
export interface DevicePlan {
  variant: Omit<DeviceVariant, 'entry'>;
  /** Uniforms that depend on the config and layer geometry only (not on the slice or chip). */
  params: { gMax: number; gMin: number; Gmin: number; progScale: number; driftScale: number; readScale: number; logT: number; readFactor: number; sa0: number; sa1: number; dG: number; Qw: number; offsetW: number; coef: number[] };
}

/** The device plan of `cfg` on a layer of geometry `g` (null without a device model), with the same switches as src/devices/model.ts. */
export function devicePlan(cfg: XbarConfig, g: LayerGeometry): DevicePlan | null {
  const dev = cellDevice(cfg);
  if (dev === null) return null;
  const d = cfg.noise.device;
  const { gMax, gMin } = deviceRange(cfg);
  const time = cfg.noise.time;
  let logT = 0;
  let readFactor = 0;
  let coef: number[];
  if (dev.model === 'pcm-joshi2020') {
    coef = PCM_PROG_COEFF.map((c) => (c * gMax) / PCM_PROG_G_REF);
    logT = Math.log((time + PCM_T0) / PCM_T0);
    readFactor = Math.sqrt(Math.log((time + PCM_T0 + PCM_T_READ) / (2 * PCM_T_READ)));
  } else if (dev.model === 'reram-wan2022') {
    const at = WAN_COEFF[time];
    if (dev.drifts && at === undefined) throw new Error(`reram-wan2022 has fits at 1, 86400 and 172800 s only (asked for ${time})`);
    coef = [...WAN_COEFF[1], ...(at ?? WAN_COEFF[1])].map((c) => (c * gMax) / WAN_G_REF);
  } else {
    coef = [CMO_PROG_COEFF[0], CMO_PROG_COEFF[1], CMO_DECAY_MEAN, CMO_DECAY_STD[0], CMO_DECAY_STD[1], CMO_READ_K];
    logT = time > 0 ? Math.log(time) : 0;
    readFactor = time > 0 ? Math.sqrt(Math.max(Math.log((time + CMO_T_READ) / (2 * CMO_T_READ)), 0)) : 0;
  }
  const comp = cfg.noise.drift.compensation;
  return {
    variant: {
      model: dev.model,
      programming: d.progScale > 0,
      stuckAt: cfg.noise.stuckAt.sa0 > 0 || cfg.noise.stuckAt.sa1 > 0,
      drifts: dev.drifts,
      reads: dev.reads,
      holdsStuck: dev.holdsStuck,
      keep: comp !== 'none',
      global: comp === 'global',
    },
    params: {
      gMax, gMin, Gmin: g.Gmin, progScale: d.progScale, driftScale: d.driftScale, readScale: d.readScale, logT, readFactor,
      sa0: cfg.noise.stuckAt.sa0, sa1: cfg.noise.stuckAt.sa1, dG: g.dG, Qw: g.Qw, offsetW: cfg.weights.mapping === 'offset' ? g.Qw * g.dG : 0, coef,
    },
  };
}
