import { describe, expect, it } from 'vitest';
import { QUANTIZED_CASES, QUANTIZED_DIR, runOn, torchCase } from '../helpers/torch-fixtures.ts';
import { levelsOff } from '../helpers/torch-quantized.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// PyTorch's post-training static int8 quantization exported to ONNX (test/fixtures/torch-quantized,
// scripts/torch-quantized-fixture.py): QuantizeLinear/DequantizeLinear around float Conv and Gemm,
// per-channel (fbgemm's qconfig) and per-tensor (qnnpack's) weights.
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe.each(QUANTIZED_CASES)('PyTorch int8 model %s', (name) => {
  const c = torchCase(name, QUANTIZED_DIR);

  it("equals the quantized model's output in f32", async () => {
    expect(Array.from(await runOn(CPU, c.net, IDEAL16, true, c.x, c.B))).toEqual(Array.from(c.y));
  });

  it('programs the int8 weights on crossbars: noise-free 16-bit ones are within one output level', async () => {
    expect(c.net.ops.filter((o) => o.kind === 'linear' || o.kind === 'conv').length).toBe(3);
    expect(levelsOff(await runOn(CPU, c.net, IDEAL16, false, c.x, c.B), c.y)).toBeLessThanOrEqual(1.001);
  });
});
