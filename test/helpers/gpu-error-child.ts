// Test-only entry point: one GPU failure that cascades (a buffer over maxBufferSize, then the bind
// group, pass and submit that use it), reported the way the CLI reports a runtime failure.
// Run: node --import ./bin/register.js test/helpers/gpu-error-child.ts
import { messageOf } from '../../src/errors.ts';
import { openNodeGpu } from '../../src/gpu/node-gpu.ts';

const ctx = await openNodeGpu((line) => process.stderr.write(`${line}\n`));
if (!ctx) {
  process.stderr.write('no adapter\n');
  process.exit(3);
}
const { device } = ctx;
const big = device.createBuffer({ size: ctx.limits.maxBufferSize + 4, usage: GPUBufferUsage.STORAGE, label: 'too.big' });
const module = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = 1.0; }' });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: big } }] });
const enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(pipeline);
pass.setBindGroup(0, bind);
pass.dispatchWorkgroups(1);
pass.end();
device.queue.submit([enc.finish()]);
await device.queue.onSubmittedWorkDone();
try {
  ctx.checkErrors();
  process.exitCode = 0;
} catch (e) {
  process.stderr.write(`xbarsim: error: ${messageOf(e)}\n`);
  process.exitCode = 1;
} finally {
  ctx.destroy();
}
