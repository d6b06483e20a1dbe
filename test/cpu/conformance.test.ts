import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { readManifest, readSkips, runNodeTest, skipIsJustified, summarize, type CaseResult } from '../helpers/conformance.ts';

const CFG = resolveConfig({ preset: 'ideal' });

/** --digital on the CPU executor. */
async function cpu(net: Network, x: Float32Array, B: number): Promise<Float32Array> {
  const r = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

describe('ONNX backend node tests on the CPU executor (issue 12)', () => {
  const rows = readManifest();
  const skips = readSkips();

  it('skips.json lists only tests that exist, each with a reason the manifest confirms', () => {
    const names = new Set(rows.map((r) => r.name));
    const listed = [...Object.keys(skips.skip), ...Object.keys(skips.refuse)];
    expect(listed.filter((n) => !names.has(n))).toEqual([]);
    expect(rows.filter((r) => skips.skip[r.name]).map((r) => skipIsJustified(r, skips.skip[r.name])).filter((e) => e)).toEqual([]);
  });

  it('every test of every claimed op passes, or is skipped or refused as skips.json says', async () => {
    const results: CaseResult[] = [];
    for (const row of rows) results.push(await runNodeTest(row, skips, cpu));
    console.log(`ONNX conformance on the CPU executor:\n${summarize(results)}`);
    expect(results.filter((r) => r.outcome === 'failed').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.filter((r) => r.outcome === 'passed').length).toBeGreaterThan(450);
  });
});
