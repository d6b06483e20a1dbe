// `xbarsim run` (issue 12 item 7): one forward pass written as float32 .npy, checked against the
// training code's own f32 forward (scripts/train, an implementation independent of src/nn), for
// determinism per seed and chip at any batch size, and for one-line exit-2 errors that write nothing.
// Most cases call the CLI's main() in this process (spawning a Node per case costs seconds on a shared
// machine); the first case spawns the real binary, as a user runs it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, runMain } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';
import { encodeNpy, parseNpy } from '../../src/io/npy.ts';
import { encodeZip } from '../../src/io/npz.ts';
import { loadMnist } from '../../src/io/datasets/mnist-node.ts';
import { importOnnx as importSequential } from '../../scripts/train/onnx.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';

const MODELS = ['mlp', 'lenet5'] as const;
const B = 24;
let dir: string;
/** B MNIST test digits as [B, 784] and [B, 1, 28, 28]. */
const inputs: Record<(typeof MODELS)[number], string> = { mlp: '', lenet5: '' };
/** 8 digits for the simulated chips (the CPU reference is slow). */
let small: string;
let pixels: Float32Array;

beforeAll(() => {
  dir = tempDir();
  pixels = loadMnist().test.images.slice(0, B * 784);
  inputs.mlp = writeNpy(dir, 'x-mlp.npy', [B, 784], pixels);
  inputs.lenet5 = writeNpy(dir, 'x-lenet5.npy', [B, 1, 28, 28], pixels, '<f8');
  small = writeNpy(dir, 'x-small.npy', [8, 784], pixels.subarray(0, 8 * 784));
});

/** `xbarsim ARGS` through main() in this process: the exit code and xbarsim's own stderr lines. */
async function xbarsim(args: string[]): Promise<{ code: number; lines: string[] }> {
  const r = await runMain(args);
  return { code: r.code, lines: r.ownStderrLines };
}

const writeCfg = (name: string, cfg: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(cfg));
  return p;
};

const readY = (path: string): { shape: number[]; data: Float32Array; dtype: string } => {
  const a = parseNpy(readFileSync(path), path);
  return { shape: a.shape, data: Float32Array.from(a.data), dtype: a.dtype };
};

