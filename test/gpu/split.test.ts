// Layers larger than one storage binding (issue 10 item 13, issue 12 item 7): the same device seen
// through a session with a tiny maxStorageBufferBindingSize, so that every splitting path runs
// (column slices of conductances, row windows of inputs and outputs, column blocks of f32 weights,
// im2col windows, per-pixel chunks of a convolution). Every binding a kernel makes is checked against
// that limit, so a run that succeeds there bound nothing larger; its results must equal the unsplit
// run bit for bit, and the CPU reference as the other GPU tests do.
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config, integerProduct, problem } from '../helpers/vmm-cases.ts';
import { NOISY } from '../helpers/golden.ts';
import { readBuffer, uploadStorage } from '../../src/gpu/buffers.ts';
import { withLimits, type GpuSession } from '../../src/gpu/runtime.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { OpEncoder } from '../../src/gpu/encoder.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { columnSlices, planeLayout } from '../../src/kernels/program.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { convF32Ref, linearF32Ref, encodeConvF32, encodeLinearF32, prepareConvF32, prepareLinearF32 } from '../../src/nn/ops/matrix.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import type { ConvOp, LinearOp } from '../../src/ir/graph.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

const KiB = 1024;
const tiny = (bytes: number): GpuSession => withLimits(gpu!.session, { maxStorageBufferBindingSize: bytes });
const backend = (session: GpuSession): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session });

