/**
 * ISAAC's component table (A. Shafiee et al., "ISAAC: A Convolutional Neural Network Accelerator with
 * In-Situ Analog Arithmetic in Crossbars", ISCA 2016, Table I, 32 nm), the base every preset's costs
 * are built from. Powers in W, areas in mm², as the table lists them for the listed number of units.
 *
 * The paper's PDF was not readable here; each row below is the value the issue (#13) quotes, each
 * cross-checked against code that quotes the same table (file paths in the comments), and the rows
 * sum to the table's tile total (0.3723 mm², 329.8 mW) and chip total (85.4 mm², 65.8 W with
 * HyperTransport), which test/cpu/energy-tables.test.ts re-adds.
 */

/** Units per IMA and per tile (Table I; Accelergy/CiMLoop model the same organisation). */
export const ISAAC_ORG = {
  /** Crossbars per IMA ("8 crossbars", CiMLoop workspace/models/arch/1_macro/isaac_isca_2016). */
  arraysPerIma: 8,
  /** IMAs per tile (CiMLoop arch/2_tile/isaac.yaml: macro_in_tile meshX = 12). */
  imasPerTile: 12,
  /** Tiles sharing one router (accelergy-library-plug-in library/isaac/isaac_router.csv: "ISAAC shares each of these between 4 tiles"). */
  tilesPerRouter: 4,
  /** Tiles per chip (Table I; 168 × 0.3723 mm² = 62.5 mm² of tiles). */
  tilesPerChip: 168,
} as const;

/** One Table I row: power and area of `count` units together. */
export interface Table1Row {
  count: number;
  power_W: number;
  area_mm2: number;
}

/** Table I, IMA level (per IMA). */
export const ISAAC_IMA = {
  /** 8-bit ADC, 1.28 GS/s, one per crossbar. Corroborated by accelergy-library-plug-in library/isaac/isaac_adc.csv ("16*10^-3 W", "Area: 9600um^2 / 8"). */
  adc: { count: 8, power_W: 16e-3, area_mm2: 0.0096 },
  /** 1-bit DACs, one per crossbar row. isaac_dac.csv ("4*10^-3 W", "Area: 170um^2 / 128 / 8"). */
  dac: { count: 8 * 128, power_W: 4e-3, area_mm2: 0.00017 },
  /** Sample-and-hold, one per column. puma-simulator include/constants.py (snh_area = 0.00004/8/128, 9.7e-6 mW each). */
  sampleHold: { count: 8 * 128, power_W: 10e-6, area_mm2: 0.00004 },
  /** 128×128 memristor crossbars, 2-bit cells, 100 ns read. accelergy-library-plug-in library/isaac/isaac.cell ("2.4mW reported in ISAAC"); puma-simulator xbar_area 2.5e-5 mm² each. */
  crossbar: { count: 8, power_W: 2.4e-3, area_mm2: 0.0002 },
  /** Shift-and-add units. isaac_shift_add.csv (".2e-3 W", 60 µm², "There are 4 of these in an ISAAC IMA"). */
  shiftAdd: { count: 4, power_W: 0.2e-3, area_mm2: 0.00024 },
  /** Input register, 2 KB (CiMLoop isaac_isca_2016 guide: 1024 inputs × 2 B). */
  inputRegister: { count: 1, power_W: 1.24e-3, area_mm2: 0.0021 },
  /** Output register, 256 B (128 outputs × 2 B). */
  outputRegister: { count: 1, power_W: 0.23e-3, area_mm2: 0.00077 },
} as const satisfies Record<string, Table1Row>;

/** Table I, tile level (per tile; the router row is one router, shared by ISAAC_ORG.tilesPerRouter tiles). */
export const ISAAC_TILE = {
  /** 64 KB eDRAM buffer. isaac_eDRAM.csv ("(20.7e-3 / 12 W/IMA)", 83000 µm²). */
  edram: { count: 1, power_W: 20.7e-3, area_mm2: 0.083 },
  /** eDRAM–IMA bus, 384 wires. isaac_eDRAM_bus.csv ("(7e-3 / 12 W/IMA)", 7500 µm² per IMA); puma-simulator edram_bus_area = 0.090. */
  bus: { count: 1, power_W: 7e-3, area_mm2: 0.09 },
  /** Router (flit 32, 8 ports), one per 4 tiles. isaac_router.csv ("(42e-3 / 4 / 12)", 150000 µm²). */
  router: { count: 1, power_W: 42e-3, area_mm2: 0.151 },
  /** Sigmoid units. puma-simulator act_pow 0.26 mW, act_area 0.0003 each ("Taken from ISAAC paper"). */
  sigmoid: { count: 2, power_W: 0.52e-3, area_mm2: 0.0006 },
  /** Tile shift-and-add. puma-simulator sna_pow 0.05 mW, sna_area 0.00006. */
  shiftAdd: { count: 1, power_W: 0.05e-3, area_mm2: 0.00006 },
  /** Max-pool unit. */
  maxPool: { count: 1, power_W: 0.4e-3, area_mm2: 0.00024 },
  /** Tile output register, 3 KB. */
  outputRegister: { count: 1, power_W: 1.68e-3, area_mm2: 0.0032 },
} as const satisfies Record<string, Table1Row>;

