/**
 * Cost tables of the architecture presets (DESIGN.md section 10): per-event energies, component
 * areas, the tile organisation and the timing constants of ISAAC, CASCADE and Neural-PIM at 32 nm.
 *
 * ISAAC's numbers are its Table I (isaac-table1.ts). `isaac` and `cascade` are the original designs
 * on ISAAC's components; `isaac-style`, `cascade-style` and `neural-pim` are the three designs of the
 * Neural-PIM paper's comparison (its own 8-bit re-implementations of ISAAC and CASCADE, §6.1, Table
 * 3), read from the papers' full texts (rhythmrx9/mtp @ 1b1bd945e38f39b2b0e352b811977d60e6bcef46,
 * papers/agents/fulltext/*.txt). Everything a design does not change
 * is ISAAC's (the Neural-PIM paper takes the baselines' components from ISAAC, §6.2). No constant
 * here was chosen to reproduce a published ratio.
 */
import type { Dataflow, XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { adcAreaFactor, adcEnergyFactor } from './adc-law.ts';
import { ISAAC_ADC_RATE_HZ, ISAAC_CYCLE_S, ISAAC_EVENT_J, ISAAC_IMA, ISAAC_ORG, ISAAC_REGISTER_EVENT_J, ISAAC_TILE, ISAAC_TILE_STATIC_W } from './isaac-table1.ts';

export const ARCHITECTURE_NAMES = ['isaac', 'cascade', 'neural-pim', 'isaac-style', 'cascade-style'] as const;
export type ArchitectureName = (typeof ARCHITECTURE_NAMES)[number];

/** An analog accumulator (CASCADE's TIA + buffer RRAM, Neural-PIM's NNS+A): per event and per channel. */
export interface AnalogAccumulatorCost {
  /**
   * Energy of one accumulator event. `per: 'slice'`: one section-5 `analogAccumulation` (one output
   * column, slice and input cycle). `per: 'output'`: one output and input cycle with all its slices
   * at once (Neural-PIM's NNS+A takes a whole weight vector's bit lines per operation), i.e. each
   * `analogAccumulation` costs energy_J / S.
   */
  energy_J: number;
  per: 'slice' | 'output';
  /** Area of one accumulation channel; channels per array = array.cols / pol (one per differential column pair). */
  channelArea_mm2: number;
  /** Extra RRAM arrays per MAC array that hold the accumulated values (CASCADE's buffer arrays). */
  bufferArraysPerArray: number;
  /** Cells of one buffer array; null: as many as a MAC array. */
  bufferArrayCells: number | null;
  /** Analog summing amplifiers per MAC array (CASCADE style: one per buffer array), each of a channel's area. */
  summingAmplifiersPerArray: number;
  /** Accumulators shared by one array and their operation rate (per output and input cycle); null: one per column pair, never a bottleneck. */
  rate: { perArray: number; ops_Hz: number } | null;
}

/** One DAC resolution's cost: one activation (one row, one input cycle) and one DAC's area. */
export interface DacCost {
  energy_J: number;
  area_mm2: number;
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
  /** ADCs per IMA (PE) as published; null: as many as the dataflow's conversion rate needs (area.ts). */
  adcsPerIma: number | null;
  /** True when conversions overlap the next vector's input cycles (ISAAC's pipeline); false when a pass waits for its own conversions (Neural-PIM's Fig. 8). */
  conversionOverlapped: boolean;
  /** Energy and area of one conversion / one ADC at `bits` resolution. */
  adcEnergy_J: (bits: number) => number;
  adcArea_mm2: (bits: number) => number;
  /** The DAC resolutions this table has a cited cost for (inputs.dacBits), and their costs. */
  dac: Readonly<Record<number, DacCost>>;
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
  /** Organisation: arrays per IMA (Neural-PIM: per PE) and IMAs per tile. */
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

const ISAAC_ARRAYS_PER_TILE = ISAAC_ORG.arraysPerIma * ISAAC_ORG.imasPerTile;

/** ISAAC's 1-bit DAC (Table I): 0.390625 pJ per row and cycle, 0.166 µm². */
const ISAAC_DAC1: DacCost = { energy_J: ISAAC_EVENT_J.dac, area_mm2: ISAAC_IMA.dac.area_mm2 / ISAAC_IMA.dac.count };

/** Everything ISAAC's Table I fixes and the other designs keep. */
const ISAAC_BASE = {
  cycle_s: ISAAC_CYCLE_S,
  adcRate_Hz: ISAAC_ADC_RATE_HZ,
  adcsPerIma: null,
  conversionOverlapped: true,
  /** SAR law of adc-law.ts anchored on Table I's 8-bit conversion (1.5625 pJ, 1.2 mm² / 1000 per ADC). */
  adcEnergy_J: (bits: number) => ISAAC_EVENT_J.adc8 * adcEnergyFactor(bits),
  adcArea_mm2: (bits: number) => SAR_ADC_AREA_8_MM2 * adcAreaFactor(bits),
  dac: { 1: ISAAC_DAC1 },
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
 * CASCADE (Chou et al., MICRO 2019), the original design's interface on ISAAC's components.
 * Published statement used: "CASCADE's TIA interface consumes 77.5× lower energy than the ADC
 * interface" (§4.3). Each analog accumulation (one column pair's current, per slice and input
 * cycle, into the buffer RRAM through a TIA) replaces the one conversion ISAAC spends on the same
 * column and cycle, so it costs ISAAC's 8-bit conversion / 77.5 = 1.5625 pJ / 77.5 = 0.0202 pJ (a
 * reinterpretation: the 77.5× compares whole interfaces in CASCADE's 16-bit, 64×64 setup, not one
 * TIA event with one conversion). Its area is not published: assumed to scale like its energy (ADC
 * area / 77.5 = 15.5 µm² per channel), as the SAR ADC's area and energy scale together in
 * adc-law.ts. One buffer RRAM array (ISAAC's array area) per MAC array is assumed. The remaining
 * ADCs are as many as the buffered dataflow's conversion rate needs (area.ts), the reduction
 * CASCADE reports ("from 256 per 16 cycles to 10 per 16 cycles", §3.4).
 */
const CASCADE_TIA_RATIO = 77.5;
const CASCADE: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'cascade',
  source: 'CASCADE, Chou et al., MICRO 2019: ISAAC components, TIA + buffer RRAM accumulation (77.5× less energy than an ADC interface)',
  dataflow: 'buffered',
  accumulator: {
    energy_J: ISAAC_EVENT_J.adc8 / CASCADE_TIA_RATIO,
    per: 'slice',
    channelArea_mm2: SAR_ADC_AREA_8_MM2 / CASCADE_TIA_RATIO,
    bufferArraysPerArray: 1,
    bufferArrayCells: null,
    summingAmplifiersPerArray: 0,
    rate: null,
  },
  tileArea: { kind: 'components' },
};

/**
 * The Neural-PIM paper's PE of 64 arrays (Cao et al., IEEE TC 71(9) 2022 = arXiv 2201.12861v1,
 * Table 3 "Comparisons of the three architectures at the PE level": "64 ADCs per 64 arrays", "3
 * ADCs per 64 arrays", "4 NNADCs per 64 arrays"). One tile holds one such PE: Table 3's densities
 * (computing-array area / PE area, 0.68 %, 0.76 %, 0.71 %) give 64 arrays of ISAAC's 2.5e-5 mm² in
 * 0.235, 0.211 and 0.225 mm², and Neural-PIM's 280 tiles of Table 2 take 63.5 mm², 0.227 mm² per
 * tile, so a tile is one PE's area, not four (Table 2's heading says "4 PEs per tile", which its
 * own totals contradict). Text read from the full text at rhythmrx9/mtp @
 * 1b1bd945e38f39b2b0e352b811977d60e6bcef46, papers/agents/fulltext/2021_Cao_NeuralPIM_TC.txt.
 */
const PAPER_PE_ARRAYS = 64;
/** ISAAC's tile-level area (eDRAM, bus, router share, digital units) scaled to a 64-array tile, as §6.2 scales components "according to the size": 0.2149 · 64/96 = 0.1433 mm². */
const PAPER_TILE_FIXED_MM2 = (ISAAC_TILE_FIXED_MM2 * PAPER_PE_ARRAYS) / ISAAC_ARRAYS_PER_TILE;

/**
 * ISAAC style (Neural-PIM paper §6.1, §6.2, Table 3): ISAAC's components "scaled according to
 * the size and resolution", 1-bit cells, differential weights with analog subtraction (§5.2.1),
 * 1-bit DACs, 7-bit ADCs, "64 ADCs per 64 arrays": ISAAC's IMA of 8 arrays and 8 ADCs, 8 IMAs per
 * 64-array tile. Derived: the 7-bit conversion is Table I's 8-bit one scaled by adc-law.ts
 * (1.5625 · 0.851 = 1.330 pJ, 1200 · 0.704 = 845 µm²) at ISAAC's 1.28 GS/s (no rate is published;
 * an ADC then needs 0.64 GS/s for its array's 64 differences per 100 ns, so it never stalls). The
 * analog subtraction unit has no published cost and is not charged.
 */
const ISAAC_STYLE: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'isaac-style',
  source: 'ISAAC style of Neural-PIM (IEEE TC 2022) §6.1/Table 3: ISAAC Table I components, 1-bit cells, 7-bit ADCs, one ADC per array, 64-array tiles',
  dataflow: 'digital-sa',
  adcsPerIma: ISAAC_ORG.arraysPerIma,
  accumulator: null,
  imasPerTile: PAPER_PE_ARRAYS / ISAAC_ORG.arraysPerIma,
  tileFixedArea_mm2: PAPER_TILE_FIXED_MM2,
  tileArea: { kind: 'components' },
};

