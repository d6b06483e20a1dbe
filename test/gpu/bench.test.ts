// The benchmark runner as users run it (`npm run bench -- …`), on the smallest cases: the record it
// writes, the markdown it prints, --quick's batch, and its refusals. Figures are not asserted
// (performance is measured in bench/, never by timing in tests).
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { runBench } from '../helpers/bench.ts';
import { QUICK_IMAGES } from '../../bench/core/suite.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const bench = (args: string[]) => runBench('node', args, 280_000);

describe.skipIf(!gpu)('npm run bench', () => {
  it('--quick on one kernel case and the MLP: a JSON record (adapter, timing, every figure) and a markdown table; the quick batch and calibration are said', () => {
    const r = bench(['--quick', '--only', '^(kernel/neural-pim/K256/B256|network/mlp/isaac)$']);
    expect(r.code, r.stderr).toBe(0);
    const run = r.record!;
    expect(run.schema).toBe('xbarsim-bench/1');
    expect(run.runner).toBe('node');
    expect(run.adapter.line.length).toBeGreaterThan(0);
    expect(['timestamp-query', 'wall']).toContain(run.gpuTiming);
    expect(run.options).toMatchObject({ quick: true, runs: 5, images: QUICK_IMAGES });
    expect(run.cases.map((c) => c.id)).toEqual(['kernel/neural-pim/K256/B256', 'network/mlp/isaac']);
    const [kernel, net] = run.cases;
    expect(kernel.kind).toBe('kernel');
    expect(net).toMatchObject({ kind: 'network', images: QUICK_IMAGES, calSamples: QUICK_IMAGES });
    if (net.kind === 'network') {
      expect(net.forward.runs).toHaveLength(5);
      expect(net.accuracy).toBeGreaterThan(0.5);
      expect(net.note).toMatch(/--quick/);
    }
    expect(r.stdout).toMatch(/## xbarsim bench \(node, --quick\)/);
    expect(r.stdout).toMatch(/\| neural-pim \| analog-sa \| 256 \| 256 \|/);
    expect(r.stdout).toMatch(/\| mlp \| isaac \| [\d.]+ \| 32 \|/);
    expect(r.stdout).toMatch(/### Targets \(issue 16\)/);
  }, 300_000);

  it('--tiles runs the kernel at that tiling without tuning and says so; a tiling the adapter cannot run is one line, exit 1', () => {
    const r = bench(['--only', '^kernel/isaac/K256/B1$', '--tiles', 'reg tm2 8x8 pc4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.record!.tuning).toEqual({ tiles: 'reg tm2 8x8 pc4', source: 'option', timings: {} });
    expect(r.record!.options.tiles).toBe('reg tm2 8x8 pc4');
    const [kernel] = r.record!.cases;
    expect(kernel.kind === 'kernel' && kernel.tiles).toBe('reg tm2 8x8 pc4');
    expect(r.stdout).toMatch(/Tiling: reg tm2 8x8 pc4 \(set by --tiles\)/);
    if (gpu!.session.ctx.adapter.isSoftware) {
      // CPU drivers run the register tilings only (src/kernels/autotune.ts tuningCandidates), at any TM.
      const shared = bench(['--only', '^kernel/isaac/K256/B1$', '--tiles', 'shared tm4 16x4 pc4 kt32']);
      expect(shared.code).toBe(1);
      expect(shared.record).toBeNull();
      const own = shared.stderr.split('\n').filter((l) => l.startsWith('bench:'));
      expect(own).toEqual([expect.stringMatching(/^bench: --tiles shared tm4 16x4 pc4 kt32: not a tiling this adapter runs \(reg tm4 8x8 pc4, /)]);
    }
  }, 300_000);

  it('bad flags: one line naming the flag and the allowed values, exit 2, no record', () => {
    for (const [args, msg] of [
      [['--runs', '3'], /--runs 3: an integer from 5 to 100/],
      [['--images', '0'], /--images 0: an integer from 1 to 4096/],
      [['--only', '('], /--only \(: not a regular expression/],
      [['--tiles', 'reg tm3 8x8 pc4'], /--tiles reg tm3 8x8 pc4: one of "reg tm4 8x8 pc4"/],
    ] as const) {
      const r = bench([...args]);
      expect(r.code).toBe(2);
      expect(r.record).toBeNull();
      const own = r.stderr.split('\n').filter((l) => l.startsWith('bench:'));
      expect(own).toHaveLength(1);
      expect(own[0]).toMatch(msg);
    }
  }, 300_000);
});
