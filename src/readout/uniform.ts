import { adcConvert } from '../crossbar/adc.ts';
import type { CodeRange } from './codes.ts';
import type { AdcConverter, TransferTable } from './transfer.ts';

/** The uniform ADC of DESIGN.md section 3 (adc.model "uniform") behind the AdcConverter interface. */
export class UniformAdc implements AdcConverter {
  constructor(
    private readonly bits: number,
    private readonly signed: boolean,
    private readonly r: CodeRange,
  ) {}

  convert(x: number, hi: number): number {
    return adcConvert(x, this.bits, hi, this.signed);
  }

  /** Thresholds at code + 1/2 (exact ties round half to even in `convert`; the table sends them up). */
  table(): TransferTable {
    const n = this.r.max - this.r.min;
    return {
      breakpoints: Float64Array.from({ length: n }, (_, k) => this.r.min + k + 0.5),
      values: Float64Array.from({ length: n + 1 }, (_, i) => this.r.min + i),
    };
  }
}
