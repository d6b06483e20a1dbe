/**
 * Cost tables of the architecture presets (DESIGN.md section 10): per-event energies, component
 * areas, the tile organisation and the timing constants of ISAAC, CASCADE and Neural-PIM at 32 nm.
 *
 * ISAAC's numbers are its Table I (isaac-table1.ts). CASCADE's and Neural-PIM's papers were not
 * readable here; what they change is derived from the statements the issue quotes from them, and
 * everything they do not change is ISAAC's (the Neural-PIM paper compares against ISAAC and CASCADE
 * on ISAAC's 32 nm components). No constant here was chosen to reproduce a published ratio.
 */
import type { Dataflow, XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { adcAreaFactor, adcEnergyFactor } from './adc-law.ts';
import { ISAAC_ADC_RATE_HZ, ISAAC_CYCLE_S, ISAAC_EVENT_J, ISAAC_IMA, ISAAC_ORG, ISAAC_REGISTER_EVENT_J, ISAAC_TILE, ISAAC_TILE_STATIC_W } from './isaac-table1.ts';

export const ARCHITECTURE_NAMES = ['isaac', 'cascade', 'neural-pim'] as const;
export type ArchitectureName = (typeof ARCHITECTURE_NAMES)[number];

/** An analog accumulator (CASCADE's TIA + buffer RRAM, Neural-PIM's NNS+A): per event and per channel. */
export interface AnalogAccumulatorCost {
  /** Energy of one section-5 `analogAccumulation` (one output column, slice and input cycle). */
  energy_J: number;
  /** Area of one accumulation channel; channels per array = array.cols / pol (one per differential column pair). */
  channelArea_mm2: number;
  /** Extra RRAM arrays per MAC array that hold the accumulated values (CASCADE's buffer arrays). */
  bufferArraysPerArray: number;
}

/** How a preset's tile area is obtained. */
export type TileArea =
  /** Summed from ISAAC's components, with this preset's converters and accumulators. */
  | { kind: 'components' }
  /** A published tile count at a published area (the components inside are not published). */
  | { kind: 'published'; area_mm2: number; note: string };

/** One architecture's cost table. */
export interface ArchitectureCost {
  name: ArchitectureName;
  /** The design and what it changes relative to ISAAC. */
  source: string;
  /** The dataflow this architecture is (DESIGN.md section 3). */
  dataflow: Dataflow;
  /** Crossbar read cycle (s): one DAC step per cycle. */
  cycle_s: number;
  /** ADC sample rate (conversions per second per ADC). */
  adcRate_Hz: number;
  /** Energy and area of one conversion / one ADC at `bits` resolution. */
  adcEnergy_J: (bits: number) => number;
  adcArea_mm2: (bits: number) => number;
  /** One 1-bit DAC activation (one row, one cycle) and one DAC's area. */
  dac_J: number;
  dacArea_mm2: number;
  /** One cell read (one cell, one cycle) and one cell's area. */
  cell_J: number;
  cellArea_mm2: number;
  /** One sample-and-hold's area (one per column). */
  sampleHoldArea_mm2: number;
  /** null: the dataflow accumulates nothing in analog. */
  accumulator: AnalogAccumulatorCost | null;
  /** One digital shift-and-add. */
  shiftAdd_J: number;
  /** Register and sample-and-hold energies: one input-register bit read, one output-register update per shift-and-add, one sample per conversion. */
  inputRegisterBit_J: number;
  outputRegisterPerShiftAdd_J: number;
  sampleHoldPerConversion_J: number;
  /** The tile's digital units per row-block output (partial-sum addition, activation, pooling, output register). */
  tileDigitalPerBlockOutput_J: number;
  /** Per bit read or written in the tile eDRAM, per bit over the eDRAM–IMA bus, per bit through a router. */
  edramBit_J: number;
  busBit_J: number;
  routerBit_J: number;
  /** Organisation: arrays per IMA and IMAs per tile. */
  arraysPerIma: number;
  imasPerTile: number;
  /** Static (leakage) power per allocated tile (W); 0 in every table (isaac-table1.ts says why). */
  tileStatic_W: number;
  tileArea: TileArea;
  /** Area per IMA of what is neither array, DAC, S+H, ADC nor accumulator: S+A units and registers. */
  imaFixedArea_mm2: number;
  /** Area per tile outside its IMAs: eDRAM, bus, router share, digital units, output register. */
  tileFixedArea_mm2: number;
}

const SAR_ADC_AREA_8_MM2 = ISAAC_IMA.adc.area_mm2 / ISAAC_IMA.adc.count;

/** Area of ISAAC's IMA outside arrays, DACs, S+Hs and ADCs (Table I): 4 S+A units, input and output registers. */
const ISAAC_IMA_FIXED_MM2 = ISAAC_IMA.shiftAdd.area_mm2 + ISAAC_IMA.inputRegister.area_mm2 + ISAAC_IMA.outputRegister.area_mm2;

/** Area of ISAAC's tile outside its IMAs (Table I): eDRAM, bus, a quarter router, sigmoid, S+A, max-pool, output register. */
const ISAAC_TILE_FIXED_MM2 =
  ISAAC_TILE.edram.area_mm2 +
  ISAAC_TILE.bus.area_mm2 +
  ISAAC_TILE.router.area_mm2 / ISAAC_ORG.tilesPerRouter +
  ISAAC_TILE.sigmoid.area_mm2 +
  ISAAC_TILE.shiftAdd.area_mm2 +
  ISAAC_TILE.maxPool.area_mm2 +
  ISAAC_TILE.outputRegister.area_mm2;

/** Everything ISAAC's Table I fixes and the other two designs keep. */
const ISAAC_BASE = {
  cycle_s: ISAAC_CYCLE_S,
  adcRate_Hz: ISAAC_ADC_RATE_HZ,
  /** SAR law of adc-law.ts anchored on Table I's 8-bit conversion (1.5625 pJ, 1.2 mm² / 1000 per ADC). */
  adcEnergy_J: (bits: number) => ISAAC_EVENT_J.adc8 * adcEnergyFactor(bits),
  adcArea_mm2: (bits: number) => SAR_ADC_AREA_8_MM2 * adcAreaFactor(bits),
  dac_J: ISAAC_EVENT_J.dac,
  dacArea_mm2: ISAAC_IMA.dac.area_mm2 / ISAAC_IMA.dac.count,
  cell_J: ISAAC_EVENT_J.cell,
  cellArea_mm2: ISAAC_IMA.crossbar.area_mm2 / (ISAAC_IMA.crossbar.count * 128 * 128),
  sampleHoldArea_mm2: ISAAC_IMA.sampleHold.area_mm2 / ISAAC_IMA.sampleHold.count,
  shiftAdd_J: ISAAC_EVENT_J.shiftAdd,
  inputRegisterBit_J: ISAAC_REGISTER_EVENT_J.inputRegisterBit,
  outputRegisterPerShiftAdd_J: ISAAC_REGISTER_EVENT_J.outputRegisterPerShiftAdd,
  sampleHoldPerConversion_J: ISAAC_REGISTER_EVENT_J.sampleHoldPerConversion,
  tileDigitalPerBlockOutput_J: ISAAC_REGISTER_EVENT_J.tileDigitalPerBlockOutput,
  edramBit_J: ISAAC_EVENT_J.edramBit,
  busBit_J: ISAAC_EVENT_J.busBit,
  routerBit_J: ISAAC_EVENT_J.routerBit,
  arraysPerIma: ISAAC_ORG.arraysPerIma,
  imasPerTile: ISAAC_ORG.imasPerTile,
  tileStatic_W: ISAAC_TILE_STATIC_W,
  imaFixedArea_mm2: ISAAC_IMA_FIXED_MM2,
  tileFixedArea_mm2: ISAAC_TILE_FIXED_MM2,
} as const;

/** ISAAC (ISCA 2016): Table I as it stands. */
const ISAAC: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'isaac',
  source: 'ISAAC, Shafiee et al., ISCA 2016, Table I (32 nm)',
  dataflow: 'digital-sa',
  accumulator: null,
  tileArea: { kind: 'components' },
};

