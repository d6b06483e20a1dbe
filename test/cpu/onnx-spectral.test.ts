import { describe, expect, it } from 'vitest';
import { buildOnnxModel, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { usageMessage } from '../helpers/errors.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { SPECTRAL_CASES, melModel, spectralError, windowModel, windowOf } from '../helpers/spectral.ts';

// DFT, STFT, the window ops and MelWeightMatrix on the CPU oracle against the transforms written
// as complex sums in f64 (test/helpers/spectral.ts).
const CPU = { kind: 'cpu' as const, reason: 'test' };

describe('signal processing ops', () => {
  it.each(SPECTRAL_CASES)('%s', async (_what, c) => {
    expect(await spectralError(CPU, c, 3)).toBeLessThan(2e-6);
  });

  it('the transform is a digital product, never a crossbar layer', () => {
    const net = importOnnx(SPECTRAL_CASES[5][1].model, 'stft.onnx');
    expect(net.ops.map((o) => o.kind)).toContain('matmul');
    expect(net.ops.filter((o) => o.kind === 'linear' || o.kind === 'conv')).toEqual([]);
  });

  it.each([
    ['HannWindow', 'hann', 4, true, [0, 0.5, 1, 0.5]],
    ['HammingWindow', 'hamming', 3, false, [4 / 46, 1, 4 / 46]],
    ['BlackmanWindow', 'blackman', 5, false, [0, 0.34, 1, 0.34, 0]],
  ] as const)('%s of known values, and its formula at 17 samples both ways', async (op, kind, size, periodic, known) => {
    const at = async (s: number, p: boolean) => Array.from(await digitalForward(CPU, windowModel(op, s, p), 'w.onnx', new Float32Array(s), 1));
    (await at(size, periodic)).forEach((v, i) => expect(v).toBeCloseTo(known[i], 6));
    for (const p of [true, false]) (await at(17, p)).forEach((v, i) => expect(v).toBeCloseTo(windowOf(kind, 17, p)[i], 6));
  });

  it("MelWeightMatrix equals ONNX's reference triangles", async () => {
    const { model, want } = melModel();
    expect(Array.from(await digitalForward(CPU, model, 'mel.onnx', new Float32Array(want.length), 1))).toEqual(Array.from(want));
  });

  it('refuses what it cannot compute, in one line', () => {
    const i64 = (name: string, v: number[]): BuildTensor => ({ name, dims: v.length === 1 ? [] : [v.length], data: BigInt64Array.from(v.map(BigInt)) });
    const refusal = (op: string, dims: number[], inputs: string[], init: BuildTensor[], attrs: Record<string, number> = {}) =>
      usageMessage(() => importOnnx(buildOnnxModel({ opset: 17, inputs: [{ name: 'x', dims: ['batch', ...dims] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers: init, nodes: [{ op, inputs: ['x', ...inputs], outputs: ['y'], attrs }] }), 'm.onnx'));
    expect(refusal('DFT', [8, 1], [], [], { axis: 0 })).toMatch(/^m\.onnx: node "DFT_0" \(DFT\): axis 0 is not a signal axis of a rank-3 input; allowed: 1 … 1 \(or -2 … -2\)/);
    expect(refusal('DFT', [8, 2], [], [], { onesided: 1 })).toMatch(/onesided is 1 with a complex input; a one-sided spectrum needs a real one \(set onesided 0\)$/);
    expect(refusal('DFT', [8, 3], [], [])).toMatch(/input's last dim is 3; it must be 1 \(real\) or 2 \(real, imaginary\)$/);
    expect(refusal('STFT', [40, 1], ['s', 'w', 'L'], [i64('s', [4]), { name: 'w', dims: [6], data: new Float32Array(6).fill(1) }, i64('L', [8])])).toMatch(/window has 6 values and frame_length is 8; they must be equal$/);
    expect(refusal('STFT', [40, 2], ['s', '', 'L'], [i64('s', [4]), i64('L', [8])])).toMatch(/onesided is 1 with a complex signal/);
    expect(refusal('STFT', [6, 1], ['s', '', 'L'], [i64('s', [4]), i64('L', [8])])).toMatch(/frame_length 8 is longer than the signal \(6\)$/);
    expect(refusal('STFT', [40, 1], ['s'], [i64('s', [0])])).toMatch(/frame_step is 0; it must be a positive integer$/);
  });
});
