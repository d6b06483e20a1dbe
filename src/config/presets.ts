import { deepFreeze } from './defaults.ts';
import type { XbarConfigInput } from './types.ts';

/** Names of the built-in presets, in the order they are listed to users. */
export const PRESET_NAMES = ['ideal', 'isaac', 'prime', 'cascade', 'neural-pim', 'isaac-style', 'cascade-style', 'crosssim-isaac'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * Built-in base configs. Each is a partial config applied over DEFAULT_CONFIG (fields it does not
 * set keep their defaults), and a user's JSON overrides it. Presets describe architectures, not
 * devices: all device noise stays at the default 0 unless the user sets it.
 */
export const PRESETS: Readonly<Record<PresetName, XbarConfigInput>> = deepFreeze<Record<PresetName, XbarConfigInput>>({
  /**
   * ideal: not a published design; the noise-free, quantization-free reference of DESIGN.md
   * section 3 ("with no noise and adc.bits = 0, every dataflow returns exactly sw·sx·xq·q").
   * Weights and inputs are still quantized (8 bits, the defaults).
   */
  ideal: {
    adc: { bits: 0, noise: 0 },
    noise: {
      programming: { sigma: 0 },
      read: { sigma: 0 },
      drift: { nu: 0, nuStd: 0 },
      stuckAt: { sa0: 0, sa1: 0 },
    },
    analog: { gainSigma: 0, noise: 0 },
  },

  /**
   * ISAAC: A. Shafiee et al., "ISAAC: A Convolutional Neural Network Accelerator with In-Situ
   * Analog Arithmetic in Crossbars", ISCA 2016, pp. 14–26. 128x128 crossbars of 2-bit cells,
   * 1-bit (bit-serial) input DACs, 8-bit ADCs, every column current converted and shifted-and-added
   * digitally in each in-situ multiply-accumulate unit (IMA). ISAAC stores weights biased to be
   * non-negative and removes the bias digitally (its handling of signed arithmetic, §V): mapping
   * "offset", digital subtract. ISAAC itself uses 16-bit weights and inputs; here it runs at 8-bit
   * weights and inputs. This is the original design, not the Neural-PIM paper's 8-bit baseline
   * (1-bit cells, differential weights, 7-bit ADCs): that one is `isaac-style`.
   */
  isaac: {
    array: { rows: 128, cols: 128 },
    weights: { bits: 8, mapping: 'offset', cellBits: 2 },
    inputs: { bits: 8, dacBits: 1 },
    adc: { bits: 8, subtract: 'digital' },
    dataflow: 'digital-sa',
  },

  /**
   * PRIME: P. Chi et al., "PRIME: A Novel Processing-in-Memory Architecture for Neural Network
   * Computation in ReRAM-based Main Memory", ISCA 2016, pp. 27–39. 256x256 ReRAM mats, 4-bit
   * (MLC) cells, 3-bit input drivers, 6-bit sense-amplifier outputs, positive and negative weights
   * in separate crossbars (differential), digital composition of partial results (its "input and
   * synapse composing" scheme).
   * PRIME composes 6-bit inputs from two 3-bit phases and 8-bit weights from two 4-bit cells; here
   * inputs and weights stay at the 8-bit defaults (3 input cycles, 2 slices of the 7 magnitude bits)
   * so PRIME is compared at the same precision as the other presets.
   */
  prime: {
    array: { rows: 256, cols: 256 },
    weights: { mapping: 'differential', cellBits: 4 },
    inputs: { dacBits: 3 },
    adc: { bits: 6 },
    dataflow: 'digital-sa',
  },

  /**
   * CASCADE: T. Chou, W. Tang, J. Botimer, Z. Zhang, "CASCADE: Connecting RRAMs to Extend Analog
   * Dataflow In An End-To-End In-Memory Processing Paradigm", MICRO 2019, pp. 114–125. Partial
   * sums are buffered and accumulated in analog (buffer RRAM arrays) over the input cycles and
   * converted once per weight slice: dataflow "buffered", differential columns. Assumed here, where
   * the paper's own design point differs (64x64 arrays, 1-bit cells, 16-bit weights and inputs,
   * 6–10-bit ADCs): ISAAC's array size, 2-bit cells and 8-bit ADC, 1-bit DACs, 8-bit weights and
   * inputs, so it differs from `isaac` only in its dataflow; the buffer arrays are ideal
   * accumulators apart from analog.gainSigma / analog.noise. The Neural-PIM paper's CASCADE
   * baseline (1-bit cells, 10-bit ADCs) is `cascade-style`.
   */
  cascade: {
    array: { rows: 128, cols: 128 },
    weights: { mapping: 'differential', cellBits: 2 },
    inputs: { dacBits: 1 },
    adc: { bits: 8 },
    dataflow: 'buffered',
  },

  /**
   * Neural-PIM: W. Cao, Y. Zhao, A. Boloor, Y. Han, X. Zhang, L. Jiang, "Neural-PIM: Efficient
   * Processing-In-Memory With Neural Approximation of Peripherals", IEEE Transactions on Computers
   * 71(9), 2022, pp. 2142–2155 (= arXiv 2201.12861v1; full text at rhythmrx9/mtp @
   * 1b1bd945e38f39b2b0e352b811977d60e6bcef46, papers/agents/fulltext/2021_Cao_NeuralPIM_TC.txt).
   * Shift-and-add over input cycles and weight slices in analog, one (neural-approximated) 8-bit
   * conversion per row block and output: dataflow "analog-sa". 128x128 arrays of 1-bit cells with
   * W_P and W_N in adjacent columns (§5.1, §5.2.1), 8-bit weights and inputs, and the evaluated
   * design's 4-bit DACs (§7.1: "64 128 × 128 RRAM arrays in one PE which shares 64 NNS+As and 4
   * NNADCs with 4-bit DACs for each array"; Table 3 "D/A resolution 4-bit"): 2 input cycles.
   */
  'neural-pim': {
    array: { rows: 128, cols: 128 },
    weights: { bits: 8, mapping: 'differential', cellBits: 1 },
    inputs: { bits: 8, dacBits: 4 },
    adc: { bits: 8 },
    dataflow: 'analog-sa',
  },

  /**
   * isaac-style: the Neural-PIM paper's own 8-bit re-implementation of ISAAC, its baseline "ISAAC
   * style" (Cao et al., IEEE TC 71(9) 2022 = arXiv 2201.12861v1, §6.1, §6.2 and Table 3; full
   * text at rhythmrx9/mtp @ 1b1bd945e38f39b2b0e352b811977d60e6bcef46,
   * papers/agents/fulltext/2021_Cao_NeuralPIM_TC.txt): "Inputs: 8-bit; Weights: 8-bit; RRAM
   * computing array: 128×128 with 1-bit cell", digital accumulation (S+A), 1-bit DACs, 7-bit ADCs,
   * "64 ADCs per 64 arrays". Signed weights as W = W_P − W_N with "the analog partial sums of two
   * corresponding BLs … subtracted by an analog subtraction unit" (§5.2.1, on prior work):
   * differential mapping, adc.subtract analog.
   */
  'isaac-style': {
    array: { rows: 128, cols: 128 },
    weights: { bits: 8, mapping: 'differential', cellBits: 1 },
    inputs: { bits: 8, dacBits: 1 },
    adc: { bits: 7, subtract: 'analog' },
    dataflow: 'digital-sa',
  },

  /**
   * cascade-style: the Neural-PIM paper's "CASCADE style" baseline (same source as isaac-style,
   * §6.1, §7.2 and Table 3): 128×128 arrays of 1-bit cells, 8-bit weights and inputs, 1-bit DACs,
   * partial sums accumulated in buffer arrays ("4 buffer arrays for each computing array and … an
   * analog summing-amplifier per buffer array"), 10-bit ADCs, "3 ADCs per 64 arrays": dataflow
   * "buffered", differential columns. The buffer arrays are ideal accumulators apart from
   * analog.gainSigma / analog.noise (the paper's buffers are 6-bit cells, §5.3.2).
   */
  'cascade-style': {
    array: { rows: 128, cols: 128 },
    weights: { bits: 8, mapping: 'differential', cellBits: 1 },
    inputs: { bits: 8, dacBits: 1 },
    adc: { bits: 10 },
    dataflow: 'buffered',
  },

  /**
   * crosssim-isaac: Sandia CrossSim 3.2.0's ISAAC preset, simulator/configs/ISAAC.json at commit
   * 0a2eb1eda183326ef4d98d792995c721105d3726 (github sandialabs/cross-sim, tag v3.2.0), for
   * like-for-like comparisons with CrossSim. Setting by setting:
   * - core.rows_max/cols_max 128/128 → array 128×128 (CrossSim's unit column is a 129th column).
   * - core.weight_bits 16, bit_sliced.num_slices 8, device.cell_bits 2 → weights.bits 16, cellBits 2
   *   (8 slices of base-4 digits); mapping.weights percentile 1.0 → perChannel false: CrossSim
   *   scales by max|W| of the whole matrix and has no per-column scaling.
   * - bit_sliced.style OFFSET, offset.style UNIT_COLUMN_SUBTRACTION → mapping offset, adc.subtract
   *   digital (balanced.subtract_current_in_xbar has no effect on offset slices).
   * - device.Rmin 2 kΩ, Rmax 2 MΩ → onOffRatio 1000; read noise, programming error and drift
   *   disabled → no noise (add noise.read etc. as in CrossSim).
   * - dac 16 bits signed, input_bitslicing with slice_size 1 → inputs.bits 15 (CrossSim's 16 is
   *   sign-magnitude: 15 magnitude bits) and dacBits 1.
   * - adc SignMagnitudeADC 9 bits signed, adc_per_ibit, range GRANULAR → dataflow digital-sa, adc.bits
   *   8, range (255/3)·32768/32767 = 85.0026 (GRANULAR: 1/(2^cell_bits − 1) per code, times the
   *   DAC's 2^15/(2^15 − 1), 255 codes). Our passes are unsigned, so 8 unsigned bits give the same
   *   255 codes on every non-negative current as CrossSim's ±255.
   * What this config cannot express (CrossSim ≠ xbarsim here; see README "Comparing with CrossSim
   * and aihwkit"):
   * - The unit column: CrossSim digitizes a zero-point column with the same ADC and subtracts it,
   *   so its ADC rounds the Gmin·ΣV pedestal away; xbarsim subtracts Gmin·ΣV and the offset
   *   exactly after the ADC (DESIGN.md section 3). CrossSim's offset is 2^15, ours Qw = 2^15 − 1
   *   (same product, other digits). On test/fixtures/crosssim-isaac (CrossSim's own output)
   *   xbarsim is within 0.14% of full scale, median ratio 1.0004.
   * - Saturation: CrossSim converts one signed ±1 bit plane per input bit, so positive and
   *   negative inputs may cancel inside the ADC's range; xbarsim runs two unsigned passes and
   *   clips each alone. Both clip columns above 255 digit units per input bit (ISAAC's "flipped"
   *   encoding, which avoids this, is in neither tool).
   * - CrossSim's fixed input range ±152 (an example value) vs the calibrated input scale here; its
   *   EQUAL partition of rows (200 → 100 + 100) vs fixed 128-row blocks (128 + 72).
   * - Quantizer ties: CrossSim rounds x/step + L half-to-even, i.e. ties to the odd neighbour;
   *   xbarsim rounds x/step half-to-even. Only exact ties differ.
   * - A deterministic gain: with an ideal ADC (adc.bits 0) CrossSim returns
   *   (2^15/(2^15 − 1))/(1 − 1/1000) = 1.0010316 times the quantized product (it divides by the
   *   on/off range after its ADC has snapped to integers); xbarsim returns the product itself.
   */
  'crosssim-isaac': {
    array: { rows: 128, cols: 128 },
    weights: { bits: 16, perChannel: false, mapping: 'offset', cellBits: 2, onOffRatio: 1000 },
    inputs: { bits: 15, dacBits: 1 },
    adc: { bits: 8, range: (255 / 3) * (32768 / 32767), subtract: 'digital' },
    dataflow: 'digital-sa',
  },
});

/** Whether `name` is a built-in preset name. */
export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}
