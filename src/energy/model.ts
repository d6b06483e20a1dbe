/**
 * The cost model (DESIGN.md section 10): energy = Σ events × energy per event + static power ×
 * the initiation interval; latency and throughput from the balanced pipeline (schedule.ts) at an
 * area budget; area from component counts (area.ts).
 */
import type { XbarConfig } from '../config/types.ts';
import { addCounts, COUNT_NAMES, zeroCounts, type EventCounts } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { UsageError } from '../errors.ts';
import { architectureFor, ISAAC_CHIP_TILES_MM2, type ArchitectureCost, type ArchitectureName } from './architectures.ts';
import { tileArea, type TileAreaReport } from './area.ts';
import { DIGITAL_MAC_J } from './isaac-table1.ts';
import { layerMacs, type CostLayer } from './layers.ts';
import { balance, vectorPassTime, type StageInput } from './schedule.ts';
import { addTraffic, layerTraffic, TRAFFIC_NAMES, zeroTraffic, type TrafficCounts } from './traffic.ts';

/** Energy by component (normative keys, DESIGN.md section 10); their sum is the energy per inference. */
export interface Breakdown {
  adc: number;
  dac: number;
  crossbar: number;
  analogAccumulation: number;
  shiftAdd: number;
  buffers: number;
  interconnect: number;
  digital: number;
  static: number;
}

export const BREAKDOWN_KEYS: readonly (keyof Breakdown)[] = ['adc', 'dac', 'crossbar', 'analogAccumulation', 'shiftAdd', 'buffers', 'interconnect', 'digital', 'static'];

const zeroBreakdown = (): Breakdown => ({ adc: 0, dac: 0, crossbar: 0, analogAccumulation: 0, shiftAdd: 0, buffers: 0, interconnect: 0, digital: 0, static: 0 });

/** Section 5's counts and the traffic counts, per inference. */
export type CostCounts = EventCounts & TrafficCounts;

/** One layer's share of the estimate. */
export interface LayerEstimate {
  name: string;
  /** Dynamic energy plus its share of static energy (by allocated arrays), per inference. */
  energy_J: number;
  /** Time of its pipeline stage per inference. */
  latency_s: number;
  macs: number;
  arrays: number;
  replication: number;
  breakdown_J: Breakdown;
}

/** The cost of one network on one preset (normative names first, DESIGN.md section 10). */
export interface PresetEstimate {
  preset: string;
  energyPerInference_J: number;
  latency_s: number;
  throughput_inferencesPerSecond: number;
  area_mm2: number;
  topsPerWatt: number;
  topsPerMm2: number;
  breakdown_J: Breakdown;
  counts: CostCounts;
  layers: LayerEstimate[];
  /** The cost table used (by the config's dataflow). */
  architecture: ArchitectureName;
  areaBudget_mm2: number;
  tiles: number;
  tilesUsed: number;
  tileArea_mm2: number;
  tileComponents: TileAreaReport;
  arraysAllocated: number;
  staticPower_W: number;
  macsPerInference: number;
}

/** Energy of one layer's events (no static). */
function layerDynamic(l: CostLayer, t: TrafficCounts, chip: ArchitectureCost): Breakdown {
  const b = zeroBreakdown();
  const arch = l.cfg ? architectureFor(l.cfg, `layers.${l.name}`) : chip;
  const c = l.counts;
  if (l.cfg) {
    b.adc = c.adcConversions * (arch.adcEnergy_J(l.cfg.adc.bits) + arch.sampleHoldPerConversion_J);
    b.dac = c.dacActivations * arch.dac[l.cfg.inputs.dacBits].energy_J;
    b.crossbar = c.cellReads * arch.cell_J;
    if (c.analogAccumulations > 0) {
      if (!arch.accumulator) throw new Error(`layer ${l.name}: ${c.analogAccumulations} analog accumulations but ${arch.name} has no analog accumulator`);
      // An accumulator that takes all slices of an output at once costs one event per S section-5 accumulations.
      const perEvent = arch.accumulator.per === 'output' ? layerGeometry(l.K, l.N, l.cfg).S : 1;
      b.analogAccumulation = (c.analogAccumulations / perEvent) * arch.accumulator.energy_J;
    }
    b.shiftAdd = c.digitalShiftAdds * arch.shiftAdd_J;
  }
  b.buffers = (t.bufferReadBits + t.bufferWriteBits) * arch.edramBit_J + t.inputRegisterBits * arch.inputRegisterBit_J + c.digitalShiftAdds * arch.outputRegisterPerShiftAdd_J;
  b.interconnect = t.busBits * arch.busBit_J + t.routerBits * arch.routerBit_J;
  b.digital = t.blockOutputs * arch.tileDigitalPerBlockOutput_J + t.digitalMacs * DIGITAL_MAC_J;
  return b;
}

const sumBreakdown = (b: Breakdown): number => BREAKDOWN_KEYS.reduce((a, k) => a + b[k], 0);