/** Records into a fresh encoder, submits, reads `out` back and frees everything. */
async function runRecorded(s: GpuSession, record: (e: OpEncoder) => GPUBuffer, bytes: number): Promise<Float32Array> {
  const { device } = s.ctx;
  const temps: GPUBuffer[] = [];
  const e: OpEncoder = {
    session: s,
    encoder: device.createCommandEncoder(),
    alloc: (n, label) => {
      const b = device.createBuffer({ size: Math.max(16, Math.ceil(n / 4) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
      temps.push(b);
      return b;
    },
    temp: (b) => (temps.push(b), b),
  };
  try {
    const out = record(e);
    device.queue.submit([e.encoder.finish()]);
    const got = new Float32Array(await readBuffer(device, out, bytes));
    s.ctx.checkErrors();
    return got;
  } finally {
    for (const b of temps) b.destroy();
  }
}

describe.skipIf(!gpu)('crossbar layers larger than one storage binding', () => {
  const LIMIT = 40 * KiB;
  const cases: [string, XbarConfigInput][] = [
    ['isaac', { preset: 'isaac', ...NOISY }],
    ['prime', { preset: 'prime', ...NOISY }],
    ['cascade', { preset: 'cascade', ...NOISY }],
    ['neural-pim', { preset: 'neural-pim', ...NOISY }],
    ['neural-pim proportional', { preset: 'neural-pim', ...NOISY, noise: { ...NOISY.noise, read: { sigma: 0.05, model: 'proportional' } } }],
    ['digital-sa analog subtract', { preset: 'cascade', dataflow: 'digital-sa', adc: { subtract: 'analog', bits: 7, range: 'full' }, noise: { read: { sigma: 0.02, model: 'additive' } } }],
  ];
  it.each(cases)('%s: column slices give the unsplit results bit for bit', async (_n, over) => {
    const cfg = resolveConfig(over);
    const { W, X } = problem(150, 37, 19, true, 1234);
    const g = programLayer(W.data, 150, 37, cfg).geom;
    expect(columnSlices(tiny(LIMIT), g, planeLayout(g, cfg)).length).toBeGreaterThan(1);
    for (const chip of [0, 2]) {
      const whole = await simulateVmm(backend(gpu!.session), cfg, W, X, { chip });
      const split = await simulateVmm(backend(tiny(LIMIT)), cfg, W, X, { chip });
      expect(Array.from(split.Y)).toEqual(Array.from(whole.Y));
      expect(split.counts).toEqual(whole.counts);
      expect(split.calibratedHi).toBe(whole.calibratedHi);
      expect(split.compensation).toBe(whole.compensation);
    }
  });

  it('ideal ADC: a split layer equals the integer product (the CPU reference of section 3)', async () => {
    const cfg = config({ preset: 'ideal', array: { rows: 32, cols: 32 } });
    const { W, X } = problem(150, 37, 19, true, 77);
    const r = await simulateVmm(backend(tiny(40 * KiB)), cfg, W, X);
    const layer = programLayer(W.data, 150, 37, cfg);
    const want = integerProduct(layer.q, layer.sw, quantizeInputs(X.data, r.sx, layer.geom.Qx), r.sx, X.rows, 150, 37);
    expect(maxAbsDiff(r.Y, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
  });

  it('inputs and outputs larger than one binding run in row windows, from an unaligned first row', async () => {
    const cfg = resolveConfig({ preset: 'isaac', ...NOISY });
    const K = 150, N = 37, rows = 100, start = 3;
    const layer = programLayer(randomArray(K * N, 5), K, N, cfg);
    const x = randomArray((start + rows) * K, 6, 0, 1);
    const run = async (s: GpuSession): Promise<Float32Array> => {
      const gl = GpuCrossbarLayer.upload(s, layer, cfg, blockRanges(layer.geom, cfg, 40), { layerIndex: 1, bias: randomArray(N, 7) });
      const chip = gl.programChip(cfg.seed, 1);
      try {
        return await runRecorded(
          s,
          (e) => {
            const input = e.temp(uploadStorage(s.ctx.device, x, 'x'));
            const out = e.alloc((start + rows) * N * 4 + 4, 'y');
            const neg = e.alloc(16, 'neg');
            e.encoder.clearBuffer(out);
            e.encoder.clearBuffer(neg);
            gl.encode(e, chip, { input, out, rows, rowStart: start, rowOffset: 10, sxq: 1 / 255, outScale: 1 / 255, negCounter: neg });
            e.encoder.copyBufferToBuffer(neg, 0, out, (start + rows) * N * 4, 4);
            return out;
          },
          (start + rows) * N * 4 + 4,
        );
      } finally {
        chip.destroy();
        gl.destroy();
      }
    };
    const whole = await run(gpu!.session);
    const split = await run(tiny(40 * KiB));
    expect(Array.from(split)).toEqual(Array.from(whole));
    expect(whole.subarray(0, start * N).every((v) => v === 0)).toBe(true);
  });
});

describe.skipIf(!gpu)('f32 layers (--digital) larger than one storage binding', () => {
  it('a linear layer: column blocks of W, row windows of x, of the padded product and of y', async () => {
    const K = 300, N = 70, M = 60;
    const op: LinearOp = { inputs: ['x'], output: 'y', kind: 'linear', name: 'fc', layerIndex: 0, K, N, inShape: [K], weight: randomArray(K * N, 1), bias: randomArray(N, 2) };
    const x = randomArray(M * K, 3);
    const run = (s: GpuSession): Promise<Float32Array> => {
      const w = prepareLinearF32(s, op);
      return runRecorded(s, (e) => encodeLinearF32(e, w, { shape: [M, K], buf: e.temp(uploadStorage(s.ctx.device, x, 'x')) }, M).buf, M * N * 4).finally(() => w.destroy());
    };
    const whole = await run(gpu!.session);
    const split = await run(tiny(16 * KiB));
    expect(Array.from(split)).toEqual(Array.from(whole));
    const want = linearF32Ref(op, { shape: [M, K], data: x }, M).data;
    expect(maxAbsDiff(split, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
  });

  it('a convolution whose one sample exceeds a binding: chunks of output pixels', async () => {
    const cin = 6, cout = 10, group = 2, H = 30, W = 30, B = 2;
    const op: ConvOp = {
      inputs: ['x'], output: 'y', kind: 'conv', name: 'conv', layerIndex: 0,
      weight: randomArray(cout * (cin / group) * 9, 4), bias: randomArray(cout, 5),
      cin, cout, group, kh: 3, kw: 3, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1],
      inShape: [cin, H, W], outShape: [cout, H, W],
    };
    const x = randomArray(B * cin * H * W, 6);
    const bytes = B * cout * H * W * 4;
    const run = (s: GpuSession): Promise<Float32Array> => {
      const w = prepareConvF32(s, op);
      return runRecorded(s, (e) => encodeConvF32(e, w, { shape: [B, cin, H, W], buf: e.temp(uploadStorage(s.ctx.device, x, 'x')) }, B).buf, bytes).finally(() => w.destroy());
    };
    const whole = await run(gpu!.session);
    // One sample's im2col rows (900 × 27 floats) need 97 KB; the batch's input and output 43 and 72 KB.
    const split = await run(tiny(80 * KiB));
    expect(Array.from(split)).toEqual(Array.from(whole));
    const want = convF32Ref(op, { shape: [B, cin, H, W], data: x }, B).data;
    expect(maxAbsDiff(split, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
  });
});

describe.skipIf(!gpu)('networks whose layers exceed one storage binding', () => {
  const cases: [string, string, XbarConfigInput | null, number][] = [
    // LeNet-5 at 64 KiB: conv1's im2col (78 KB a sample) in windows, fc1's conductances in slices.
    ['lenet5 cascade', 'models/lenet5.onnx', { preset: 'cascade', ...NOISY }, 64 * KiB],
    ['lenet5 digital', 'models/lenet5.onnx', null, 64 * KiB],
    ['mlp neural-pim', 'models/mlp.onnx', { preset: 'neural-pim', ...NOISY }, 256 * KiB],
  ];
  it.each(cases)('%s: the same outputs as with whole bindings', async (_n, model, over, limit) => {
    const net = loadModel(model);
    const cfg = resolveConfig(over ?? { preset: 'ideal' });
    const data = mnistEvalData(net.input.shape, 8, 8);
    const outputs = async (s: GpuSession): Promise<Float32Array> => {
      const runner = openNetwork(backend(s), net, cfg, over === null);
      try {
        await runner.calibrate(data.calibration!.x, data.calibration!.n);
        const handle = over === null ? null : await runner.program(3);
        const parts: Float32Array[] = [];
        // The split session fits fewer samples per batch; results never depend on the batch.
        for (let s0 = 0; s0 < data.n; s0 += runner.maxBatch) {
          const B = Math.min(runner.maxBatch, data.n - s0);
          parts.push((await runner.forward(handle, data.x.subarray(s0 * 784, (s0 + B) * 784), B, s0)).output);
        }
        handle?.release();
        return Float32Array.from(parts.flatMap((p) => Array.from(p)));
      } finally {
        runner.destroy();
      }
    };
    const whole = await outputs(gpu!.session);
    const split = await outputs(tiny(limit));
    expect(Array.from(split)).toEqual(Array.from(whole));
  });
});
