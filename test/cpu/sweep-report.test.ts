import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { SweepFile } from '../../src/sweep/definition.ts';
import { buildPoints } from '../../src/sweep/grid.ts';
import type { Series } from '../../src/sweep/grid.ts';
import { silentProgress } from '../../src/sweep/progress.ts';
import { accuracySvg, conversionsSvg, escapeHtml, reportHtml } from '../../src/sweep/report.ts';
import { readResults } from '../../src/sweep/results.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { parseVaries } from '../../src/sweep/spec.ts';
import { summarize } from '../../src/sweep/summary.ts';
import type { SummaryRow } from '../../src/sweep/summary.ts';
import { FakeEvaluator } from '../helpers/fake-evaluator.ts';
import { tempDir } from '../helpers/files.ts';

function series(...presets: string[]): Series[] {
  return presets.map((p) => ({ label: p, config: resolveConfig({}, { preset: p }) }));
}

function sweepFile(varies: string[], presets = ['isaac', 'neural-pim'], chips = 3): SweepFile {
  return {
    version: 1,
    model: { path: 'models/lenet5.onnx', sha256: 'cd'.repeat(32) },
    dataset: { kind: 'mnist' },
    series: series(...presets),
    varies: parseVaries(varies),
    chips,
    limit: 40,
    shard: null,
  };
}

/**
 * A small well-formedness check (no XML parser is installed): every tag closes in order,
 * attributes are quoted, and no raw `<` or unescaped `&` is left in text.
 */
function expectWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/<!DOCTYPE[^>]*>/i, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  const voids = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/y;
  let i = 0;
  let sawRoot = false;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    expect(text).not.toMatch(/&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)/);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (m === null) throw new Error(`malformed tag at ${lt}: ${body.slice(lt, lt + 80)}`);
    const [, close, name, , selfClose] = m;
    if (close === '/') {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else if (selfClose !== '/' && !voids.has(name.toLowerCase())) {
      stack.push(name);
      sawRoot = true;
    }
    i = tag.lastIndex;
  }
  expect(stack).toEqual([]);
  expect(sawRoot).toBe(true);
}

/** Number of data symbols (line points) drawn: symbol marks of the chart, legends excluded. */
function pointSymbols(svg: string): number {
  let n = 0;
  for (const m of svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)) n += (m[1].match(/<path/g) ?? []).length;
  return n;
}

/** Number of bars drawn. */
function bars(svg: string): number {
  let n = 0;
  for (const m of svg.matchAll(/<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)) n += (m[1].match(/<path/g) ?? []).length;
  return n;
}

async function rowsOf(file: SweepFile): Promise<{ rows: SummaryRow[]; dir: string }> {
  const dir = tempDir();
  await runSweep({ dir, sweep: file }, new FakeEvaluator(), silentProgress);
  return { rows: summarize(buildPoints(file.series, file.varies), readResults(dir).lines), dir };
}

describe('sweep report files', () => {
  it('accuracy.svg: well formed, one point per preset and sigma; report.html: offline, complete', async () => {
    const file = sweepFile(['noise.programming.sigma=0:0.1:5']);
    const { rows, dir } = await rowsOf(file);
    const svg = readFileSync(join(dir, 'accuracy.svg'), 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expectWellFormed(svg);
    expect(pointSymbols(svg)).toBe(10);
    expect(svg).toContain('noise.programming.sigma');
    expect(svg).toContain('isaac');
    expect(svg).toContain('neural-pim');
    expect(svg).not.toMatch(/<script/i);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expectWellFormed(html);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\ssrc=|<link|@import|url\(/i);
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(pointSymbols(html)).toBe(10);
    expect(bars(html)).toBe(2); // conversions do not change with sigma: one bar per preset
    expect(html.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>/g)).toHaveLength(rows.length);
    expect(html).toContain('<summary>isaac</summary>');
    expect(html).toContain('&quot;dataflow&quot;: &quot;analog-sa&quot;');
    expect(html).toContain('30 of 30');
  });

  it('several varies: one facet per value of the others; conversions grouped when they differ', async () => {
    const file = sweepFile(['noise.read.sigma=log:0.001:0.1:3', 'weights.mapping=differential', 'dataflow=digital-sa,buffered'], ['isaac', 'prime'], 2);
    const { rows } = await rowsOf(file);
    expect(rows).toHaveLength(12);
    const svg = await accuracySvg(file, rows);
    expectWellFormed(svg);
    expect(pointSymbols(svg)).toBe(12);
    expect(svg).toContain('weights.mapping = differential, dataflow = digital-sa');
    expect(svg).toContain('weights.mapping = differential, dataflow = buffered');
    const conv = await conversionsSvg(file, rows);
    expectWellFormed(conv);
    expect(bars(conv)).toBe(12);
  });

  it('a non-numeric first vary gets an ordinal axis with CI bars', async () => {
    const file = sweepFile(['dataflow=digital-sa,buffered,analog-sa', 'noise.programming.sigma=0.05'], ['cascade', 'neural-pim'], 3);
    const { rows } = await rowsOf(file);
    const svg = await accuracySvg(file, rows);
    expectWellFormed(svg);
    expect(pointSymbols(svg)).toBe(6);
    expect(svg).toContain('mark-rule role-mark');
  });

  it('no results yet: a placeholder, still well formed', async () => {
    const file = sweepFile(['noise.programming.sigma=0:0.1:3']);
    const svg = await accuracySvg(file, []);
    expectWellFormed(svg);
    expect(svg).toContain('no results yet');
    const html = reportHtml({ def: file, rows: [], results: [], gridTasks: 18, accuracySvg: svg, conversionsSvg: svg });
    expectWellFormed(html);
    expect(html).toContain('0 of 18');
  });

  it('escapes what it shows', () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    const file = sweepFile(['noise.programming.sigma=0']);
    const html = reportHtml({ def: { ...file, model: { path: '<evil>&.onnx', sha256: 'x' } }, rows: [], results: [], gridTasks: 1, accuracySvg: '<svg></svg>', conversionsSvg: '<svg></svg>' });
    expect(html).toContain('&lt;evil&gt;&amp;.onnx');
    expectWellFormed(html);
  });
});
