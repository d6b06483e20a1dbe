// npm run bench:net — images per second of a shipped network on MNIST through simulated chips, on
// this machine's WebGPU adapter and on the CPU reference, side by side in one run (read noise on).
// Calibration and chip programming are not timed. Usage: npm run bench:net [-- --model models/lenet5.onnx
// --presets isaac,neural-pim --images 256 --cpu-images 8 --read-sigma 0.01]
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/schema.ts';
import type { Backend } from '../src/gpu/backend.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { mnistEvalData } from '../src/io/datasets/eval-data.ts';
import { evaluateChip } from '../src/nn/evaluate.ts';
import { openNetwork } from '../src/nn/runner.ts';
import { loadModel } from '../src/nn/load-model.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/lenet5.onnx' },
    presets: { type: 'string', default: 'isaac,neural-pim' },
    images: { type: 'string', default: '256' },
    'cpu-images': { type: 'string', default: '8' },
    'read-sigma': { type: 'string', default: '0.01' },
  },
});

const runtime = new GpuRuntime(() => openNodeGpu((l) => console.error(l)));
const s = await runtime.session();
if (!s) {
  console.error('bench:net needs a WebGPU adapter');
  process.exit(1);
}
const net = loadModel(values.model);
const gpu: Backend = { kind: 'webgpu', runtime, session: s };
const cpu: Backend = { kind: 'cpu', reason: 'bench' };
console.log(`adapter: ${adapterLine(s.ctx.adapter)} [${s.ctx.adapter.source}]`);
console.log(`${values.model} on MNIST test digits; read noise sigma ${values['read-sigma']} (additive); forward passes timed, calibration and programming not`);
console.log('| preset | GPU images | GPU images/s | GPU accuracy | CPU images | CPU images/s | GPU/CPU |');
console.log('|---|---|---|---|---|---|---|');
for (const preset of values.presets.split(',')) {
  const cfg = resolveConfig({ preset, noise: { read: { sigma: Number(values['read-sigma']), model: 'additive' } } });
  const rate = async (backend: Backend, images: number): Promise<{ ips: number; acc: number }> => {
    const data = mnistEvalData(net.input.shape, images, cfg.calibration.samples);
    const runner = openNetwork(backend, net, cfg, false);
    try {
      await runner.calibrate(data.calibration!.x, data.calibration!.n);
      await evaluateChip(runner, { ...data, n: Math.min(8, data.n) }, 0, false); // warm-up: pipelines compile
      const r = await evaluateChip(runner, data, 0, false);
      return { ips: data.n / r.seconds, acc: r.accuracy };
    } finally {
      runner.destroy();
    }
  };
  const g = await rate(gpu, Number(values.images));
  const c = await rate(cpu, Number(values['cpu-images']));
  console.log(`| ${preset} | ${values.images} | ${g.ips.toFixed(1)} | ${(100 * g.acc).toFixed(2)}% | ${values['cpu-images']} | ${c.ips.toFixed(2)} | ${(g.ips / c.ips).toFixed(0)}x |`);
}
runtime.release();