/** Chip-to-chip HyperTransport (4 links): in the chip total, outside the equal-area budget (one network, one chip's tiles). */
export const ISAAC_HYPERTRANSPORT: Table1Row = { count: 4, power_W: 10.4, area_mm2: 22.88 };

/**
 * ADC sample rate: 1.28 GS/s (Table I as the issue quotes it, and MNSIM_Python
 * MNSIM/Hardware_Model/ADC.py choice 2 "reference: ISAAC": 2 mW, 1200 µm², 1.28 GS/s), i.e. one
 * crossbar's 128 columns in one 100 ns cycle. Accelergy's library derives its per-action energies
 * at 1.2 GS/s (Kull's ADC) instead; see ISAAC_EVENT_PERIOD_S.
 */
export const ISAAC_ADC_RATE_HZ = 1.28e9;

/** Crossbar read cycle: one input bit per 100 ns (accelergy-library-plug-in library/isaac/isaac.cell: "(1ns ON / 100ns cycle)"; CiMLoop ADC throughput_scale 1/100). */
export const ISAAC_CYCLE_S = 100e-9;

/**
 * Time for the IMA to consume its whole 2 KB input register (16384 bits), Accelergy's event period
 * for the eDRAM, bus and router energies (isaac_eDRAM.csv: 16384 / ((128·8·10^7·1.2)·100/128)), here
 * with ISAAC's 1.28 GS/s instead of 1.2: 16384 / (128·8·10^7·1.28·100/128) = 1.6 µs, which is
 * exactly ISAAC's 16 input cycles of 100 ns.
 */
export const ISAAC_EVENT_PERIOD_S = 16384 / (128 * 8 * 1e7 * 1.28 * (100 / 128));

/** Bits that pass through one IMA's registers per event period: its input register filled (16384) and its output register drained (2048). */
const IMA_BITS_PER_PERIOD = 16384 + 2048;

/**
 * Per-event energies derived from Table I the way accelergy-library-plug-in library/isaac/*.csv
 * derives them (power × event period / events in that period), at the 1.28 GS/s of Table I so
 * that energy per event × event rate returns Table I's power. At 1.2 GS/s Accelergy gets 1.667 pJ
 * per conversion, 0.41667 pJ per DAC drive, 20.45 pJ per 256-bit eDRAM access, 0.054 pJ per bus
 * bit, 20.74 pJ per 256 router bits and 0.021 pJ per shift-and-add: all 1.28/1.2 = 1.067× these.
 */
export const ISAAC_EVENT_J = {
  /** 8-bit conversion: 16 mW / (8 ADCs · 1.28 GS/s) = 1.5625 pJ. */
  adc8: ISAAC_IMA.adc.power_W / (ISAAC_IMA.adc.count * ISAAC_ADC_RATE_HZ),
  /** One 1-bit DAC driving one row for one 100 ns cycle: 4 mW / 1024 · 100 ns = 0.390625 pJ. */
  dac: (ISAAC_IMA.dac.power_W / ISAAC_IMA.dac.count) * ISAAC_CYCLE_S,
  /**
   * One cell read for one cycle: 2.4 mW / (8 · 128 · 128 cells) · 100 ns = 1.831 fJ (2-bit cells;
   * processing-in-memory-design PIM_estimation_tables/memristor_data/data/ReRAMcell_compute.csv lists
   * the same 1.83E-03 pJ; its 1-bit row, 3.45E-03 pJ, has no derivation and is not used: every
   * preset's cells are charged ISAAC's per-cell energy).
   */
  cell: (ISAAC_IMA.crossbar.power_W / (ISAAC_IMA.crossbar.count * 128 * 128)) * ISAAC_CYCLE_S,
  /** One 16-bit shift-and-add: 0.2 mW / (8 · 1.28 G results/s) = 0.0195 pJ (isaac_shift_add.csv form: one S+A per ADC output). */
  shiftAdd: ISAAC_IMA.shiftAdd.power_W / (ISAAC_IMA.adc.count * ISAAC_ADC_RATE_HZ),
  /** eDRAM, per bit read or written: (20.7 mW / 12) · 1.6 µs / ((16384 + 2048) · 2) = 0.0749 pJ (19.17 pJ per 256-bit access; isaac_eDRAM.csv). */
  edramBit: ((ISAAC_TILE.edram.power_W / ISAAC_ORG.imasPerTile) * ISAAC_EVENT_PERIOD_S) / (IMA_BITS_PER_PERIOD * 2),
  /** eDRAM–IMA bus, per bit: (7 mW / 12) · 1.6 µs / (16384 + 2048) = 0.0506 pJ (isaac_eDRAM_bus.csv, "bus BW = eDRAM BW"). */
  busBit: ((ISAAC_TILE.bus.power_W / ISAAC_ORG.imasPerTile) * ISAAC_EVENT_PERIOD_S) / IMA_BITS_PER_PERIOD,
  /** Router, per bit through it: (42 mW / 4 / 12) · 1.6 µs / (16384 + 2048) = 0.0760 pJ (isaac_router.csv, "router BW = eDRAM BW per tile"). */
  routerBit: ((ISAAC_TILE.router.power_W / ISAAC_ORG.tilesPerRouter / ISAAC_ORG.imasPerTile) * ISAAC_EVENT_PERIOD_S) / IMA_BITS_PER_PERIOD,
} as const;