/**
 * CASCADE style (Neural-PIM paper §6.1, §7.2, Table 3): "3 shared ADCs for all computing arrays in
 * one PE", 10-bit, "4 buffer arrays for each computing array and … an analog summing-amplifier per
 * buffer array"; 1-bit cells in the computing arrays, 6-bit cells in the buffers (§5.3.2), 1-bit
 * DACs. Derived, as nothing else is published:
 * - PE = IMA of 64 arrays sharing 3 ADCs, one PE per tile; the IMA's S+A units and registers are
 *   ISAAC's per 8 arrays, times 8.
 * - 10-bit conversion: Table I's ADC scaled by adc-law.ts (1.5625 · 1.427 = 2.230 pJ, 3002 µm²)
 *   at ISAAC's 1.28 GS/s (no rate published).
 * - TIA per column pair and event: CASCADE's "77.5× lower energy than the ADC interface" (MICRO
 *   2019 §4.3) against the ADC-based interface of CASCADE's own comparison, 6-bit ADCs (its Table 2):
 *   1.5625 pJ · 0.719 / 77.5 = 0.0145 pJ; area the 6-bit ADC's / 77.5 = 8.1 µm², scaled like energy.
 * - Buffer array: CASCADE's 15×30 6-bit buffer RRAM (MICRO 2019 §3.2) at ISAAC's cell area.
 * - Summing amplifier: unpublished, costed as one TIA channel's area (its energy is inside the 77.5×).
 * The buffer writes are inside the 77.5× interface figure and are not charged again.
 */
