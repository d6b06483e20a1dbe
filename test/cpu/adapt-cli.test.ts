// `xbarsim adapt` end to end on the MNIST MLP at a fixed noisy config: training lowers the loss and
// raises accuracy over no adapters, `eval --adapters` reproduces the accuracy adapt reported, a
// resumed run equals an uninterrupted one, and bad input exits 2 writing nothing.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';
import { MLP } from '../helpers/adapters.ts';
import { usageMessage } from '../helpers/errors.ts';
import { layerNames } from '../../src/cli/adapt-common.ts';

const dir = mkdtempSync(join(tmpdir(), 'xbarsim-adapt-'));
const cfg = join(dir, 'noisy.json');
// One input cycle and one 8-bit slice (fast on the CPU), an 8-bit ADC and heavy programming noise:
// the MLP (97.5% digital) drops to about 50%.
writeFileSync(cfg, JSON.stringify({ preset: 'prime', inputs: { dacBits: 8 }, weights: { cellBits: 8, mapping: 'differential' }, adc: { bits: 8 }, noise: { programming: { sigma: 0.15 } }, seed: 4 }));
const base = ['adapt', '--model', MLP, '--dataset', 'mnist', '--config', cfg, '--rank', '4', '--alpha', '8', '--chip', '0', '--lr', '0.003', '--limit', '256', '--holdout', '64', '--eval-limit', '200', '--backend', 'cpu', '--json'];

describe('xbarsim adapt', () => {
  it('lowers the training loss and raises accuracy; eval --adapters reproduces it; resuming equals running on', async () => {
    const out = join(dir, 'a.npz');
    const r = await runMain([...base, '--epochs', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    const log = rep.epochLog as { loss: number; heldOutAccuracy: number }[];
    expect(log).toHaveLength(2);
    expect(log[1].loss).toBeLessThan(0.8 * log[0].loss);
    expect(log[1].heldOutAccuracy).toBeGreaterThan(log[0].heldOutAccuracy);
    expect(rep.evaluation.accuracyWith).toBeGreaterThan(rep.evaluation.accuracyWithout + 0.1);
    expect(rep.mode).toBe('on-chip');
    expect(rep.adapterParams).toBe(4 * (784 + 256) + 4 * (256 + 128) + 4 * (128 + 10));

    const ev = await runMain(['eval', '--model', MLP, '--dataset', 'mnist', '--config', cfg, '--limit', '200', '--chips', '1', '--adapters', out, '--backend', 'cpu', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).chips[0].accuracy).toBe(rep.evaluation.accuracyWith);

    // One epoch, then --resume to two: the same file as two epochs in one go.
    const out2 = join(dir, 'b.npz');
    expect((await runMain([...base, '--epochs', '1', '--out', out2])).code).toBe(0);
    const again = await runMain([...base, '--epochs', '1', '--out', out2]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/checkpoint .* exists; pass --resume/);
    const res = await runMain([...base, '--epochs', '2', '--out', out2, '--resume']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).epochLog).toEqual(log);
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it('--init rrr: the closed-form fit on the training chip raises accuracy with almost no training (lr 1e-4, 2 steps)', async () => {
    const out = join(dir, 'rrr.json');
    const args = base.map((a, i) => (base[i - 1] === '--limit' ? '64' : a));
    const r = await runMain([...args, '--init', 'rrr', '--lr', '0.0001', '--epochs', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.evaluation.accuracyWith).toBeGreaterThan(rep.evaluation.accuracyWithout + 0.1);
    expect(Object.keys(JSON.parse(readFileSync(out, 'utf8')))).toEqual(['fc1', 'fc2', 'fc3']);
  });

  it.each([
    [['--rank', '0'], /--rank: must be an integer 1–4096/],
    [['--alpha', 'x'], /--alpha: must be a number/],
    [['--layers', 'conv9'], /--layers: "conv9" is not a linear .*allowed: fc1, fc2, fc3/],
    [['--init', 'svd'], /--init/],
    [['--out', join(dir, 'x.txt')], /--out .*x.txt: unknown file type \(allowed: .npz, .json\)/],
  ])('refuses %j with one line, exit 2, nothing written', async (extra, re) => {
    const out = join(dir, 'never.npz');
    const args = [...base, '--epochs', '1', '--out', out];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i]);
      if (at >= 0) args.splice(at, 2);
    }
    const r = await runMain([...args, ...extra]);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--layers', () => {
  it('each name once, in the order given; an empty list is one line naming what to give', () => {
    expect(layerNames('fc2, fc1,fc2,,fc1', 'linear')).toEqual(['fc2', 'fc1']);
    expect(layerNames(undefined, 'linear')).toBeNull();
    expect(usageMessage(() => layerNames(' , ', 'linear or conv'))).toBe('--layers: give one or more linear or conv layer names, comma-separated');
  });
});
