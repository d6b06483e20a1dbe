// `npm run bench:browser`: the same suite in headless Chromium (WebGPU on SwiftShader), its record
// handed back to Node. One small network case: the record and the table, not the figures.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBench } from '../helpers/bench.ts';
import { CHROMIUM } from '../helpers/browser.ts';
import { IN_CI } from '../helpers/gpu.ts';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (IN_CI) throw new Error(`CI=true but ${CHROMIUM} is missing: install Debian's chromium`);
  console.warn(`SKIP browser bench suite: ${CHROMIUM} not found`);
}

describe.skipIf(!hasChromium)('npm run bench:browser', () => {
  it('runs the shared case code in the page: a browser record with the page adapter, the MLP at the given batch, a markdown table', () => {
    const r = runBench('browser', ['--quick', '--only', '^network/mlp/isaac$', '--images', '8'], 300_000);
    expect(r.code, r.stderr).toBe(0);
    const run = r.record!;
    expect(run).toMatchObject({ schema: 'xbarsim-bench/1', runner: 'browser', options: { quick: true, runs: 5, images: 8 } });
    expect(run.adapter.source).toBe('navigator.gpu');
    expect(run.cases).toHaveLength(1);
    expect(run.cases[0]).toMatchObject({ id: 'network/mlp/isaac', kind: 'network', images: 8, calSamples: 8 });
    if (run.cases[0].kind === 'network') {
      expect(run.cases[0].forward.runs).toHaveLength(5);
      expect(run.cases[0].accuracy).toBeGreaterThan(0.5);
    }
    expect(r.stdout).toMatch(/## xbarsim bench \(browser, --quick\)/);
    expect(r.stdout).toMatch(/\| mlp \| isaac \| [\d.]+ \| 8 \|/);
  }, 320_000);
});
