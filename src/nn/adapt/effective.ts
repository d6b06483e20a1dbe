/**
 * Effective weights of a programmed chip (the straight-through estimate's backward, issue 17): each
 * cell's conductance read back as its digit, digits recombined over slices and polarities as DESIGN.md
 * section 3 maps them, times the column's weight scale. Per-read noise, the ADC and the analog gains
 * are left to the forward pass; drift compensation's factor multiplies in, as it does the output.
 */
import type { ProgrammedLayer } from '../../crossbar/program.ts';

/** W_eff [K, N] of a programmed layer: Σ_s 2^{s·c}·(digit⁺ − digit⁻ or − Qw)·sw[j], digits (G − Gmin)/ΔG. */
export function decodeWeights(pl: ProgrammedLayer, scale = 1): Float32Array {
  const { K, N, S, pol, c, Gmin, dG, Qw } = pl.geom;
  const W = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      let q = pol === 2 ? 0 : -Qw;
      for (let s = 0; s < S; s++) {
        const base = (k * S + s) * pol;
        const plus = (pl.G[(base + 0) * N + j] - Gmin) / dG;
        const minus = pol === 2 ? (pl.G[(base + 1) * N + j] - Gmin) / dG : 0;
        q += 2 ** (s * c) * (plus - minus);
      }
      W[k * N + j] = q * pl.sw[j] * scale;
    }
  }
  return W;
}
