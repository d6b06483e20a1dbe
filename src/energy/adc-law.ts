/**
 * Energy and area of a 32 nm SAR ADC as a function of its resolution: the ISAAC ADC scaled by
 * resolution the way Accelergy's ISAAC library does it.
 *
 * Source: Accelergy-Project/accelergy-library-plug-in @ ba4e9dac, `library/isaac/isaac_adc.csv`
 * (table 4–10 bits: 0.79, 0.99, 1.20, 1.42, 1.67, 1.969078145, 2.379022742 pJ and 361.04, 476.91,
 * 626.91, 845.18, 1200, 1827.911647, 3002.008032 µm²) and the spreadsheet that produced it,
 * `library/isaac/isaac_adc.xlsx`: L. Kull et al., "A 3.1mW 8b 1.2GS/s single-channel asynchronous
 * SAR ADC ... in 32nm digital SOI CMOS", ISSCC 2013 (doi 10.1109/ISSCC.2013.6487818), split into
 * blocks (Vref buffer 0.2 mW, capacitive DAC 0.2 mW, memory 0.7 mW, latches 0.8 mW, clock and
 * calibration 1.2 mW; area shares from the die photo, C-DAC 340 of 747 px of 1600 µm²); every block
 * scales linearly in N/8 except the capacitive DAC, which scales as 2^(N−8) (M. Saberi et al.,
 * "Analysis of Power Consumption and Linearity in Capacitive Digital-to-Analog Converters used in
 * Successive Approximation ADCs", IEEE TCAS-I 2011); the result is normalized so that N = 8 is the
 * ISAAC ADC. The functions below are that law in closed form; test/cpu/energy-tables.test.ts checks
 * that they reproduce the CSV table.
 */

/** Kull's ADC power split (mW): everything but the capacitive DAC, and the capacitive DAC. */
const KULL_LINEAR_MW = 2.9;
const KULL_CDAC_MW = 0.2;
/** Share of Kull's area taken by the capacitive DAC (340 of 747 px in isaac_adc.xlsx). */
const KULL_CDAC_AREA_SHARE = 340 / 747;

/** Relative power of an N-bit ADC: Kull's blocks scaled to N bits, 1 at N = 8. */
export function adcEnergyFactor(bits: number): number {
  return (KULL_LINEAR_MW * (bits / 8) + KULL_CDAC_MW * 2 ** (bits - 8)) / (KULL_LINEAR_MW + KULL_CDAC_MW);
}

/** Relative area of an N-bit ADC, 1 at N = 8. */
export function adcAreaFactor(bits: number): number {
  return (1 - KULL_CDAC_AREA_SHARE) * (bits / 8) + KULL_CDAC_AREA_SHARE * 2 ** (bits - 8);
}

/** The resolutions Accelergy's table lists; outside them the law is an extrapolation. */
export const ADC_TABLE_BITS: readonly number[] = [4, 5, 6, 7, 8, 9, 10];
