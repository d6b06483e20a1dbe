import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { adcIsSigned } from '../../src/crossbar/adc.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { packAdcTables, type PackedTables } from '../../src/readout/tables.ts';
import { segmentOf } from '../../src/readout/transfer.ts';

/** shaders/xbar.wgsl tables4 for one lane, in f32: the cell's start count, then at most `corrections` compares. */
function kernelLookup(pk: PackedTables, inst: number, u: number): number {
  const { index: ix, M, data } = pk;
  const cell = Math.min(ix.cells - 1, Math.max(0, Math.floor(Math.fround(u * ix.scale)) - ix.origin));
  let lo = data[ix.base + inst * ix.cells + cell];
  for (let it = 0; it < ix.corrections; it++) {
    const bp = data[inst * M + Math.min(lo, M - 1)];
    if (lo < M && bp <= u) lo++;
  }
  return pk.counting ? pk.countBase + lo : data[pk.valueBase + inst * (M + 1) + lo];
}

/** The binary search the index replaces, on the same f32 breakpoints and values. */
function searchLookup(pk: PackedTables, inst: number, u: number): number {
  const bps = pk.data.subarray(inst * pk.M, (inst + 1) * pk.M);
  return pk.data[pk.valueBase + inst * (pk.M + 1) + segmentOf(bps as unknown as Float64Array, u)];
}

function companding(bits: number, signed: boolean): number[] {
  const m = signed ? 2 ** bits - 1 : 2 ** bits;
  return Array.from({ length: m }, (_, i) => {
    const t = signed ? -1 + (2 * i) / (m - 1) : i / (m - 1);
    return Math.sign(t) * Math.abs(t) ** 1.5;
  });
}

describe('the kernel\'s cell-indexed table lookup equals the binary search', () => {
  const cases: [string, XbarConfigInput][] = [];
  for (const preset of ['isaac', 'neural-pim']) {
    const base = resolveConfig({ preset });
    cases.push(
      [`${preset} nonlinear`, { preset, adc: { model: 'nonlinear', groupSize: 8, nonlinear: { inl: [0, 0, 1], comparatorSigma: 0.4, gainSigma: 0.02, offsetSigma: 0.5 } } }],
      [`${preset} neural (bubbles)`, { preset, adc: { model: 'neural', bits: 7, groupSize: 16, neural: { sigma: 0.05 } } }],
      [`${preset} nonuniform companding`, { preset, adc: { model: 'nonuniform', nonuniform: { levels: companding(base.adc.bits, adcIsSigned(base)) } } }],
    );
  }
  it.each(cases)('%s: every breakpoint, its f32 neighbours and a dense sweep', (_name, over) => {
    const cfg = resolveConfig(over);
    const layer = programLayer(Float64Array.from({ length: 40 * 24 }, (_, i) => Math.sin(i)), 40, 24, cfg);
    const pk = packAdcTables(cfg, layer.geom, { seed: 5, chip: 2, layer: 0 });
    expect(pk.index.corrections).toBeLessThanOrEqual(8);
    let checked = 0;
    const wrong: string[] = [];
    for (let inst = 0; inst < pk.instances; inst++) {
      const us: number[] = [];
      for (let k = 0; k < pk.M; k++) {
        const b = pk.data[inst * pk.M + k];
        if (b > 1e30) continue;
        // The breakpoint itself and the f32 values either side: where a wrong cell would show.
        const f = new Float32Array([b]);
        const bits = new Int32Array(f.buffer);
        for (const d of [-1, 1]) {
          const g = new Float32Array(1);
          new Int32Array(g.buffer)[0] = bits[0] + (b >= 0 ? d : -d);
          us.push(g[0]);
        }
        us.push(b);
      }
      for (let u = -300; u <= 300; u += 0.37) us.push(Math.fround(u));
      us.push(-1e30, 1e30);
      for (const u of us) {
        const a = kernelLookup(pk, inst, u);
        const b = searchLookup(pk, inst, u);
        if (a !== b && wrong.length < 5) wrong.push(`instance ${inst} u=${u}: ${a} vs ${b}`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });
});