const CASCADE_STYLE_ADC_BASELINE_BITS = 6;
const CASCADE_STYLE: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'cascade-style',
  source: 'CASCADE style of Neural-PIM (IEEE TC 2022) §7.2/Table 3: ISAAC Table I components, 1-bit cells, 3 10-bit ADCs per 64 arrays, 4 buffer arrays + summing amplifiers per array',
  dataflow: 'buffered',
  adcsPerIma: 3,
  accumulator: {
    energy_J: ISAAC_BASE.adcEnergy_J(CASCADE_STYLE_ADC_BASELINE_BITS) / CASCADE_TIA_RATIO,
    per: 'slice',
    channelArea_mm2: ISAAC_BASE.adcArea_mm2(CASCADE_STYLE_ADC_BASELINE_BITS) / CASCADE_TIA_RATIO,
    bufferArraysPerArray: 4,
    bufferArrayCells: 15 * 30,
    summingAmplifiersPerArray: 4,
    rate: null,
  },
  arraysPerIma: PAPER_PE_ARRAYS,
  imasPerTile: 1,
  imaFixedArea_mm2: (ISAAC_IMA_FIXED_MM2 * PAPER_PE_ARRAYS) / ISAAC_ORG.arraysPerIma,
  tileFixedArea_mm2: PAPER_TILE_FIXED_MM2,
  tileArea: { kind: 'components' },
};

