import { join } from 'node:path';
import { writeTextAtomic } from '../io/atomic-write.ts';
import type { SweepDefinition } from './definition.ts';
import type { ResultLine } from './results.ts';
import type { Vary } from './spec.ts';
import { INTERVAL_METHOD, formatInterval } from './stats.ts';
import type { SummaryRow } from './summary.ts';
import { writeSummary } from './summary.ts';
import type { VaryValue } from './types.ts';

/** The self-contained HTML report in a sweep folder. */
export const REPORT_FILE = 'report.html';
/** The accuracy plot in a sweep folder, as a standalone SVG. */
export const ACCURACY_SVG = 'accuracy.svg';

/** A vega-lite spec, as plain JSON (the compiler checks it). */
type VlSpec = Record<string, unknown>;

/** A varied value for display: numbers to 4 significant digits (summary.csv keeps them exact). */
function showValue(v: VaryValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return String(Number(v.toPrecision(4)));
  return String(v);
}

/** Label of the varies after the first (the facet of a multi-parameter sweep), '' if none. */
function groupLabel(varies: readonly Vary[], point: Record<string, VaryValue>): string {
  return varies
    .slice(1)
    .map((v) => `${v.path} = ${showValue(point[v.path])}`)
    .join(', ');
}

/** Whether the first varied parameter is plotted on a numeric axis. */
function numericX(varies: readonly Vary[]): boolean {
  return varies.length > 0 && varies[0].values.every((v) => typeof v === 'number');
}

function xEncoding(varies: readonly Vary[]): Record<string, unknown> {
  if (varies.length === 0) return { field: 'x', type: 'nominal', title: null, axis: { labels: false, ticks: false } };
  const first = varies[0];
  if (numericX(varies)) {
    return { field: 'x', type: 'quantitative', title: first.path, scale: first.scale === 'log' ? { type: 'log' } : { zero: false, nice: false } };
  }
  return { field: 'x', type: 'nominal', title: first.path, sort: first.values.map(showValue), axis: { labelAngle: 0 } };
}

function withFacet(varies: readonly Vary[], spec: VlSpec, data: { group: string }[]): VlSpec {
  if (varies.length < 2) return { data: { values: data }, ...spec };
  return {
    data: { values: data },
    facet: { field: 'group', type: 'nominal', title: null, sort: [...new Set(data.map((d) => d.group))] },
    columns: 3,
    spec,
    resolve: { scale: { y: 'shared' } },
  };
}

/** The vega-lite spec of accuracy against the first varied parameter, with a 95% CI band per preset. */
export function accuracySpec(def: Pick<SweepDefinition, 'series' | 'varies'>, rows: readonly SummaryRow[]): VlSpec {
  const varies = def.varies;
  const numeric = numericX(varies);
  const data = rows.map((r) => ({
    preset: r.series,
    x: varies.length === 0 ? r.series : numeric ? r.point[varies[0].path] : showValue(r.point[varies[0].path]),
    group: groupLabel(varies, r.point),
    mean: r.mean,
    lo: r.interval?.low ?? null,
    hi: r.interval?.high ?? null,
    chips: r.chips,
  }));
  // Opaque circles: by default the legend would take the band's pale fill.
  const color = { field: 'preset', type: 'nominal', title: 'preset', sort: def.series.map((s) => s.label), legend: { symbolType: 'circle', symbolOpacity: 1 } };
  const y = { field: 'mean', type: 'quantitative', title: 'accuracy (mean, 95% CI over chips)', axis: { format: '.0%' }, scale: { zero: false } };
  const yScale = { zero: false };
  const ciY = { y: { field: 'lo', type: 'quantitative', scale: yScale }, y2: { field: 'hi' } };
  const withCi = { transform: [{ filter: 'isValid(datum.lo)' }] };
  // A numeric axis gets a line and a shaded band; categories get dodged points with CI bars,
  // since a line between categories means nothing and bars at one x would hide each other.
  const layer = numeric
    ? [
        { ...withCi, mark: { type: 'area', opacity: 0.22 }, encoding: ciY },
        { mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { y } },
      ]
    : [
        { ...withCi, mark: { type: 'rule', strokeWidth: 2 }, encoding: { ...ciY, xOffset: { field: 'preset', sort: color.sort } } },
        { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { y, xOffset: { field: 'preset', sort: color.sort } } },
      ];
  const inner: VlSpec = {
    width: varies.length < 2 ? 440 : 320,
    height: varies.length < 2 ? 300 : 240,
    encoding: { x: xEncoding(varies), color },
    layer,
  };
  return { ...withFacet(varies, inner, data), config: CHART_CONFIG };
}

