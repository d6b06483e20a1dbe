/**
 * Area from component counts, and how many ADCs an IMA needs. ADCs are provisioned so that
 * conversion never stalls the arrays when every array of the IMA is busy: ISAAC's own balance (one
 * 1.28 GS/s ADC converts its crossbar's 128 columns in one 100 ns cycle) applied to the conversions
 * each dataflow makes (DESIGN.md section 5's κ per output column and row block).
 */
import type { XbarConfig } from '../config/types.ts';
import { conversionsPerOutput } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import type { ArchitectureCost } from './architectures.ts';

/** Conversions one full array makes per vector pass: its columns, κ conversions per S·pol columns. */
export function conversionsPerArray(cfg: XbarConfig): number {
  const g = layerGeometry(cfg.array.rows, 1, cfg);
  return (cfg.array.cols * conversionsPerOutput(g, cfg)) / (g.S * g.pol);
}

/** ADCs per IMA: the published count, else enough conversion rate for all its arrays to run at one vector pass per T cycles. */
export function adcsPerIma(arch: ArchitectureCost, cfg: XbarConfig): number {
  if (arch.adcsPerIma !== null) return arch.adcsPerIma;
  const T = Math.ceil(cfg.inputs.bits / cfg.inputs.dacBits);
  const needed = (arch.arraysPerIma * conversionsPerArray(cfg)) / (T * arch.cycle_s);
  // A tiny epsilon keeps ISAAC's exact balance (8.000…01 from float division) at 8.
  return Math.max(1, Math.ceil(needed / arch.adcRate_Hz - 1e-9));
}

/** One component line of a tile's area. */
export interface AreaItem {
  name: string;
  count: number;
  area_mm2: number;
}

/** A tile's area: its component list (empty when the area is published whole) and the total. */
export interface TileAreaReport {
  items: AreaItem[];
  area_mm2: number;
  arrays: number;
  adcsPerIma: number;
  note?: string;
}

/** The tile of `arch` built for `cfg`: its organisation with this design's converters and accumulators. */
export function tileArea(arch: ArchitectureCost, cfg: XbarConfig): TileAreaReport {
  const arrays = arch.arraysPerIma * arch.imasPerTile;
  const adcs = adcsPerIma(arch, cfg);
  if (arch.tileArea.kind === 'published') return { items: [], area_mm2: arch.tileArea.area_mm2, arrays, adcsPerIma: adcs, note: arch.tileArea.note };
  const { rows, cols } = cfg.array;
  const pol = cfg.weights.mapping === 'differential' ? 2 : 1;
  const acc = arch.accumulator;
  const items: AreaItem[] = [
    { name: 'crossbar cells', count: arrays * rows * cols, area_mm2: arrays * rows * cols * arch.cellArea_mm2 },
    { name: `DACs (${cfg.inputs.dacBits} bit, one per row)`, count: arrays * rows, area_mm2: arrays * rows * arch.dac[cfg.inputs.dacBits].area_mm2 },
    { name: 'sample-and-holds (one per column)', count: arrays * cols, area_mm2: arrays * cols * arch.sampleHoldArea_mm2 },
    { name: `ADCs (${cfg.adc.bits} bit)`, count: arch.imasPerTile * adcs, area_mm2: arch.imasPerTile * adcs * arch.adcArea_mm2(cfg.adc.bits) },
    { name: 'IMA shift-and-adds and registers', count: arch.imasPerTile, area_mm2: arch.imasPerTile * arch.imaFixedArea_mm2 },
    { name: 'eDRAM, bus, router share, tile digital units', count: 1, area_mm2: arch.tileFixedArea_mm2 },
  ];
  if (acc) {
    const channels = arrays * Math.floor(cols / pol);
    items.push({ name: 'analog accumulation channels (one per column pair)', count: channels, area_mm2: channels * acc.channelArea_mm2 });
    const buffers = arrays * acc.bufferArraysPerArray;
    if (buffers > 0) items.push({ name: 'buffer RRAM arrays', count: buffers, area_mm2: buffers * (acc.bufferArrayCells ?? rows * cols) * arch.cellArea_mm2 });
    const amps = arrays * acc.summingAmplifiersPerArray;
    if (amps > 0) items.push({ name: 'summing amplifiers', count: amps, area_mm2: amps * acc.channelArea_mm2 });
  }
  return { items, area_mm2: items.reduce((a, i) => a + i.area_mm2, 0), arrays, adcsPerIma: adcs };
}
