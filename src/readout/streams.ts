/**
 * Philox streams of the readout chain (TEAM.md allocates 8–11 to readout; 1–7 are DESIGN.md section 4's
 * sources in src/random/philox.ts NOISE_STREAM). Every draw here is static per chip: the element never
 * contains a vector index, so a chip's converters are the same at any batch size. Key (seed, chip) and
 * counter word 2 (layer) as in philox.ts; element (lo, hi) as listed:
 * - comparator: lo = comparator k (the transition from code min + k to min + k + 1), hi = ADC instance;
 * - adcInstance: lo = 0, hi = ADC instance; Gaussian 0 is the gain error, Gaussian 1 the offset error;
 * - neuralAdc: lo = floor(cell / 2), hi = ADC instance; Gaussian `cell mod 2` varies NNADC cell `cell`;
 * - neuralSa: lo = floor(w / 2), hi = NNS+A chain; Gaussian `w mod 2` varies weight group `w`.
 */
export const READOUT_STREAM = {
  comparator: 8,
  adcInstance: 9,
  neuralAdc: 10,
  neuralSa: 11,
} as const;