/** The vega-lite spec of ADC conversions per inference per preset (grouped by the first varied value when they differ). */
export function conversionsSpec(def: Pick<SweepDefinition, 'series' | 'varies'>, rows: readonly SummaryRow[]): VlSpec {
  const varies = def.varies;
  const color = { field: 'preset', type: 'nominal', title: 'preset', sort: def.series.map((s) => s.label) };
  const y = { field: 'value', type: 'quantitative', title: 'ADC conversions per inference', axis: { format: ',.0f' } };
  // Conversions are structural: with noise or ADC bits varied they are one number per preset.
  const perSeries = new Map<string, Set<number>>();
  for (const r of rows) {
    const s = perSeries.get(r.series) ?? new Set<number>();
    s.add(r.perInference.adcConversions);
    perSeries.set(r.series, s);
  }
  const constant = varies.length === 0 || [...perSeries.values()].every((s) => s.size === 1);
  if (constant) {
    const seen = new Set<string>();
    const data = rows.filter((r) => !seen.has(r.series) && seen.add(r.series)).map((r) => ({ preset: r.series, value: r.perInference.adcConversions }));
    return {
      data: { values: data },
      width: { step: 60 },
      height: 240,
      mark: { type: 'bar' },
      encoding: { x: { field: 'preset', type: 'nominal', title: null, sort: def.series.map((s) => s.label), axis: { labelAngle: 0 } }, y, color },
      config: CHART_CONFIG,
    };
  }
  const data = rows.map((r) => ({
    preset: r.series,
    x: showValue(r.point[varies[0].path]),
    group: groupLabel(varies, r.point),
    value: r.perInference.adcConversions,
  }));
  const inner: VlSpec = {
    width: { step: 18 },
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: varies[0].path, sort: varies[0].values.map(showValue) },
      xOffset: { field: 'preset', sort: def.series.map((s) => s.label) },
      y,
      color,
    },
  };
  return { ...withFacet(varies, inner, data), config: CHART_CONFIG };
}

const CHART_CONFIG = { font: 'sans-serif', axis: { grid: true, gridOpacity: 0.5 }, view: { stroke: '#ccc' } };