/** Arrays one copy of every crossbar layer needs, and the tile area that takes on `cfg`'s architecture. */
export function minimumArea(layers: readonly CostLayer[], cfg: XbarConfig): { arrays: number; area_mm2: number } {
  const arch = architectureFor(cfg);
  const tile = tileArea(arch, cfg);
  const arrays = layers.reduce((a, l) => a + l.counts.arrays, 0);
  return { arrays, area_mm2: Math.ceil(arrays / tile.arrays) * tile.area_mm2 };
}

/**
 * The default equal-area budget: the smallest whole number of ISAAC chips' tile area (168 tiles,
 * 62.5 mm²; HyperTransport excluded) that holds one copy of every layer on every given config.
 */
export function equalAreaBudget(networks: readonly { layers: readonly CostLayer[]; cfg: XbarConfig }[]): number {
  const chips = Math.max(1, ...networks.map((n) => Math.ceil(minimumArea(n.layers, n.cfg).area_mm2 / ISAAC_CHIP_TILES_MM2 - 1e-9)));
  return chips * ISAAC_CHIP_TILES_MM2;
}

/** Estimates one network on one config (the chip's preset) at an area budget (mm² of tiles). */
export function estimate(presetLabel: string, layers: readonly CostLayer[], cfg: XbarConfig, areaBudget_mm2: number): PresetEstimate {
  const arch = architectureFor(cfg);
  const tile = tileArea(arch, cfg);
  const tiles = Math.floor((areaBudget_mm2 / tile.area_mm2) * (1 + 1e-12));
  const stages: StageInput[] = layers.map((l) => ({ passTime_s: vectorPassTime(l, arch, cfg), arrays: l.cfg ? l.counts.arrays : 0, passes: l.passes, steps: l.steps }));
  const sched = balance(stages, tiles * tile.arrays);
  if (!sched) {
    const need = minimumArea(layers, cfg);
    throw new UsageError(
      `${presetLabel}: one copy of every layer needs ${need.arrays} arrays (${need.area_mm2.toFixed(2)} mm² of ${arch.name} tiles), the area budget ${areaBudget_mm2.toFixed(2)} mm² holds ${tiles * tile.arrays}; raise --area`,
    );
  }
  const tilesUsed = Math.ceil(sched.arraysUsed / tile.arrays);
  const staticPower_W = tilesUsed * arch.tileStatic_W;
  const staticEnergy = staticPower_W * sched.interval_s;

  let events = zeroCounts();
  let traffic = zeroTraffic();
  const total = zeroBreakdown();
  const out: LayerEstimate[] = layers.map((l, i) => {
    const t = layerTraffic(l, cfg, arch.arraysPerIma);
    events = addCounts(events, l.counts);
    traffic = addTraffic(traffic, t);
    const b = layerDynamic(l, t, arch);
    b.static = sched.arraysUsed === 0 ? 0 : (staticEnergy * sched.replication[i] * stages[i].arrays) / sched.arraysUsed;
    for (const k of BREAKDOWN_KEYS) total[k] += b[k];
    return { name: l.name, energy_J: sumBreakdown(b), latency_s: sched.stage_s[i], macs: layerMacs(l), arrays: stages[i].arrays, replication: sched.replication[i], breakdown_J: b };
  });
  // Sum the static energy as one term so the breakdown adds up exactly even when no array is allocated.
  total.static = staticEnergy;
  const energy = sumBreakdown(total);
  const macs = layers.reduce((a, l) => a + layerMacs(l), 0);
  const ops = 2 * macs;
  const throughput = sched.interval_s > 0 ? 1 / sched.interval_s : Infinity;
  const area = tiles * tile.area_mm2;
  return {
    preset: presetLabel,
    energyPerInference_J: energy,
    latency_s: sched.latency_s,
    throughput_inferencesPerSecond: throughput,
    area_mm2: area,
    topsPerWatt: ops / energy / 1e12,
    topsPerMm2: (ops * throughput) / area / 1e12,
    breakdown_J: total,
    counts: { ...events, ...traffic },
    layers: out,
    architecture: arch.name,
    areaBudget_mm2,
    tiles,
    tilesUsed,
    tileArea_mm2: tile.area_mm2,
    tileComponents: tile,
    arraysAllocated: sched.arraysUsed,
    staticPower_W,
    macsPerInference: macs,
  };
}

/** `of`'s energy efficiency (inferences per joule) and throughput over `over`'s (DESIGN.md section 10 `ratios`). */
export interface Ratio {
  of: string;
  over: string;
  energyEfficiency: number;
  throughput: number;
}

/** Every ordered pair of distinct estimates. */
export function ratios(estimates: readonly PresetEstimate[]): Ratio[] {
  const out: Ratio[] = [];
  for (const a of estimates) {
    for (const b of estimates) {
      if (a === b) continue;
      out.push({ of: a.preset, over: b.preset, energyEfficiency: b.energyPerInference_J / a.energyPerInference_J, throughput: a.throughput_inferencesPerSecond / b.throughput_inferencesPerSecond });
    }
  }
  return out;
}

/** Names of every count the estimate reports (section 5's, then the traffic counts). */
export const COST_COUNT_NAMES: readonly (keyof CostCounts)[] = [...COUNT_NAMES, ...TRAFFIC_NAMES];
