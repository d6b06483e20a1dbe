// The `crosssim-isaac` preset against CrossSim 3.2.0's own output, on the GPU (see test/cpu/crosssim.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { CROSSSIM_GAIN, crosssimDeviation } from '../helpers/crosssim.ts';
import { openTestGpu } from '../helpers/gpu.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('crosssim-isaac preset on the GPU', () => {
  const backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session } as const;
  it('with an ideal ADC, gives CrossSim ISAAC output divided by its gain (f32 accumulation)', async () => {
    expect((await crosssimDeviation(backend, { adc: { bits: 0 } }, CROSSSIM_GAIN)).maxRel).toBeLessThan(1e-5);
  });
  it('as is, within 0.2% of full scale of CrossSim', async () => {
    const d = await crosssimDeviation(backend);
    expect(d.maxRel).toBeLessThan(2e-3);
    expect(Math.abs(d.medianRatio - 1)).toBeLessThan(1e-3);
  });
});