describe('xbarsim run --digital', () => {
  it.each(MODELS)('%s: writes [N, 10] float32 logits equal to the training code\'s plain f32 forward', async (name) => {
    const out = join(dir, `${name}-digital.npy`);
    const args = ['run', '--model', `models/${name}.onnx`, '--inputs', inputs[name], '--digital', '--out', out, '--backend', 'cpu'];
    if (name === 'mlp') {
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.ownStderrLines).toHaveLength(1);
    } else expect((await xbarsim(args)).code).toBe(0);
    const y = readY(out);
    expect([y.shape, y.dtype]).toEqual([[B, 10], '<f4']);
    const seq = importSequential(new Uint8Array(readFileSync(`models/${name}.onnx`)), name);
    const want = seq.forward(pixels, B, false);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(y.data[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    // Only the summation order differs between the two forwards.
    expect(worst).toBeLessThanOrEqual(1e-5 * scale);
  });

  it("names the model's output, not the IR value an expanded node's last step writes", async () => {
    // GlobalLpPool expands into nodes; the graph output "y" aliases the last of them.
    const model = join(dir, 'lp.onnx');
    writeFileSync(model, buildOnnxModel({ inputs: [{ name: 'x', dims: ['batch', 2, 3, 3] }], outputs: [{ name: 'y', dims: ['batch'] }], nodes: [{ op: 'GlobalLpPool', inputs: ['x'], outputs: ['y'] }] }));
    const x = writeNpy(dir, 'lp-x.npy', [2, 2, 3, 3], randomArray(36, 3));
    const r = await xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--out', join(dir, 'lp-y.npy'), '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^xbarsim run: y \[2, 2, 1, 1\] -> /);
  });

  it('--output names the graph output; batches do not change the file', async () => {
    const a = join(dir, 'a.npy');
    const b = join(dir, 'b.npy');
    expect((await xbarsim(['run', '--model', 'models/lenet5.onnx', '--inputs', inputs.lenet5, '--digital', '--output', 'logits', '--out', a, '--backend', 'cpu'])).code).toBe(0);
    expect((await xbarsim(['run', '--model', 'models/lenet5.onnx', '--inputs', inputs.lenet5, '--digital', '--batch', '5', '--out', b, '--backend', 'cpu'])).code).toBe(0);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
  });

  it('a model with two graph outputs: --output picks either by its ONNX name, the default packs both per sample', async () => {
    // y1 = x·W, y2 = relu(y1)·2 (found by a PyTorch export battery: --output y2 was refused).
    const W = randomArray(4 * 3, 17);
    const model = join(dir, 'two-out.onnx');
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 4] }],
      outputs: [{ name: 'y1', dims: ['N', 3] }, { name: 'y2', dims: ['N', 3] }],
      initializers: [{ name: 'W', dims: [4, 3], data: W }, { name: 'two', dims: [1], data: Float32Array.of(2) }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['y1'] },
        { op: 'Relu', inputs: ['y1'], outputs: ['r'] },
        { op: 'Mul', inputs: ['r', 'two'], outputs: ['y2'] },
      ],
    }));
    const x = writeNpy(dir, 'x-two.npy', [5, 4], randomArray(20, 18));
    const run = async (extra: string[], out: string) => (await xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--out', join(dir, out), '--backend', 'cpu', ...extra])).code;
    expect([await run([], 'p.npy'), await run(['--output', 'y1'], 'y1.npy'), await run(['--output', 'y2'], 'y2.npy')]).toEqual([0, 0, 0]);
    const [p, y1, y2] = ['p.npy', 'y1.npy', 'y2.npy'].map((f) => readY(join(dir, f)));
    expect([p.shape, y1.shape, y2.shape]).toEqual([[5, 6], [5, 3], [5, 3]]);
    for (let s = 0; s < 5; s++) {
      expect(Array.from(p.data.subarray(s * 6, s * 6 + 3))).toEqual(Array.from(y1.data.subarray(s * 3, s * 3 + 3)));
      expect(Array.from(p.data.subarray(s * 6 + 3, s * 6 + 6))).toEqual(Array.from(y2.data.subarray(s * 3, s * 3 + 3)));
      for (let j = 0; j < 3; j++) expect(y2.data[s * 3 + j]).toBe(2 * Math.max(0, y1.data[s * 3 + j]));
    }
    const bad = await xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--output', 'y3', '--out', join(dir, 'y3.npy'), '--backend', 'cpu']);
    expect(bad.code).toBe(2);
    expect(bad.lines).toEqual(['xbarsim: --output "y3": not a graph output of the model (allowed: "y1", "y2")']);
  });

  /** An int64 .npy (token ids as numpy.save writes them): the '<f8' layout with the descr and values swapped. */
  const int64Npy = (shape: number[], v: number[]): Uint8Array => {
    const f = encodeNpy(shape, '<f8', v);
    const head = f.length - 8 * v.length;
    const out = Uint8Array.from(Buffer.from(Buffer.from(f.subarray(0, head)).toString('latin1').replace("'<f8'", "'<i8'"), 'latin1'));
    const body = new DataView(new ArrayBuffer(8 * v.length));
    v.forEach((x, i) => body.setBigInt64(8 * i, BigInt(x), true));
    return Uint8Array.from([...out, ...new Uint8Array(body.buffer)]);
  };

  it('a model with two graph inputs reads --inputs X.npz, one array per input by its ONNX name, as the packed .npy', async () => {
    // y = emb[ids] · mask: an integer input and a float one, as a text model takes input_ids and attention_mask.
    const emb = randomArray(5 * 2, 21);
    const model = join(dir, 'two-in.onnx');
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'ids', dims: ['N', 3] }, { name: 'mask', dims: ['N', 3, 1] }],
      outputs: [{ name: 'y', dims: ['N', 3, 2] }],
      initializers: [{ name: 'emb', dims: [5, 2], data: emb }],
      nodes: [
        { op: 'Gather', inputs: ['emb', 'ids'], outputs: ['e'] },
        { op: 'Mul', inputs: ['e', 'mask'], outputs: ['y'] },
      ],
    }));
    const ids = [0, 4, 2, 1, 1, 3];
    const mask = [1, 0, 1, 0.5, 1, 1];
    const npz = join(dir, 'two-in.npz');
    writeFileSync(npz, encodeZip([
      { name: 'mask.npy', data: encodeNpy([2, 3, 1], '<f4', mask) },
      { name: 'ids.npy', data: int64Npy([2, 3], ids) },
    ]));
    const packed = writeNpy(dir, 'two-in.npy', [2, 6], Float32Array.from([...ids.slice(0, 3), ...mask.slice(0, 3), ...ids.slice(3), ...mask.slice(3)]));
    const run = async (x: string, out: string) => xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--out', join(dir, out), '--backend', 'cpu']);
    expect([(await run(npz, 'z.npy')).code, (await run(packed, 'p.npy')).code]).toEqual([0, 0]);
    const [z, p] = ['z.npy', 'p.npy'].map((f) => readY(join(dir, f)));
    expect(z.shape).toEqual([2, 3, 2]);
    expect(Array.from(z.data)).toEqual(Array.from(p.data));
    expect(Array.from(z.data.subarray(0, 2))).toEqual(Array.from(emb.subarray(0, 2)));
    const one = join(dir, 'one.npz');
    writeFileSync(one, encodeZip([{ name: 'ids.npy', data: encodeNpy([2, 3], '<f8', ids) }, { name: 'masks.npy', data: encodeNpy([2, 3, 1], '<f4', mask) }]));
    expect((await run(one, 'bad.npy')).lines).toEqual([`xbarsim: --inputs ${one}: holds array "masks", which is not a graph input (the model's inputs: "ids", "mask")`]);
    expect(existsSync(join(dir, 'bad.npy'))).toBe(false);
  });

  it('reads an integer .npy (token ids) for an integer graph input; integers past 2^24 are refused', async () => {
    const emb = randomArray(5 * 2, 22);
    const model = join(dir, 'ids.onnx');
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'ids', dims: ['N', 3] }],
      outputs: [{ name: 'y', dims: ['N', 3, 2] }],
      initializers: [{ name: 'emb', dims: [5, 2], data: emb }],
      nodes: [{ op: 'Gather', inputs: ['emb', 'ids'], outputs: ['y'] }],
    }));
    const ids = join(dir, 'ids.npy');
    writeFileSync(ids, int64Npy([2, 3], [4, 0, 1, 3, 3, 2]));
    const r = await xbarsim(['run', '--model', model, '--inputs', ids, '--digital', '--out', join(dir, 'ids-y.npy'), '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(Array.from(readY(join(dir, 'ids-y.npy')).data.subarray(0, 2))).toEqual(Array.from(emb.subarray(8, 10)));
    const big = join(dir, 'big-ids.npy');
    writeFileSync(big, int64Npy([1, 3], [1, 2 ** 24 + 1, 0]));
    const bad = await xbarsim(['run', '--model', model, '--inputs', big, '--digital', '--out', join(dir, 'big-y.npy'), '--backend', 'cpu']);
    expect([bad.code, bad.lines]).toEqual([2, [`xbarsim: --inputs ${big}: entry 1 is 16777217; integers are carried as float32, exact only up to 2^24 = 16777216 in magnitude`]]);
    expect(existsSync(join(dir, 'big-y.npy'))).toBe(false);
  });

  it("fixes an export's dynamic height and width from the inputs' shape; a data file of the wrong rank is one line", async () => {
    const model = 'test/fixtures/torch-exports/dynamic-hw-17/model.onnx';
    for (const [h, w] of [[24, 40], [17, 9]]) {
      const x = writeNpy(dir, `hw-${h}x${w}.npy`, [2, 3, h, w], randomArray(2 * 3 * h * w, h));
      const out = join(dir, `hw-${h}x${w}-y.npy`);
      const r = await xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--out', out, '--backend', 'cpu']);
      expect([r.code, r.lines]).toEqual([0, [expect.stringMatching(/^xbarsim run: y \[2, 5\] -> /)]]);
      expect(readY(out).shape).toEqual([2, 5]);
    }
    const flat = writeNpy(dir, 'hw-flat.npy', [2, 3, 24], randomArray(2 * 3 * 24, 3));
    const bad = await xbarsim(['run', '--model', model, '--inputs', flat, '--digital', '--out', join(dir, 'hw-flat-y.npy'), '--backend', 'cpu']);
    expect([bad.code, bad.lines]).toEqual([2, [`xbarsim: ${model}: graph input "x" takes [N, 3, height, width] but its inputs are [N, 3, 24]`]]);
    expect(existsSync(join(dir, 'hw-flat-y.npy'))).toBe(false);
    // A static dim the data contradicts (3 channels, one given) is refused in the file's terms.
    const gray = writeNpy(dir, 'hw-gray.npy', [2, 1, 24, 40], randomArray(2 * 24 * 40, 4));
    const bad2 = await xbarsim(['run', '--model', model, '--inputs', gray, '--digital', '--out', join(dir, 'hw-gray-y.npy'), '--backend', 'cpu']);
    expect([bad2.code, bad2.lines]).toEqual([2, [`xbarsim: ${model}: graph input "x" takes [N, 3, height, width] but its inputs are [N, 1, 24, 40]`]]);
  });

  it('--seed keys a model\'s own random ops in --digital (PyTorch\'s VAE, torch.randn_like); on a model without any it is refused', async () => {
    const model = 'test/fixtures/torch-random/vae.onnx';
    const x = writeNpy(dir, 'vae-x.npy', [6, 8], randomArray(48, 9));
    const run = async (seed: string, out: string, batch = '6') => (await xbarsim(['run', '--model', model, '--inputs', x, '--digital', '--seed', seed, '--batch', batch, '--out', join(dir, out), '--backend', 'cpu'])).code;
    expect([await run('1', 'vae-1.npy'), await run('1', 'vae-1b.npy', '4'), await run('2', 'vae-2.npy')]).toEqual([0, 0, 0]);
    expect(readFileSync(join(dir, 'vae-1b.npy')).equals(readFileSync(join(dir, 'vae-1.npy')))).toBe(true);
    expect(readFileSync(join(dir, 'vae-2.npy')).equals(readFileSync(join(dir, 'vae-1.npy')))).toBe(false);
    const r = await xbarsim(['run', '--model', 'models/mlp.onnx', '--inputs', inputs.mlp, '--digital', '--seed', '3', '--out', join(dir, 'mlp-seed.npy'), '--backend', 'cpu']);
    expect([r.code, r.lines]).toEqual([2, [expect.stringMatching(/^xbarsim: --seed: has no effect with --digital .*this model has none\)$/)]]);
    expect(existsSync(join(dir, 'mlp-seed.npy'))).toBe(false);
  });

  it('eval --dataset mnist fixes a dynamic height and width to the digits\' 28×28', async () => {
    const model = join(dir, 'pool-hw.onnx');
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 1, 'h', 'w'] }],
      outputs: [{ name: 'y', dims: ['N', 10] }],
      initializers: [{ name: 'w', dims: [1, 10], data: randomArray(10, 5) }],
      nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['p'] }, { op: 'Flatten', inputs: ['p'], outputs: ['f'] }, { op: 'MatMul', inputs: ['f', 'w'], outputs: ['y'] }],
    }));
    const r = await runMain(['eval', '--model', model, '--dataset', 'mnist', '--limit', '16', '--digital', '--backend', 'cpu']);
    expect(r.code, r.ownStderrLines.join('\n')).toBe(0);
    // Channels last (a Keras export's [N, H, W, 1]): the digits take that layout.
    const nhwc = join(dir, 'pool-hw-nhwc.onnx');
    writeFileSync(nhwc, buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 'h', 'w', 1] }],
      outputs: [{ name: 'y', dims: ['N', 10] }],
      initializers: [{ name: 'w', dims: [1, 10], data: randomArray(10, 6) }],
      nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['p'], attrs: { axes: [1, 2], keepdims: 0 } }, { op: 'MatMul', inputs: ['p', 'w'], outputs: ['y'] }],
    }));
    const r2 = await runMain(['eval', '--model', nhwc, '--dataset', 'mnist', '--limit', '16', '--digital', '--backend', 'cpu']);
    expect(r2.code, r2.ownStderrLines.join('\n')).toBe(0);
  });
});

