import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, readNpyFile } from '../../src/io/npy.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { runMain } from '../helpers/cli.ts';
import { usageMessage } from '../helpers/errors.ts';
import { tempDir } from '../helpers/files.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';

// 16-bit models (test/fixtures/float16, scripts/float16-fixture.py): PyTorch's bfloat16 export and a
// float16 conversion as onnxconverter-common writes it, float16 inputs included. Both were refused
// (a bfloat16 initializer, a float16 graph input); their tensors are now widened to f32.
const DIR = 'test/fixtures/float16';

describe('16-bit float models', () => {
  it.each(['bf16', 'fp16'])('%s: `xbarsim run` gives the f32 network of the file\'s own weights', async (form) => {
    const out = join(tempDir(), 'y.npy');
    const r = await runMain(['run', '--model', `${DIR}/model-${form}.onnx`, '--inputs', `${DIR}/x-${form}.npy`, '--digital', '--out', out, '--backend', 'cpu']);
    expect(r.code, r.ownStderrLines.join('\n')).toBe(0);
    const got = Float32Array.from(parseNpy(readFileSync(out), out).data);
    const want = Float32Array.from(readNpyFile(`${DIR}/y-${form}.npy`, 'y').data);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5 * maxAbs(want));
  });

  it('the float16 model takes a float16 .npy, and its Conv and Gemm are crossbar layers', () => {
    expect(readNpyFile(`${DIR}/x-fp16.npy`, 'x').dtype).toBe('<f2');
    const net = importOnnx(new Uint8Array(readFileSync(`${DIR}/model-fp16.onnx`)), 'model-fp16.onnx');
    expect(net.inputs[0].dtype).toBe('float16');
    expect(net.ops.filter((o) => o.kind === 'conv' || o.kind === 'linear').map((o) => o.kind)).toEqual(['conv', 'linear']);
  });

  it('Cast to float16 or bfloat16 keeps the value; to a float8 type it is refused in one line', () => {
    const cast = (to: number) => buildOnnxModel({ inputs: [{ name: 'x', dims: ['N', 2] }], outputs: [{ name: 'y', dims: ['N', 2] }], nodes: [{ op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to } }], opset: 19 });
    for (const to of [10, 16]) expect(importOnnx(cast(to), 'm.onnx').ops.map((o) => o.kind)).toEqual(['reshape']);
    expect(usageMessage(() => importOnnx(cast(17), 'm.onnx'))).toBe('m.onnx: node "Cast_0" (Cast): Cast to float8e4m3fn is not supported (float32, float64, float16, bfloat16, integers and bool are)');
  });
});
