import { performance } from 'node:perf_hooks';
import { deviceRange } from '../config/device.ts';
import { applyOverrides } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';
import { hasStaticNoise } from '../crossbar/chip.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { programLayer } from '../crossbar/program.ts';
import { UsageError } from '../errors.ts';
import { checkFinite, readNpyFile, writeNpyFloat32 } from '../io/npy.ts';
import { checkOutputs } from '../io/atomic-write.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { perturbConductancesRef } from '../reference/chip.ts';
import { configFromFlags, intFlag } from './vmm.ts';

/** Flags of `xbarsim program` (DESIGN.md section 12). */
export interface ProgramFlags {
  weights: string;
  out: string;
  config?: string;
  preset?: string;
  chips?: string;
  time?: string;
  seed?: string;
}

/** Parses a number flag >= 0 (decimal or exponent notation), or throws a one-line usage error naming it. */
export function nonNegativeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`${name}: must be a number >= 0 (got ${value})`);
  return v;
}

/**
 * The static state of chips 0..chips−1 of W [K, N] in µS, float32 [chips, K, S, pol, N]: programming
 * noise, stuck-at faults and drift to noise.time (or section 4's drift), never per-read noise; the
 * layer index of the noise counters is 0, as for `xbarsim vmm`, so chip c here is chip c there.
 */
export function programmedChips(cfg: XbarConfig, W: ArrayLike<number>, K: number, N: number, chips: number): { G: Float32Array; S: number; pol: number } {
  const layer = programLayer(W, K, N, cfg);
  const { S, pol } = layer.geom;
  const gMax = deviceRange(cfg).gMax;
  const per = K * S * pol * N;
  const G = new Float32Array(chips * per);
  for (let c = 0; c < chips; c++) {
    const cells = hasStaticNoise(cfg) ? perturbConductancesRef(layer, cfg, { seed: cfg.seed, chip: c, layer: 0 }) : layer.G;
    for (let i = 0; i < per; i++) G[c * per + i] = cells[i] * gMax;
  }
  return { G, S, pol };
}

/** `xbarsim program`: writes programmed chips' conductances in µS; returns nothing, writes one file. */
export async function runProgram(f: ProgramFlags): Promise<void> {
  let cfg = configFromFlags(f.config, f.preset);
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  if (seed !== undefined) cfg = { ...cfg, seed };
  const chips = intFlag('--chips', f.chips, 1, 100000) ?? 1;
  const time = nonNegativeFlag('--time', f.time);
  if (time !== undefined) {
    if (cfg.noise.device.model === 'none') {
      throw new UsageError('--time: sets noise.time, which only the device models use; this config has no noise.device.model (section 4 drift takes noise.drift.t)');
    }
    try {
      cfg = applyOverrides(cfg, 'noise.time', time);
    } catch (e) {
      throw new UsageError(`--time ${f.time}: ${(e as Error).message.replace(/^config: /, '')}`);
    }
  }
  const what = `--weights ${f.weights}`;
  const a = readNpyFile(f.weights, what);
  checkFinite(a.data, a.shape, what);
  if (a.shape.length !== 2 && a.shape.length !== 1) throw new UsageError(`${what}: must be 2-D [K, N] (got shape [${a.shape.join(', ')}])`);
  const [K, N] = a.shape.length === 2 ? a.shape : [1, a.shape[0]];
  const geom = layerGeometry(K, N, cfg);
  const bytes = chips * K * geom.S * geom.pol * N * 4;
  if (bytes > 2 ** 31) throw new UsageError(`--chips ${chips}: the output would be ${bytes} bytes; program fewer chips per file`);
  checkOutputs([{ flag: '--out', path: f.out }], [{ flag: '--weights', path: f.weights }, ...(f.config !== undefined ? [{ flag: '--config', path: f.config }] : [])]);

  const t0 = performance.now();
  const { G, S, pol } = programmedChips(cfg, a.data, K, N, chips);
  writeNpyFloat32(f.out, [chips, K, S, pol, N], G, `--out ${f.out}`);
  const { gMax, gMin } = deviceRange(cfg);
  const model = cfg.noise.device.model === 'none' ? 'section 4 noise' : `${cfg.noise.device.model} at t = ${cfg.noise.time} s`;
  stderrLine(
    `xbarsim program: G [${chips}, ${K}, ${S}, ${pol}, ${N}] µS -> ${f.out} | ${model}, gMax ${gMax} µS, gMin ${+gMin.toPrecision(6)} µS | ${(performance.now() - t0).toFixed(0)} ms on the CPU reference`,
  );
}