/** Renders a vega-lite spec to SVG text, headless (no canvas, no network). */
export async function renderSvg(spec: VlSpec): Promise<string> {
  // Loaded on demand: vega is large, and only sweeps and merges draw charts.
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const compiled = compile(spec as unknown as Parameters<typeof compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG with a single message, for a sweep with nothing to plot yet. */
function emptySvg(message: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="440" height="60" viewBox="0 0 440 60"><rect width="440" height="60" fill="white"/><text x="10" y="35" font-family="sans-serif" font-size="14">${escapeHtml(message)}</text></svg>`;
}

/** The accuracy plot as standalone SVG text. */
export async function accuracySvg(def: Pick<SweepDefinition, 'series' | 'varies'>, rows: readonly SummaryRow[]): Promise<string> {
  return rows.length === 0 ? emptySvg('no results yet') : renderSvg(accuracySpec(def, rows));
}

/** The conversions plot as standalone SVG text. */
export async function conversionsSvg(def: Pick<SweepDefinition, 'series' | 'varies'>, rows: readonly SummaryRow[]): Promise<string> {
  return rows.length === 0 ? emptySvg('no results yet') : renderSvg(conversionsSpec(def, rows));
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * An SVG for inline use in HTML: the XML prolog and namespace declarations go (the HTML parser
 * puts <svg> in the SVG namespace itself), so the page holds no URL at all.
 */
export function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/, '')
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/xlink:href=/g, 'href=');
}

function pct(v: number | null): string {
  return v === null ? '–' : `${(100 * v).toFixed(2)}%`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1e4 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(4);
}

/** Inputs of the HTML report. */
export interface ReportInput {
  def: SweepDefinition;
  rows: readonly SummaryRow[];
  results: readonly ResultLine[];
  /** Tasks in the whole grid (to show how complete the folder is). */
  gridTasks: number;
  accuracySvg: string;
  conversionsSvg: string;
}

/** The self-contained HTML report: plots inline as SVG, no script, no stylesheet or font fetched. */
export function reportHtml(r: ReportInput): string {
  const { def, rows, results } = r;
  const e = escapeHtml;
  const adapters = [...new Set(results.map((x) => x.adapter))];
  const seconds = results.reduce((a, x) => a + x.seconds, 0);
  const dataset =
    def.dataset.kind === 'mnist' ? 'MNIST test digits' : `${def.dataset.inputs.path} / ${def.dataset.labels.path}`;
  const meta: [string, string][] = [
    ['model', `${def.model.path} (sha256 ${def.model.sha256.slice(0, 12)}…)`],
    ['dataset', `${dataset}${def.limit === null ? '' : `, first ${def.limit}`}`],
    ['presets', def.series.map((s) => s.label).join(', ')],
    ...def.varies.map((v): [string, string] => [`varied: ${v.path}`, `${v.values.map(showValue).join(', ')} (${v.spec})`]),
    ['chips per point', String(def.chips)],
    ['evaluations', `${results.length} of ${r.gridTasks}`],
    ['evaluation time', `${seconds.toFixed(1)} s in all`],
    ['adapters', adapters.join('; ') || '–'],
  ];
  const head = ['preset', ...def.varies.map((v) => v.path), 'chips', 'images', 'accuracy', 'std', '95% CI', 'ADC conv./inference'];
  const body = rows.map((row) => {
    const ci = formatInterval(row.interval, pct);
    const cells = [
      row.series,
      ...def.varies.map((v) => showValue(row.point[v.path])),
      String(row.chips),
      num(row.images),
      pct(row.mean),
      pct(row.std),
      ci,
      num(row.perInference.adcConversions),
    ];
    return `<tr>${cells.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`;
  });
  const configs = def.series.map(
    (s) => `<details><summary>${e(s.label)}</summary><pre>${e(JSON.stringify(s.config, null, 2))}</pre></details>`,
  );
  const varied = def.varies.length === 0 ? '' : ` Each point sets ${def.varies.map((v) => `<code>${e(v.path)}</code>`).join(', ')} on top of these.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xbarsim sweep: ${e(def.series.map((s) => s.label).join(' vs '))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
td:first-child, th { text-align: left; } th { background: #f4f4f4; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; } dt { font-weight: 600; } dd { margin: 0; }
pre { background: #f8f8f8; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.chart { overflow-x: auto; }
</style>
</head>
<body>
<h1>xbarsim sweep</h1>
<dl>
${meta.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('\n')}
</dl>
<h2>Accuracy</h2>
<p>Mean accuracy over chip instances; the band (or bar) is the ${e(INTERVAL_METHOD)}.</p>
<div class="chart">${inlineSvg(r.accuracySvg)}</div>
<h2>ADC conversions per inference</h2>
<div class="chart">${inlineSvg(r.conversionsSvg)}</div>
<h2>Summary</h2>
<table>
<thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>
<h2>Configs</h2>
<p>The base config of each preset.${varied}</p>
${configs.join('\n')}
</body>
</html>
`;
}

/** Writes summary.csv, accuracy.svg and report.html into DIR, each atomically. */
export async function writeReports(dir: string, def: SweepDefinition, rows: readonly SummaryRow[], results: readonly ResultLine[], gridTasks: number): Promise<void> {
  writeSummary(dir, def.varies, rows);
  const acc = await accuracySvg(def, rows);
  const conv = await conversionsSvg(def, rows);
  writeTextAtomic(join(dir, ACCURACY_SVG), acc.startsWith('<?xml') ? acc : `<?xml version="1.0" encoding="UTF-8"?>\n${acc}\n`);
  writeTextAtomic(join(dir, REPORT_FILE), reportHtml({ def, rows, results, gridTasks, accuracySvg: acc, conversionsSvg: conv }));
}
