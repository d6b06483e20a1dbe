import { escapeHtml, inlineSvg, renderSvg } from '../sweep/report.ts';
import type { ChainEntry, PeriphPreset } from './periph-measure.ts';

type VlSpec = Record<string, unknown>;

const CHART_CONFIG = { font: 'sans-serif', axis: { grid: true, gridOpacity: 0.5 }, view: { stroke: '#ccc' } };

/** Line charts of `values`, one panel per facet cell, 320 wide; each panel keeps its own scales unless `shared`. */
function facetedLines(values: object[], facet: object, height: number, mark: object, x: object, y: object, shared = false): VlSpec {
  return {
    data: { values },
    facet,
    spec: { width: 320, height, mark: { type: 'line', ...mark }, encoding: { x: { type: 'quantitative', ...x }, y: { type: 'quantitative', ...y } } },
    ...(shared ? {} : { resolve: { scale: { x: 'independent', y: 'independent' } } }),
    config: CHART_CONFIG,
  };
}

const BY_STAGE = { field: 'stage', type: 'nominal', title: null };

/** Transfer curves of chip 0: output against input, in LSB, for both stages (the chain's input is the ramp step). */
function transferSpec(p: PeriphPreset): VlSpec {
  const values = p.stages.flatMap((s) => s.curves.transfer.x.map((x, i) => ({ stage: s.stage, x, y: s.curves.transfer.y[i] })));
  return facetedLines(values, BY_STAGE, 220, { interpolate: 'step-after', strokeWidth: 1.2 }, { field: 'x', title: 'input (LSB)' }, { field: 'y', title: 'output (LSB)' });
}

/** INL and DNL of chip 0 per code, both stages. */
function linearitySpec(p: PeriphPreset): VlSpec {
  const values = p.stages.flatMap((s) => [
    ...s.curves.inl.map((v, code) => ({ stage: s.stage, what: 'INL', code, v })),
    ...s.curves.dnl.map((v, code) => ({ stage: s.stage, what: 'DNL', code: code + 1, v })),
  ]);
  const facet = { row: { field: 'what', type: 'nominal', title: null }, column: BY_STAGE };
  return facetedLines(values, facet, 140, { strokeWidth: 1 }, { field: 'code', title: 'code' }, { field: 'v', title: 'LSB' });
}

/** Power spectrum of the sine test of chip 0, dB relative to the fundamental, against f/fs. */
function spectrumSpec(p: PeriphPreset): VlSpec {
  const values = p.stages.flatMap((s) => s.curves.spectrum_dBc.map((d, i) => ({ stage: s.stage, f: (i + 1) / s.curves.samples, d: Math.max(d, -160) })));
  return facetedLines(values, BY_STAGE, 200, { strokeWidth: 0.8 }, { field: 'f', title: 'f / fs' }, { field: 'd', title: 'dBc', scale: { domain: [-160, 0] } }, true);
}

function num(v: number, d: number): string {
  return Number.isFinite(v) ? v.toFixed(d) : '–';
}

/** The self-contained periph report: every plot inline as SVG, no script, nothing fetched. */
export async function periphReportHtml(presets: readonly PeriphPreset[], chains: readonly ChainEntry[], meta: { chips: number; seconds: number }): Promise<string> {
  const e = escapeHtml;
  const rows = chains.map((c) => {
    const cells = [
      c.preset,
      c.stage,
      `${num(c.sinad_dB.mean, 2)} ± ${num(c.sinad_dB.std, 2)}`,
      `${num(c.enob.mean, 2)} ± ${num(c.enob.std, 2)}`,
      `${num(c.sfdr_dB.mean, 1)} ± ${num(c.sfdr_dB.std, 1)}`,
      `${num(c.inlMax_LSB.mean, 3)} ± ${num(c.inlMax_LSB.std, 3)}`,
      `${num(c.dnlMax_LSB.mean, 3)} ± ${num(c.dnlMax_LSB.std, 3)}`,
    ];
    return `<tr>${cells.map((x) => `<td>${e(x)}</td>`).join('')}</tr>`;
  });
  const sections: string[] = [];
  for (const p of presets) {
    const [transfer, lin, spec] = await Promise.all([renderSvg(transferSpec(p)), renderSvg(linearitySpec(p)), renderSvg(spectrumSpec(p))]);
    const c = p.config;
    sections.push(`<h2>${e(p.label)}</h2>
<p>${e(`${c.dataflow}, ${c.adc.bits}-bit ${c.adc.model} ADC${c.adc.model === 'uniform' ? '' : ` (groupSize ${c.adc.groupSize})`}, analog accumulation ${c.analog.model}, ${c.digital ? `digital unit ${c.digital.scale}/${c.digital.offset} to ${c.digital.outputBits} bits` : 'f32 digital'}. Curves: chip 0.`)}</p>
<h3>Transfer curve</h3><div class="chart">${inlineSvg(transfer)}</div>
<h3>INL and DNL</h3><div class="chart">${inlineSvg(lin)}</div>
<h3>Spectrum of the sine test</h3><div class="chart">${inlineSvg(spec)}</div>
<details><summary>config</summary><pre>${e(JSON.stringify(c, null, 2))}</pre></details>`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xbarsim periph: ${e(presets.map((p) => p.label).join(', '))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { font-size: 1em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
td:first-child, td:nth-child(2), th { text-align: left; } th { background: #f4f4f4; }
pre { background: #f8f8f8; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.chart { overflow-x: auto; }
</style>
</head>
<body>
<h1>xbarsim periph</h1>
<p>${e(`${meta.chips} chip${meta.chips === 1 ? '' : 's'} per preset on the CPU reference, ${meta.seconds.toFixed(1)} s.`)} Stage <code>adc</code>: the first ADC instance of each chip alone, a coherently sampled full-scale sine (SINAD, ENOB, SFDR) and a 64-points-per-LSB ramp (code density: terminal-based INL and DNL). Stage <code>chain</code>: one crossbar column driven by a push-pull stimulus through the dataflow's whole conversion chain, the same sine, and a ramp of 2^bits steps for INL and DNL. Mean ± standard deviation over chips.</p>
<table>
<thead><tr>${['preset', 'stage', 'SINAD (dB)', 'ENOB', 'SFDR (dB)', 'max |INL| (LSB)', 'max |DNL| (LSB)'].map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${sections.join('\n')}
</body>
</html>
`;
}
