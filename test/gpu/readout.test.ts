import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { convBnModel } from '../helpers/onnx-models.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

// Until the WGSL readout epilogue lands (issue 14 item 4), the GPU executor must refuse every readout
// model and the digital unit rather than run them as section 3's uniform ADC and f32 epilogue.
describe.skipIf(!gpu)('readout models on WebGPU', () => {
  it.each<[string, XbarConfigInput]>([
    ['nonlinear ADC', { adc: { model: 'nonlinear', nonlinear: { comparatorSigma: 0.2 } } }],
    ['neural ADC', { adc: { model: 'neural' } }],
    ['nonuniform ADC', { adc: { model: 'nonuniform' } }],
    ['NNS+A', { preset: 'neural-pim', analog: { model: 'neural' } }],
    ['digital unit', { digital: {} }],
    ['a layer override', { layers: { '0': { adc: { model: 'neural' } } } }],
  ])('refuses %s', (_name, over) => {
    const m = convBnModel();
    const net = importOnnx(m.bytes, m.name);
    expect(() => openNetwork(GPU(), net, resolveConfig({ preset: 'isaac', ...over }), false)).toThrow(/runs on the CPU reference only for now/);
  });
});