/**
 * CASCADE (Chou et al., MICRO 2019). Published statement used: "the TIA interface uses 77.5× less
 * energy than an ADC interface". Each analog accumulation (one column pair's current, per slice and
 * input cycle, into the buffer RRAM through a TIA) replaces the one conversion ISAAC spends on the
 * same column and cycle, so it costs ISAAC's 8-bit conversion / 77.5 = 1.5625 pJ / 77.5 = 0.0202 pJ.
 * Its area is not published: assumed to scale like its energy (ADC area / 77.5 = 15.5 µm² per
 * channel), as the SAR ADC's area and energy scale together in adc-law.ts. One buffer RRAM array
 * (ISAAC's array area) per MAC array is assumed. The remaining ADCs are as many as the buffered
 * dataflow's conversion rate needs (area.ts), the reduction CASCADE reports ("conversions drop from
 * 256 to 10 per 16 cycles"; xbarsim's counts give S per output and row block, DESIGN.md section 5).
 */
const CASCADE_TIA_RATIO = 77.5;
const CASCADE: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'cascade',
  source: 'CASCADE, Chou et al., MICRO 2019: ISAAC components, TIA + buffer RRAM accumulation (77.5× less energy than an ADC interface)',
  dataflow: 'buffered',
  accumulator: {
    energy_J: ISAAC_EVENT_J.adc8 / CASCADE_TIA_RATIO,
    channelArea_mm2: SAR_ADC_AREA_8_MM2 / CASCADE_TIA_RATIO,
    bufferArraysPerArray: 1,
  },
  tileArea: { kind: 'components' },
};

