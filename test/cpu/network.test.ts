import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDigitalMatchesF32, checkIdealMatchesQuantized } from '../helpers/network-cases.ts';
import { convBnModel, mlpModel, testInput } from '../helpers/onnx-models.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { calibrationKey } from '../../src/nn/calibration.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

describe('networks on the CPU reference', () => {
  it('--digital equals a plain f32 forward of every test model', () => checkDigitalMatchesF32(CPU));
  it('ideal 8-bit equals a quantized f32 forward', () => checkIdealMatchesQuantized(CPU));
});

describe('calibration reuse', () => {
  it('a config differing only in noise and seed adopts the calibration exactly', async () => {
    const m = convBnModel();
    const net = importOnnx(m.bytes, m.name);
    const cal = testInput(m, 16, 3);
    const x = testInput(m, 12, 4);
    const a = resolveConfig({ preset: 'isaac', adc: { range: 'calibrated' } });
    const b = resolveConfig({ preset: 'isaac', adc: { range: 'calibrated' }, noise: { preset: 'wan2022-rram' }, analog: { gainSigma: 0.1 }, seed: 9 });
    expect(calibrationKey(a)).toBe(calibrationKey(b));
    expect(calibrationKey(a)).not.toBe(calibrationKey(resolveConfig({ preset: 'isaac', adc: { bits: 6 } })));
    const first = openNetwork(CPU, net, a, false);
    await first.calibrate(cal, 16);
    const own = openNetwork(CPU, net, b, false);
    await own.calibrate(cal, 16);
    const adopted = openNetwork(CPU, net, b, false);
    adopted.adoptCalibration(first.scales, cal, 16);
    expect(adopted.scales).toEqual(own.scales);
    const y1 = (await own.forward(await own.program(2), x, 12, 0)).output;
    const y2 = (await adopted.forward(await adopted.program(2), x, 12, 0)).output;
    expect(Array.from(y2)).toEqual(Array.from(y1));
  });
});

describe('xbarsim eval: bad input is one line, exit 2', () => {
  const dir = tempDir();
  const mlp = mlpModel();
  const model = join(dir, 'mlp.onnx');
  writeFileSync(model, mlp.bytes);
  const x = join(dir, 'x.npy');
  writeFileSync(x, encodeNpy([6, 12], '<f4', testInput(mlp, 6)));
  const y = join(dir, 'y.npy');
  writeFileSync(y, encodeNpy([6], '<f8', [0, 1, 2, 3, 4, 5]));
  const y5 = join(dir, 'y5.npy');
  writeFileSync(y5, encodeNpy([5], '<f8', [0, 1, 2, 3, 4]));
  const xBad = join(dir, 'xbad.npy');
  writeFileSync(xBad, encodeNpy([6, 11], '<f4', new Float32Array(66)));
  const truncated = join(dir, 'trunc.onnx');
  writeFileSync(truncated, convBnModel().bytes.subarray(0, 200));
  const unsupported = join(dir, 'elu.onnx');
  writeFileSync(
    unsupported,
    buildOnnxModel({ inputs: [{ name: 'input', dims: ['N', 4] }], outputs: [{ name: 'out', dims: ['N', 4] }], nodes: [{ op: 'Unique', inputs: ['input'], outputs: ['out'], name: 'the_unique' }] }),
  );
  const cases: [string, string[], RegExp][] = [
    ['unsupported op', ['--model', unsupported, '--inputs', x, '--labels', y], /unsupported op "Unique" at node "the_unique"/],
    ['truncated file', ['--model', truncated, '--inputs', x, '--labels', y], /trunc\.onnx/],
    ['wrong input shape', ['--model', model, '--inputs', xBad, '--labels', y], /has shape \[6, 11\] but the model takes \[N, 12\]/],
    ['labels that do not match inputs', ['--model', model, '--inputs', x, '--labels', y5], /has 5 labels but --inputs .* has 6 samples/],
    ['no dataset', ['--model', model], /--dataset mnist\|fashion-mnist.* --inputs/],
    ['unknown dataset', ['--model', model, '--dataset', 'cifar'], /unknown dataset "cifar"/],
    ['missing model', ['--model', join(dir, 'none.onnx'), '--dataset', 'mnist'], /file not found/],
    ['bad layer override', ['--model', model, '--inputs', x, '--labels', y, '--config', writeCfg(dir, { preset: 'isaac', layers: { nope: { digital: true } } })], /layers\.nope: no Linear\/Conv layer/],
  ];
  it.each(cases)('%s', (_n, args, re) => {
    const r = runCli(['eval', ...args, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines.length).toBe(1);
    expect(r.ownStderrLines[0]).toMatch(re);
  });

  it('evaluates with per-layer overrides by name and index, --json', () => {
    const cfg = writeCfg(dir, { preset: 'isaac', layers: { '0': { digital: true }, 'fc2.matmul': { adc: { bits: 6 } } } });
    const r = runCli(['eval', '--model', model, '--inputs', x, '--labels', y, '--config', cfg, '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { counts: { layers: { name: string; adcConversions: number }[] }; images: number };
    expect(out.images).toBe(6);
    expect(out.counts.layers.map((l) => l.name)).toEqual(['fc1.matmul', 'fc2.matmul']);
    expect(out.counts.layers[0].adcConversions).toBe(0); // kept digital
    expect(out.counts.layers[1].adcConversions).toBeGreaterThan(0);
    // Only the layers on crossbars are listed, with their geometry under the layer's own config.
    const fc2 = importOnnx(mlp.bytes, mlp.name).ops.find((o) => o.name === 'fc2.matmul');
    if (fc2?.kind !== 'linear') throw new Error('the test MLP has a linear fc2.matmul');
    const { array, weights } = resolveConfig({ preset: 'isaac' });
    const pol = weights.mapping === 'differential' ? 2 : 1;
    const slices = Math.ceil((weights.bits - (pol === 2 ? 1 : 0)) / weights.cellBits);
    const blocks = Math.ceil(fc2.K / array.rows);
    expect((out as unknown as { analogLayers: unknown[] }).analogLayers).toEqual([
      { index: 1, name: 'fc2.matmul', kind: 'linear', groups: 1, K: fc2.K, N: fc2.N, rowBlocks: blocks, arrays: blocks * Math.ceil((fc2.N * slices * pol) / array.cols), vectorsPerSample: 1, uses: 1 },
    ]);
  });
});

function writeCfg(dir: string, cfg: unknown): string {
  const p = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(cfg));
  return p;
}