/**
 * Neural-PIM as the paper evaluates it (IEEE TC 2022 §7.1, §7.2, Table 2 "Neural-PIM parameters at
 * the tile level", Table 3): PEs of 64 128×128 arrays with 4-bit DACs, "4 shared NNADCs at the PE
 * level" (8-bit, 1.2 GS/s) and "one NNS+A for each crossbar array" (80 MHz), 280 tiles at equal
 * area. Table 2 is read from a PDF-to-text extraction whose table cells come out scrambled; the
 * power values below are a reconstruction of which row each belongs to (the extraction order), not
 * a clean reading. Derived per-event energies (power × period / events):
 * - NNADC: 6.0 mW / (4 × 1.2 GS/s) = 1.25 pJ per 8-bit conversion. Cross-check: Table 1's 130 nm
 *   NNADC (13.1 mW at 1 GS/s = 13.1 pJ) against its NNS+A (1.39 mW at 40 MHz = 34.8 pJ) has the
 *   same ratio within 20 % as the two derived here. Other resolutions: the SAR law of adc-law.ts
 *   (an assumption; only 8 bits is published).
 * - NNS+A: 19 mW / (64 × 80 MHz) = 3.71 pJ per operation, one output's whole weight vector (8
 *   differential bit-line pairs and the held partial sum) per input cycle; 80 MHz × 100 ns = 8
 *   operations per input cycle per array (the rate the schedule enforces).
 * - 4-bit DAC: 0.1 W × 100 ns / (128 × 64) = 1.22 pJ per row and input cycle. Its area is inside
 *   the published tile area. The 1-bit DAC stays ISAAC's for configs that set inputs.dacBits 1.
 * - Crossbar: NOT Table 2's. The six component powers as reconstructed sum to 0.261 W against the
 *   table's 0.18 W for the PE, so one reading is wrong. Replacing the crossbar's 9.6e-2 W (150 pJ
 *   per array and 4-bit cycle, 5× ISAAC's per 1-bit cycle, although 4-bit codes have a lower mean
 *   V² than 1-bit ones) by ISAAC's 0.3 mW per array (19.2 mW for 64) gives 0.184 W; reading the
 *   DAC as 1.0e-2 W instead would give 0.171 W, but would make a 4-bit DAC (0.12 pJ) cheaper than
 *   ISAAC's 1-bit one (0.39 pJ). The crossbar reading is judged the uncertain one and ISAAC's
 *   per-cell read energy is kept; the DAC as read.
 * - Input register (Table 2: 4.0e-2 W for 64 × 128 rows × 4 bits per 100 ns = 0.122 pJ per bit)
 *   equals ISAAC's 0.121 pJ per bit, which is kept; S+H, S+A, eDRAM, bus, router are ISAAC's.
 * Area: published whole. 280 tiles = 63.5 mm² (Table 2) → 0.2268 mm² per tile of one 64-array PE
 * (see PAPER_PE_ARRAYS); Table 2's PE area, 0.084 mm², plus ISAAC's tile overhead scaled to 64
 * arrays, 0.143 mm², gives 0.227 mm², the same.
 * Timing: "Each pipeline cycle takes up 9 input cycles" (§5.2.4, Fig. 8: input cycles 1–8, then
 * the conversion): a pass waits for its conversions (conversionOverlapped false).
 * The 130→32 nm scaling of §6.2 is already in Table 2 and is not applied again.
 */
const NEURAL_PIM_TILES = 280;
const NEURAL_PIM_TILES_MM2 = 63.5;
const NEURAL_PIM_NNADCS_PER_PE = 4;
const NEURAL_PIM_NNADC_RATE_HZ = 1.2e9;
const NEURAL_PIM_NNADC_W = 6.0e-3;
const NEURAL_PIM_NNSA_W = 1.9e-2;
const NEURAL_PIM_NNSA_HZ = 80e6;
const NEURAL_PIM_DAC4_W = 1.0e-1;
const NEURAL_PIM_NNADC8_J = NEURAL_PIM_NNADC_W / (NEURAL_PIM_NNADCS_PER_PE * NEURAL_PIM_NNADC_RATE_HZ);
const ISAAC_TILE_AREA_MM2 =
  ISAAC_ORG.imasPerTile * (ISAAC_IMA.adc.area_mm2 + ISAAC_IMA.dac.area_mm2 + ISAAC_IMA.sampleHold.area_mm2 + ISAAC_IMA.crossbar.area_mm2 + ISAAC_IMA_FIXED_MM2) +
  ISAAC_TILE_FIXED_MM2;
