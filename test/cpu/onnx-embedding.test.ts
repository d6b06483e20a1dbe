import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildNode } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// nn.Embedding exports Gather(weight, token ids): a constant table indexed by the data.
const TABLE = randomArray(10 * 4, 3);

function model(nodes: BuildNode[], table = TABLE, dims = [10, 4]): Uint8Array {
  return buildOnnxModel({
    opset: 13,
    inputs: [{ name: 'ids', dims: ['batch', 5] }],
    outputs: [{ name: 'y', dims: ['batch'] }],
    initializers: [{ name: 'emb', dims, data: table }],
    nodes,
  });
}

describe('ONNX Gather of a constant table by token ids (nn.Embedding)', () => {
  it('picks one table row per id, negative ids from the end, at any batch size', async () => {
    const net = importOnnx(model([{ op: 'Gather', inputs: ['emb', 'ids'], outputs: ['y'], name: 'embed' }]), 'e.onnx');
    expect(net.ops.map((o) => o.kind)).toEqual(['lookup']);
    expect(net.shapes.get(net.output)).toEqual([5, 4]);
    const ids = Float32Array.from([0, 9, 3, -1, -10, 4, 4, 2, 7, 1]);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, resolveConfig({ preset: 'ideal' }), true);
    const y = (await runner.forward(null, ids, 2, 0)).output;
    runner.destroy();
    const want = Array.from(ids).flatMap((v) => Array.from(TABLE.subarray(((v + 10) % 10) * 4, ((v + 10) % 10) * 4 + 4)));
    expect(Array.from(y)).toEqual(want);
  });

  it('a constant indexed along another axis, and computed indices into computed data, are one line naming the node', () => {
    const along1 = model([{ op: 'Gather', inputs: ['emb', 'ids'], outputs: ['y'], name: 'g1', attrs: { axis: 1 } }]);
    expect(usageMessage(() => importOnnx(along1, 'm.onnx'))).toBe('m.onnx: node "g1" (Gather): indices "ids" come from the data and axis is 1; a constant indexed by the data is supported along axis 0 only (an embedding table)');
    const both = model([{ op: 'Gather', inputs: ['ids', 'ids'], outputs: ['y'], name: 'g2', attrs: { axis: 1 } }]);
    expect(usageMessage(() => importOnnx(both, 'm.onnx'))).toMatch(/^m\.onnx: node "g2" \(Gather\): indices "ids" and data both come from the data/);
  });
});
