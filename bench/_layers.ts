import { resolveConfig } from '../src/config/schema.ts';
import { blockRanges } from '../src/crossbar/adc.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { GpuCrossbarLayer } from '../src/kernels/xbar.ts';
import { planGemm } from '../src/kernels/gemm.ts';
const runtime = new GpuRuntime(() => openNodeGpu(() => {}));
const s = (await runtime.session())!;
const preset = process.argv[2] ?? 'ideal';
const cfg = resolveConfig({ preset });
for (const [name, K, N, B] of [['conv1', 25, 6, 78400], ['conv2', 150, 16, 10000], ['fc1', 400, 120, 100], ['sq256', 256, 256, 256]] as const) {
  const W = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 1.3));
  const X = Float32Array.from({ length: B * K }, (_, i) => Math.abs(Math.sin(i * 0.7)));
  const layer = programLayer(W, K, N, cfg);
  const gl = GpuCrossbarLayer.upload(s, layer, cfg, blockRanges(layer.geom, cfg, 10));
  const chip = gl.programChip(0, 0);
  let t = performance.now();
  await gl.run(chip, X, B, { sxq: 1 / 255, outScale: 1 });
  const first = performance.now() - t;
  const ts: number[] = [];
  for (let i = 0; i < 3; i++) { t = performance.now(); await gl.run(chip, X, B, { sxq: 1 / 255, outScale: 1 }); ts.push(performance.now() - t); }
  const g = planGemm(s, X, W, B, K, N);
  const gs: number[] = [];
  for (let i = 0; i < 4; i++) { t = performance.now(); const e = s.ctx.device.createCommandEncoder(); g.encode(e); s.ctx.device.queue.submit([e.finish()]); await g.read(); gs.push(performance.now() - t); }
  console.log(name, 'first', first.toFixed(0), 'xbar', Math.min(...ts).toFixed(0), 'gemm', Math.min(...gs.slice(1)).toFixed(0), 'cellpasses', layer.geom.T * layer.geom.S * layer.geom.pol);
}
runtime.release();
