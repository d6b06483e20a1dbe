import { adcLevels } from '../crossbar/adc.ts';

/** The output codes of an n-bit converter: unsigned 0…2^n − 1, signed (mid-tread) −L…L with L = 2^(n−1) − 1. */
export interface CodeRange {
  min: number;
  max: number;
}

/** Codes of an n-bit ADC as DESIGN.md section 3 defines them (the same grid for every ADC model). */
export function codeRange(bits: number, signed: boolean): CodeRange {
  const L = adcLevels(bits, signed);
  return { min: signed ? -L : 0, max: L };
}

/** Transitions between adjacent codes: max − min (each has one comparator in a flash-like converter). */
export function transitions(r: CodeRange): number {
  return r.max - r.min;
}