describe('xbarsim run on a simulated chip', () => {
  const cfg = (): string => {
    const p = join(dir, 'noisy.json');
    writeFileSync(p, JSON.stringify({ preset: 'isaac', noise: { preset: 'wan2022-rram' } }));
    return p;
  };
  const run = async (name: string, extra: string[], x = small): Promise<Buffer> => {
    const out = join(dir, name);
    const r = await xbarsim(['run', '--model', 'models/mlp.onnx', '--inputs', x, '--out', out, '--backend', 'cpu', ...extra]);
    expect(r.code, r.lines.join('\n')).toBe(0);
    return readFileSync(out);
  };

  it('same config, seed and chip give the same file at any batch size; another chip or seed another file', async () => {
    const c = cfg();
    const a = await run('c-a.npy', ['--config', c, '--seed', '5', '--chip', '2']);
    const b = await run('c-b.npy', ['--config', c, '--seed', '5', '--chip', '2', '--batch', '3']);
    const otherChip = await run('c-c.npy', ['--config', c, '--seed', '5', '--chip', '3']);
    const otherSeed = await run('c-d.npy', ['--config', c, '--seed', '6', '--chip', '2']);
    expect(b.equals(a)).toBe(true);
    expect(otherChip.equals(a)).toBe(false);
    expect(otherSeed.equals(a)).toBe(false);
  });

  it('calibrates on the inputs by default, on --calibrate when given (DESIGN.md section 6)', async () => {
    const self = await run('cal-self.npy', ['--preset', 'isaac']);
    const same = await run('cal-same.npy', ['--preset', 'isaac', '--calibrate', small]);
    const other = writeNpy(dir, 'cal-other.npy', [16, 784], loadMnist().train.images.slice(0, 16 * 784).map((v) => v * 3));
    const moved = await run('cal-other-out.npy', ['--preset', 'isaac', '--calibrate', other]);
    expect(same.equals(self)).toBe(true);
    expect(moved.equals(self)).toBe(false);
  });

  it('ideal 8-bit logits stay close to the digital ones', async () => {
    const d = parseNpy(await run('digital-small.npy', ['--digital']), 'digital');
    const i = parseNpy(await run('ideal.npy', ['--preset', 'ideal', '--chip', '0']), 'ideal');
    let worst = 0;
    for (let k = 0; k < d.data.length; k++) worst = Math.max(worst, Math.abs(i.data[k] - d.data[k]));
    expect(worst).toBeGreaterThan(0); // quantized, so not bit-equal
    expect(worst).toBeLessThan(0.5);
  });
});

