import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { parseNpy } from '../../src/io/npy.ts';
import { perturbConductancesRef } from '../../src/reference/chip.ts';
import { buildPoints } from '../../src/sweep/grid.ts';
import { parseVary } from '../../src/sweep/spec.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';

let dir: string;
let W: string;
const K = 30;
const N = 7;
const w = randomArray(K * N, 4);
beforeAll(() => {
  dir = tempDir();
  W = writeNpy(dir, 'W.npy', [K, N], w, '<f8');
});

const read = (p: string) => parseNpy(readFileSync(p), p);

describe('xbarsim program', () => {
  it('writes [chips, K, S, pol, N] float32 µS: the noise-free chip is (Gmin + d·ΔG)·gMax', () => {
    const out = join(dir, 'ideal.npy');
    const r = runCli(['program', '--weights', W, '--preset', 'neural-pim', '--chips', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const g = read(out);
    const cfg = resolveConfig({ preset: 'neural-pim' });
    const layer = programLayer(w, K, N, cfg);
    expect(g.dtype).toBe('<f4');
    expect(g.shape).toEqual([2, K, layer.geom.S, 2, N]);
    for (let i = 0; i < layer.G.length; i++) {
      expect(g.data[i]).toBe(Math.fround(layer.G[i] * 25));
      expect(g.data[layer.G.length + i]).toBe(g.data[i]);
    }
    expect(r.ownStderrLines.join(' ')).toMatch(/G \[2, 30, 7, 2, 7\] µS .* gMax 25 µS, gMin 0\.25 µS/);
  });

  it('chip c is the chip vmm --chip c simulates; --time sets noise.time; chips differ', () => {
    const cfgFile = join(dir, 'pcm.json');
    writeFileSync(cfgFile, JSON.stringify({ preset: 'cascade', noise: { device: { model: 'pcm-joshi2020' } }, seed: 3 }));
    const out = join(dir, 'pcm.npy');
    const r = runCli(['program', '--weights', W, '--config', cfgFile, '--chips', '3', '--time', '86400', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const g = read(out);
    const cfg = resolveConfig({ preset: 'cascade', noise: { device: { model: 'pcm-joshi2020' }, time: 86400 }, seed: 3 });
    const layer = programLayer(w, K, N, cfg);
    const n = layer.G.length;
    for (const chip of [0, 2]) {
      const want = perturbConductancesRef(layer, cfg, { seed: 3, chip, layer: 0 });
      for (let i = 0; i < n; i++) expect(g.data[chip * n + i]).toBe(Math.fround(want[i] * 25));
    }
    expect(Array.from(g.data.subarray(0, n))).not.toEqual(Array.from(g.data.subarray(n, 2 * n)));
    const early = join(dir, 'pcm0.npy');
    expect(runCli(['program', '--weights', W, '--config', cfgFile, '--out', early]).code).toBe(0);
    // Drift only lowers PCM conductances: one day later every programmed cell is at most what it was.
    const g0 = read(early).data;
    let lower = 0;
    for (let i = 0; i < n; i++) if (g.data[i] < g0[i]) lower++;
    expect(g0.length).toBe(n);
    expect(lower).toBeGreaterThan(0.9 * Array.from(g0).filter((v) => v > 0).length);
    for (let i = 0; i < n; i++) expect(g.data[i]).toBeLessThanOrEqual(g0[i]);
  });

  it('bad input is one line, exit 2, nothing written', () => {
    const out = join(dir, 'none.npy');
    const noModel = runCli(['program', '--weights', W, '--preset', 'isaac', '--time', '10', '--out', out]);
    expect(noModel.code).toBe(2);
    expect(noModel.ownStderrLines).toHaveLength(1);
    expect(noModel.ownStderrLines[0]).toMatch(/--time: sets noise\.time, which only the device models use/);
    const wan = join(dir, 'wan.json');
    writeFileSync(wan, JSON.stringify({ noise: { device: { model: 'reram-wan2022' } } }));
    const badTime = runCli(['program', '--weights', W, '--config', wan, '--time', '3600', '--out', out]);
    expect(badTime.code).toBe(2);
    expect(badTime.ownStderrLines[0]).toMatch(/--time 3600: noise\.time: must be one of 0, 1, 86400, 172800 s/);
    expect(runCli(['program', '--weights', W, '--preset', 'isaac', '--chips', '0', '--out', out]).code).toBe(2);
    expect(runCli(['program', '--weights', W, '--out', out]).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('noise.time is a sweepable config path', () => {
  it('--vary noise.time=log:3600:315360000:6 goes from one hour to ten years', () => {
    const v = parseVary('noise.time=log:3600:315360000:6');
    expect(v.values).toHaveLength(6);
    expect(v.values[0]).toBe(3600);
    expect(v.values[5]).toBe(315360000);
    const base = resolveConfig({ preset: 'neural-pim', noise: { device: { model: 'pcm-joshi2020' } } });
    const points = buildPoints([{ label: 'neural-pim', config: base }], [v]);
    expect(points.map((p) => p.config.noise.time)).toEqual(v.values);
    expect(points.every((p) => p.config.noise.device.model === 'pcm-joshi2020')).toBe(true);
    expect(() => buildPoints([{ label: 'wan', config: resolveConfig({ noise: { device: { model: 'reram-wan2022' } } }) }], [v])).toThrow(/--vary noise\.time=.*must be one of 0, 1, 86400, 172800/);
  });
});
