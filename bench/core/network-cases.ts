// Network cases: a whole network on simulated chips with read noise on, through the public network
// API (openNetwork / NetworkRunner), as `xbarsim eval` runs it. Node and browser alike.
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { isMatrixOp, sizeOf, type Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { compileMeter, now, timeRuns } from './measure.ts';
import { figure, mapFigure, type Figure } from './stats.ts';

/** One network case: a model under one preset, `images` per timed batch. */
export interface NetworkCaseSpec {
  model: string;
  preset: string;
  images: number;
  calSamples: number;
  readSigma: number;
  /** Images for the CPU reference's rate (0: not measured). */
  cpuImages: number;
  /** Why `images` or `calSamples` differ from the suite's defaults, if they do. */
  note?: string;
}

/** What a network case measured. */
export interface NetworkResult {
  kind: 'network';
  model: string;
  preset: string;
  images: number;
  calSamples: number;
  readSigma: number;
  /** Multiply-accumulates of one inference, and the simulated cell-MACs they become under the preset. */
  macsPerImage: number;
  cellMacsPerImage: number;
  /** Wall time of one forward pass over `images` (upload, every layer, readback), and its rate. */
  forward: Figure;
  imagesPerSecond: Figure;
  /** Programming one chip (static noise, gains) until the GPU is done. */
  program: Figure;
  /** One calibration (DESIGN.md section 6) on `calSamples` inputs, seconds (one run: it is per config). */
  calibrate: number;
  /** The first forward pass minus the median one: pipeline compilation and first-touch allocations. */
  firstForwardExtra: number;
  /** Host time inside createComputePipeline over the whole case, and how many pipelines. */
  compile: { seconds: number; pipelines: number };
  /** Top-1 accuracy of the last timed pass (meaningful for trained models on their dataset only). */
  accuracy: number | null;
  cpu: { images: number; imagesPerSecond: Figure; gpuOverCpu: number } | null;
  timing: 'wall';
  note?: string;
}

/** The config of a network case: the preset with additive read noise. */
export function networkConfig(spec: Pick<NetworkCaseSpec, 'preset' | 'readSigma' | 'calSamples'>): XbarConfig {
  return resolveConfig({ preset: spec.preset, noise: { read: { sigma: spec.readSigma, model: 'additive' } }, calibration: { samples: spec.calSamples } });
}

/** MACs per inference of every Linear/Conv layer, and the cell-MACs they become under `cfg` (all layers analog). */
export function networkMacs(net: Network, cfg: XbarConfig): { macs: number; cellMacs: number } {
  let macs = 0;
  let cellMacs = 0;
  for (const op of net.ops) {
    if (!isMatrixOp(op)) continue;
    const [K, N, vectors, groups] =
      op.kind === 'linear' ? [op.K, op.N, 1, 1] : [(op.cin / op.group) * op.kh * op.kw, op.cout / op.group, op.outShape[1] * op.outShape[2], op.group];
    const g = layerGeometry(K, N, cfg);
    const m = K * N * vectors * groups;
    macs += m;
    cellMacs += m * g.T * g.S * g.pol;
  }
  return { macs, cellMacs };
}

/** Index of the largest of `n` values at `o`. */
function argmax(v: Float32Array, o: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[o + i] > v[o + best]) best = i;
  return best;
}

/** Runs one network case on `backend` (a WebGPU one) with `data` (at least spec.images inputs). */
export async function runNetworkCase(backend: Extract<Backend, { kind: 'webgpu' }>, net: Network, data: EvalData, spec: NetworkCaseSpec, runs: number, labelled: boolean): Promise<NetworkResult> {
  const s = backend.session;
  const { device } = s.ctx;
  const cfg = networkConfig(spec);
  const B = Math.min(spec.images, data.n);
  const x = data.x.subarray(0, B * data.sampleSize);
  const meter = compileMeter(s);
  const runner = openNetwork(backend, net, cfg, false);
  try {
    const cal = data.calibration!;
    let t0 = now();
    await runner.calibrate(cal.x, cal.n);
    const calibrate = now() - t0;
    // Chips 1.. are programmed and released; chip 0 is kept for the forward passes.
    let next = 1;
    const program = figure(await timeRuns(runs, async () => {
      const h = await runner.program(next++);
      await device.queue.onSubmittedWorkDone();
      h.release();
    }), 's');
    const chip = await runner.program(0);
    let out: Float32Array | null = null;
    try {
      t0 = now();
      await runner.forward(chip, x, B, 0);
      const first = now() - t0;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        t0 = now();
        out = (await runner.forward(chip, x, B, 0)).output;
        times.push(now() - t0);
      }
      const forward = figure(times, 's');
      let accuracy: number | null = null;
      if (labelled && out) {
        const classes = out.length / B;
        let correct = 0;
        for (let b = 0; b < B; b++) if (argmax(out, b * classes, classes) === data.labels[b]) correct++;
        accuracy = correct / B;
      }
      const compile = { seconds: meter.seconds(), pipelines: meter.count() };
      const { macs, cellMacs } = networkMacs(net, cfg);
      const imagesPerSecond = mapFigure(forward, 'images/s', (t) => B / t);
      let cpu: NetworkResult['cpu'] = null;
      if (spec.cpuImages > 0) {
        const n = Math.min(spec.cpuImages, B);
        const cpuRunner = openNetwork({ kind: 'cpu', reason: 'bench' }, net, cfg, false);
        try {
          // The GPU's calibration, adopted: the CPU's speed does not depend on it, and calibrating on
          // the CPU reference would take longer than the case itself.
          cpuRunner.adoptCalibration(runner.scales, cal.x, cal.n);
          const h = await cpuRunner.program(0);
          const xs = x.subarray(0, n * data.sampleSize);
          const ips = mapFigure(figure(await timeRuns(runs, () => cpuRunner.forward(h, xs, n, 0)), 's'), 'images/s', (t) => n / t);
          h.release();
          cpu = { images: n, imagesPerSecond: ips, gpuOverCpu: imagesPerSecond.median / ips.median };
        } finally {
          cpuRunner.destroy();
        }
      }
      return {
        kind: 'network',
        model: spec.model,
        preset: spec.preset,
        images: B,
        calSamples: cal.n,
        readSigma: spec.readSigma,
        macsPerImage: macs,
        cellMacsPerImage: cellMacs,
        forward,
        imagesPerSecond,
        program,
        calibrate,
        firstForwardExtra: Math.max(0, first - forward.median),
        compile,
        accuracy,
        cpu,
        timing: 'wall',
        ...(spec.note ? { note: spec.note } : {}),
      };
    } finally {
      chip.release();
    }
  } finally {
    meter.restore();
    runner.destroy();
  }
}
