import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { proto } from '../../src/io/onnx/proto.ts';
import type { Network } from '../../src/ir/graph.ts';
import { loadModel, modelDigest } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { sha256File } from '../../src/sweep/definition.ts';
import { runMain } from '../helpers/cli.ts';
import { usageMessage } from '../helpers/errors.ts';
import { externalize } from '../helpers/external-data.ts';
import { writeNpy } from '../helpers/files.ts';
import { randomArray } from '../helpers/random.ts';

// Tensors kept in a data file beside the model (ONNX external data: PyTorch's torch.export-based
// exporter writes every weight so) are read from the model's folder; the network is the one the
// embedded file gives, and a bad location or a missing file is refused in one line.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const CFG = resolveConfig({ preset: 'isaac', seed: 5, noise: { programming: { sigma: 0.05, model: 'additive' } } });
const dir = mkdtempSync(join(tmpdir(), 'xbarsim-external-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outputs(net: Network, x: Float32Array, B: number): Promise<Float32Array[]> {
  const d = openNetwork(CPU, net, CFG, true);
  const r = openNetwork(CPU, net, CFG, false);
  try {
    const digital = (await d.forward(null, x, B, 0)).output;
    await r.calibrate(x, B);
    return [digital, (await r.forward(await r.program(0), x, B, 0)).output];
  } finally {
    d.destroy();
    r.destroy();
  }
}

/** Writes `model` with its initializers in `location` (under `sub` of the model's folder) and returns the model's path. */
function writeExternal(name: string, model: Uint8Array, location: string, align = 1): string {
  const { model: m, data } = externalize(model, location, align);
  const folder = join(dir, name);
  mkdirSync(join(folder, location, '..'), { recursive: true });
  writeFileSync(join(folder, 'model.onnx'), m);
  writeFileSync(join(folder, location), data);
  return join(folder, 'model.onnx');
}

/** Rewrites the external_data entries of every initializer of the model at `path`. */
function editEntries(path: string, edit: (entries: { key: string; value: string }[]) => { key: string; value: string }[]): void {
  const m = proto.ModelProto.decode(readFileSync(path));
  for (const t of m.graph?.initializer ?? []) t.externalData = edit((t.externalData ?? []).map((e) => ({ key: e.key ?? '', value: e.value ?? '' }))).map((e) => proto.StringStringEntryProto.create(e));
  writeFileSync(path, proto.ModelProto.encode(m).finish());
}

describe('ONNX external data', () => {
  it('LeNet-5 with its weights in a data file (aligned offsets, a subfolder) is the embedded network, digital and on a noisy chip', async () => {
    const bytes = new Uint8Array(readFileSync('models/lenet5.onnx'));
    const path = writeExternal('lenet', bytes, 'weights/lenet.bin', 64);
    const x = randomArray(2 * 784, 71, 0, 1);
    expect(await outputs(loadModel(path), x, 2)).toEqual(await outputs(importOnnx(bytes, 'lenet5.onnx'), x, 2));
  });

  it('a tensor without a length reads to the end of its file; offsets past the end, bad locations and missing files are refused in one line', () => {
    const bytes = new Uint8Array(readFileSync('models/mlp.onnx'));
    const path = writeExternal('mlp', bytes, 'model.onnx.data');
    const want = importOnnx(bytes, 'mlp.onnx');
    const lastOnly = (es: { key: string; value: string }[], k: number, n: number) => (k === n - 1 ? es.filter((e) => e.key !== 'length') : es);
    const m = proto.ModelProto.decode(readFileSync(path));
    const n = m.graph?.initializer?.length ?? 0;
    let k = 0;
    editEntries(path, (es) => lastOnly(es, k++, n));
    expect(loadModel(path).ops.map((o) => o.kind)).toEqual(want.ops.map((o) => o.kind));

    const refusal = (edit: (es: { key: string; value: string }[]) => { key: string; value: string }[]) => {
      const p = writeExternal('bad', bytes, 'model.onnx.data');
      editEntries(p, edit);
      return usageMessage(() => loadModel(p));
    };
    const set = (key: string, value: string) => (es: { key: string; value: string }[]) => [...es.filter((e) => e.key !== key), { key, value }];
    expect(refusal(set('offset', '999999999'))).toMatch(/: external data bytes 999999999–\d+ lie past the end of "model\.onnx\.data" \(\d+ bytes\)$/);
    expect(refusal(set('location', '../secret.bin'))).toMatch(/: external data location "\.\.\/secret\.bin" must be a path inside the model's folder \(relative, no "\.\."\)$/);
    expect(refusal(set('location', '/etc/passwd'))).toMatch(/must be a path inside the model's folder/);
    expect(refusal(set('location', 'gone.bin'))).toMatch(/model\.onnx: tensor "[^"]+" keeps its data in "gone\.bin", which cannot be read \(.*gone\.bin: file not found\)$/);
    expect(refusal(set('offset', '-4'))).toMatch(/: external data offset "-4" is not a whole number of bytes$/);
    // Bytes alone (no folder to read from): the refusal says how to load such a model.
    expect(usageMessage(() => importOnnx(new Uint8Array(readFileSync(path)), 'mlp.onnx'))).toMatch(/^mlp\.onnx: tensor "[^"]+" keeps its data in "model\.onnx\.data" beside the model; give the model as a file path/);
  });

  it('the model digest covers its data file, and is the plain sha256 without one', () => {
    const bytes = new Uint8Array(readFileSync('models/mlp.onnx'));
    const path = writeExternal('digest', bytes, 'model.onnx.data');
    const before = modelDigest(path);
    const data = readFileSync(join(dir, 'digest', 'model.onnx.data'));
    data[100] ^= 1;
    writeFileSync(join(dir, 'digest', 'model.onnx.data'), data);
    expect(modelDigest(path)).not.toBe(before);
    expect(modelDigest('models/mlp.onnx')).toBe(sha256File('models/mlp.onnx'));
  });

  it('xbarsim run reads the data file beside --model, and refuses with exit 2 when it is missing', async () => {
    const path = writeExternal('cli', new Uint8Array(readFileSync('models/mlp.onnx')), 'model.onnx.data');
    const x = writeNpy(dir, 'x.npy', [2, 784], randomArray(2 * 784, 72, 0, 1));
    const ok = await runMain(['run', '--model', path, '--inputs', x, '--digital', '--out', join(dir, 'y.npy'), '--backend', 'cpu']);
    expect(ok.code).toBe(0);
    rmSync(join(dir, 'cli', 'model.onnx.data'));
    const gone = await runMain(['run', '--model', path, '--inputs', x, '--digital', '--out', join(dir, 'y2.npy'), '--backend', 'cpu']);
    expect(gone.code).toBe(2);
    expect(gone.ownStderrLines).toHaveLength(1);
    expect(gone.ownStderrLines[0]).toMatch(/keeps its data in "model\.onnx\.data", which cannot be read/);
  });
});