describe('xbarsim run bad input: one line, exit 2, nothing written', () => {
  it('as a user runs it: exit 2 and one line from the binary', () => {
    const out = join(dir, 'never.npy');
    const r = runCli(['run', '--model', 'models/mlp.onnx', '--inputs', inputs.lenet5, '--digital', '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([expect.stringMatching(/--inputs .*x-lenet5\.npy: has shape \[24, 1, 28, 28\] but the model takes \[N, 784\]/)]);
    expect(existsSync(out)).toBe(false);
  });

  const cases: [string, () => string[], RegExp][] = [
    ['no mode', () => [], /one of --digital, --preset NAME or --config FILE is required/],
    ['--digital with --preset', () => ['--digital', '--preset', 'isaac'], /--digital .* does not go with --preset/],
    ['--chip with --digital', () => ['--digital', '--chip', '1'], /--chip: has no effect with --digital/],
    ['a negative --chip', () => ['--preset', 'isaac', '--chip', '-1'], /--chip: must be an integer/],
    ['an unknown preset', () => ['--preset', 'nope'], /--preset/],
    ['an unknown --output', () => ['--digital', '--output', 'probs'], /--output "probs": not a graph output of the model \(allowed: "logits"\)/],
    ['inputs of the wrong shape', () => ['--digital', '--inputs', writeNpy(dir, 'bad-shape.npy', [3, 783], randomArray(3 * 783, 1))], /--inputs .*bad-shape\.npy: has shape \[3, 783\] but the model takes \[N, 784\]/],
    ['a NaN input', () => ['--digital', '--inputs', writeNpy(dir, 'nan.npy', [2, 784], Float32Array.from({ length: 1568 }, (_, i) => (i === 900 ? NaN : 0)))], /nan\.npy: NaN at \[1, 116\]/],
    ['--calibrate of the wrong shape', () => ['--preset', 'isaac', '--calibrate', writeNpy(dir, 'bad-cal.npy', [2, 10], randomArray(20, 2))], /--calibrate .*bad-cal\.npy: has shape \[2, 10\]/],
    ['a missing model', () => ['--digital', '--model', join(dir, 'none.onnx')], /--model .*none\.onnx: cannot read \(file not found\)/],
    ['a model that is not ONNX', () => ['--digital', '--model', writeNpy(dir, 'not-a-model.onnx', [1], [1])], /not-a-model\.onnx: not a valid ONNX file/],
    ['an --out folder that does not exist', () => ['--digital', '--out', join(dir, 'no', 'y.npy')], /--out .*y\.npy: cannot write: directory does not exist/],
    ['--out naming the --inputs file', () => ['--digital', '--out', inputs.mlp], /--out .*x-mlp\.npy: is the same file as --inputs/],
    ['a config naming a layer the model lacks', () => ['--config', writeCfg('layers.json', { preset: 'isaac', layers: { conv9: { digital: true } } })], /conv9/],
  ];
  it.each(cases)('%s', async (_name, extra, re) => {
    const out = join(dir, `bad-${_name.replace(/\W+/g, '-')}.npy`);
    const base = ['run', '--model', 'models/mlp.onnx', '--inputs', inputs.mlp, '--out', out, '--backend', 'cpu'];
    const args = [...base];
    const e = extra();
    const before = readFileSync(inputs.mlp);
    // A case's --model/--inputs/--out replace the defaults; its other flags are added.
    for (let i = 0; i < e.length; i++) {
      const at = args.indexOf(e[i]);
      if (at >= 0 && !e[i + 1]?.startsWith('--') && ['--model', '--inputs', '--out'].includes(e[i])) {
        args[at + 1] = e[++i];
      } else args.push(e[i]);
    }
    const r = await xbarsim(args);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(re);
    const target = args[args.indexOf('--out') + 1];
    if (target === inputs.mlp) expect(readFileSync(inputs.mlp).equals(before)).toBe(true);
    else expect(existsSync(target)).toBe(false);
  });
});