/** Row-block outputs one tile produces per event period: 12 IMAs × 128 outputs (the 256 B output register of 16-bit values). */
const TILE_BLOCK_OUTPUTS_PER_PERIOD = ISAAC_ORG.imasPerTile * 128;

/**
 * Per-event energies of the Table I rows Accelergy's library leaves out, derived the same way
 * (Table I power × event period / events in the period, at full activity):
 * - input register: it holds 1024 inputs and gives one bit of each per 100 ns cycle to the IMA's
 *   1024 DACs: 1.24 mW · 100 ns / 1024 = 0.121 pJ per bit read;
 * - output register: it takes one shift-and-add result per conversion, 8 ADCs at 1.28 GS/s:
 *   0.23 mW / (8 · 1.28 G/s) = 0.0225 pJ per shift-and-add;
 * - sample-and-hold: one sample per conversion: 10 µW / (8 · 1.28 G/s) = 0.00098 pJ;
 * - the tile's digital units (output register 1.68 mW, sigmoid 0.52, max-pool 0.4, shift-and-add
 *   0.05): they take every row-block output of the tile's 12 IMAs, 1536 per 1.6 µs:
 *   2.65 mW · 1.6 µs / 1536 = 2.76 pJ per row-block output (its partial-sum addition, activation
 *   and pooling).
 */
export const ISAAC_REGISTER_EVENT_J = {
  inputRegisterBit: (ISAAC_IMA.inputRegister.power_W / ISAAC_IMA.dac.count) * ISAAC_CYCLE_S,
  outputRegisterPerShiftAdd: ISAAC_IMA.outputRegister.power_W / (ISAAC_IMA.adc.count * ISAAC_ADC_RATE_HZ),
  sampleHoldPerConversion: ISAAC_IMA.sampleHold.power_W / (ISAAC_IMA.adc.count * ISAAC_ADC_RATE_HZ),
  tileDigitalPerBlockOutput:
    ((ISAAC_TILE.outputRegister.power_W + ISAAC_TILE.sigmoid.power_W + ISAAC_TILE.maxPool.power_W + ISAAC_TILE.shiftAdd.power_W) * ISAAC_EVENT_PERIOD_S) / TILE_BLOCK_OUTPUTS_PER_PERIOD,
} as const;

/**
 * Static (leakage) power per tile: 0. Table I's powers are full-activity powers and every row is
 * charged per event above; no source separates a leakage share (Accelergy's ISAAC library sets
 * `leak` to 0 for every component), so none is invented. The model keeps the term
 * (static power × initiation interval) for tables that have one.
 */
export const ISAAC_TILE_STATIC_W = 0;

/** Width of a row-block partial sum moved to the tile's adder: ISAAC's 16-bit shift-and-add datapath (isaac_shift_add.csv, datawidth 16). */
export const PARTIAL_SUM_BITS = 16;

/**
 * A MAC of a layer kept digital (layers.<name>.digital): 16-bit integer MAC at 32 nm, 2.29 pJ,
 * 800 µm² (Accelergy-Project/processing-in-memory-design @ 80f35c54,
 * PIM_estimation_tables/32nm_data/data/intmac.csv). Its time is not modelled.
 */
export const DIGITAL_MAC_J = 2.29e-12;