/**
 * Neural-PIM (Cao et al., IEEE TC 71(9), 2022). Published statements used:
 * - "its analog shift-and-add uses about 33× less energy than ISAAC's ADCs": each analog
 *   accumulation (one column pair, slice and input cycle into the NNS+A) replaces the one conversion
 *   ISAAC spends on the same column and cycle, so it costs 1.5625 pJ / 33 = 0.0473 pJ. The
 *   statement is taken as already at 32 nm (its peripherals were simulated at 130 nm and scaled to
 *   32 nm before the comparison; a further 130→32 nm factor, e.g. energy × 0.215 and area × 0.072
 *   by Stillmaker & Baas 2017 as in hwcomponents/scaling/techscaling.py, is therefore not applied).
 * - "280 tiles at equal area with ISAAC": ISAAC's 168 tiles of 0.3723 mm² (62.5 mm²) hold 280
 *   Neural-PIM tiles, so one tile is 168 · 0.3723 / 280 = 0.2234 mm². Its contents are not published;
 *   the tile is assumed to keep ISAAC's 12 IMAs of 8 arrays and its eDRAM, bus and router (for
 *   energy and static power). An ISAAC tile without any ADC is already 0.2571 mm², so the published
 *   count implies savings that are not published; the published area is used as is.
 * - The NNADC's energy per conversion is not published: ISAAC's SAR ADC at the same resolution
 *   is used (one conversion per row block and output, so it is a small share either way).
 */
const NEURAL_PIM_SA_RATIO = 33;
const NEURAL_PIM_TILES_AT_ISAAC_AREA = 280;
const ISAAC_TILE_AREA_MM2 =
  ISAAC_ORG.imasPerTile * (ISAAC_IMA.adc.area_mm2 + ISAAC_IMA.dac.area_mm2 + ISAAC_IMA.sampleHold.area_mm2 + ISAAC_IMA.crossbar.area_mm2 + ISAAC_IMA_FIXED_MM2) +
  ISAAC_TILE_FIXED_MM2;
const NEURAL_PIM: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'neural-pim',
  source: 'Neural-PIM, Cao et al., IEEE TC 2022: ISAAC components, NNS+A (33× less energy than ISAAC ADCs), 280 tiles in ISAAC\'s 168-tile area',
  dataflow: 'analog-sa',
  accumulator: {
    energy_J: ISAAC_EVENT_J.adc8 / NEURAL_PIM_SA_RATIO,
    // Inside the published tile area; not summed separately.
    channelArea_mm2: 0,
    bufferArraysPerArray: 0,
  },
  tileArea: {
    kind: 'published',
    area_mm2: (ISAAC_ORG.tilesPerChip * ISAAC_TILE_AREA_MM2) / NEURAL_PIM_TILES_AT_ISAAC_AREA,
    note: '280 tiles in the area of ISAAC\'s 168 (Neural-PIM, IEEE TC 2022); contents not published',
  },
};

export const ARCHITECTURES: Readonly<Record<ArchitectureName, ArchitectureCost>> = { isaac: ISAAC, cascade: CASCADE, 'neural-pim': NEURAL_PIM };

/** ISAAC's tile area from Table I (0.3723 mm²) and its chip's tile area (168 tiles, 62.5 mm²): the unit of equal-area budgets. */
export const ISAAC_TILE_MM2 = ISAAC_TILE_AREA_MM2;
export const ISAAC_CHIP_TILES_MM2 = ISAAC_ORG.tilesPerChip * ISAAC_TILE_AREA_MM2;

const BY_DATAFLOW: Readonly<Record<Dataflow, ArchitectureName>> = { 'digital-sa': 'isaac', buffered: 'cascade', 'analog-sa': 'neural-pim' };

/**
 * The cost table of a config: chosen by its dataflow (where shift-and-add happens is what the three
 * designs differ in), so a config built on any preset is costed by the design it describes.
 * Configs the tables cannot cost are refused with a UsageError naming the field.
 */
export function architectureFor(cfg: XbarConfig, where = 'config'): ArchitectureCost {
  const arch = ARCHITECTURES[BY_DATAFLOW[cfg.dataflow]];
  if (cfg.adc.bits === 0) {
    throw new UsageError(`${where}: adc.bits 0 is an ideal converter with no physical cost (preset ${cfg.preset ?? 'custom'}); the cost model needs adc.bits 2–16`);
  }
  if (cfg.inputs.dacBits !== 1) {
    throw new UsageError(
      `${where}: inputs.dacBits ${cfg.inputs.dacBits} has no cited DAC energy or area (the tables have ISAAC's 1-bit DACs only; PRIME's 3-bit drivers are not costed); use inputs.dacBits 1`,
    );
  }
  return arch;
}