const NEURAL_PIM: ArchitectureCost = {
  ...ISAAC_BASE,
  name: 'neural-pim',
  source: 'Neural-PIM, Cao et al., IEEE TC 2022, Tables 2 and 3: 64-array PEs, 4 NNADCs (1.25 pJ), one NNS+A per array (3.71 pJ), 4-bit DACs (1.22 pJ), 280 tiles in 63.5 mm²',
  dataflow: 'analog-sa',
  adcRate_Hz: NEURAL_PIM_NNADC_RATE_HZ,
  adcsPerIma: NEURAL_PIM_NNADCS_PER_PE,
  conversionOverlapped: false,
  adcEnergy_J: (bits: number) => NEURAL_PIM_NNADC8_J * adcEnergyFactor(bits),
  dac: { 1: ISAAC_DAC1, 4: { energy_J: (NEURAL_PIM_DAC4_W * ISAAC_CYCLE_S) / (128 * PAPER_PE_ARRAYS), area_mm2: 0 } },
  accumulator: {
    energy_J: NEURAL_PIM_NNSA_W / (PAPER_PE_ARRAYS * NEURAL_PIM_NNSA_HZ),
    per: 'output',
    // Inside the published tile area; not summed separately.
    channelArea_mm2: 0,
    bufferArraysPerArray: 0,
    bufferArrayCells: null,
    summingAmplifiersPerArray: 0,
    rate: { perArray: 1, ops_Hz: NEURAL_PIM_NNSA_HZ },
  },
  arraysPerIma: PAPER_PE_ARRAYS,
  imasPerTile: 1,
  tileArea: {
    kind: 'published',
    area_mm2: NEURAL_PIM_TILES_MM2 / NEURAL_PIM_TILES,
    note: '280 tiles of one 64-array PE in 63.5 mm² (Neural-PIM, IEEE TC 2022, Tables 2 and 3); contents not published',
  },
};

export const ARCHITECTURES: Readonly<Record<ArchitectureName, ArchitectureCost>> = {
  isaac: ISAAC,
  cascade: CASCADE,
  'neural-pim': NEURAL_PIM,
  'isaac-style': ISAAC_STYLE,
  'cascade-style': CASCADE_STYLE,
};

/** ISAAC's tile area from Table I (0.3723 mm²) and its chip's tile area (168 tiles, 62.5 mm²): the unit of equal-area budgets. */
export const ISAAC_TILE_MM2 = ISAAC_TILE_AREA_MM2;
export const ISAAC_CHIP_TILES_MM2 = ISAAC_ORG.tilesPerChip * ISAAC_TILE_AREA_MM2;

const BY_DATAFLOW: Readonly<Record<Dataflow, ArchitectureName>> = { 'digital-sa': 'isaac', buffered: 'cascade', 'analog-sa': 'neural-pim' };

const isArchitectureName = (name: string | undefined): name is ArchitectureName => name !== undefined && (ARCHITECTURE_NAMES as readonly string[]).includes(name);

/**
 * The cost table of a config: the table of its preset when the preset names one and the config
 * keeps that preset's dataflow, else the original design of its dataflow (where shift-and-add
 * happens is what the designs differ in), so a config built on any preset is costed by the design
 * it describes. Configs the tables cannot cost are refused with a UsageError naming the field.
 */
export function architectureFor(cfg: XbarConfig, where = 'config'): ArchitectureCost {
  const own = isArchitectureName(cfg.preset) ? ARCHITECTURES[cfg.preset] : undefined;
  const arch = own && own.dataflow === cfg.dataflow ? own : ARCHITECTURES[BY_DATAFLOW[cfg.dataflow]];
  if (cfg.adc.bits === 0) {
    throw new UsageError(`${where}: adc.bits 0 is an ideal converter with no physical cost (preset ${cfg.preset ?? 'custom'}); the cost model needs adc.bits 2–16`);
  }
  if (!(cfg.inputs.dacBits in arch.dac)) {
    const have = Object.keys(arch.dac).join(' or ');
    throw new UsageError(`${where}: inputs.dacBits ${cfg.inputs.dacBits} has no cited DAC energy or area in the ${arch.name} table (it has ${have}-bit DACs); use inputs.dacBits ${have}`);
  }
  return arch;
}
