import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildFunction, type BuildModel, type BuildNode } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// Model-local functions (PyTorch's export_modules_as_functions, onnxscript's exports) are inlined
// before import: a model calling functions is the same network as the flat model written out by hand,
// digital and on a programmed chip (same layers, so the same cells and the same noise).
const CPU = { kind: 'cpu' as const, reason: 'test' };
const CFG = resolveConfig({ preset: 'isaac', seed: 3, noise: { programming: { sigma: 0.05, model: 'additive' } } });
const [B, K, H, N] = [3, 6, 5, 4];
const W1 = randomArray(K * H, 61);
const W2 = randomArray(H * N, 62);
const io = {
  inputs: [{ name: 'x', dims: ['batch', K] }],
  outputs: [{ name: 'y', dims: ['batch', N] }],
  initializers: [{ name: 'W1', dims: [K, H], data: W1 }, { name: 'W2', dims: [H, N], data: W2 }],
};
const D = 'my.modules';

/** A Linear then LeakyRelu whose slope is the caller's `slope` (no default: LeakyRelu's own 0.01 applies when absent). */
const dense: BuildFunction = {
  domain: D, name: 'Dense', inputs: ['inp', 'w'], outputs: ['out'], attributes: ['slope'],
  nodes: [
    { op: 'MatMul', inputs: ['inp', 'w'], outputs: ['z'], name: '' },
    { op: 'LeakyRelu', inputs: ['z'], outputs: ['out'], attrs: { alpha: { ref: 'slope', type: 'FLOAT' } } },
  ],
};
/** Two Dense calls; `slope` defaults to 0.3 (attribute_proto) and is passed on by reference. */
const mlp: BuildFunction = {
  domain: D, name: 'Mlp', inputs: ['a', 'w1', 'w2'], outputs: ['b'], defaults: { slope: 0.3 },
  nodes: [
    { op: 'Dense', domain: D, inputs: ['a', 'w1'], outputs: ['h'], name: 'fc1', attrs: { slope: { ref: 'slope', type: 'FLOAT' } } },
    { op: 'Dense', domain: D, inputs: ['h', 'w2'], outputs: ['b'], name: 'fc2' },
  ],
};

function flat(slope1: number): Uint8Array {
  return buildOnnxModel({
    ...io,
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['z1'] },
      { op: 'LeakyRelu', inputs: ['z1'], outputs: ['h'], attrs: { alpha: slope1 } },
      { op: 'MatMul', inputs: ['h', 'W2'], outputs: ['z2'] },
      { op: 'LeakyRelu', inputs: ['z2'], outputs: ['y'] },
    ],
  });
}

async function run(bytes: Uint8Array, x: Float32Array, digital: boolean): Promise<Float32Array> {
  const net = importOnnx(bytes, 'fn.onnx');
  const r = openNetwork(CPU, net, CFG, digital);
  try {
    if (digital) return (await r.forward(null, x, B, 0)).output;
    await r.calibrate(x, B);
    return (await r.forward(await r.program(0), x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

const call = (attrs?: BuildNode['attrs']): BuildNode => ({ op: 'Mlp', domain: D, inputs: ['x', 'W1', 'W2'], outputs: ['y'], name: 'net', attrs });
const model = (m: Partial<BuildModel>): Uint8Array => buildOnnxModel({ ...io, functions: [dense, mlp], nodes: [call()], ...m });

describe('model-local functions', () => {
  it('nested calls with attributes by reference and defaults give the flat network, digital and on a noisy chip', async () => {
    const x = randomArray(B * K, 63);
    for (const digital of [true, false]) {
      // The default 0.3 reaches fc1; fc2 passes no slope, so LeakyRelu's own 0.01 holds.
      expect(await run(model({}), x, digital)).toEqual(await run(flat(0.3), x, digital));
      // A slope given at the call overrides the default.
      expect(await run(model({ nodes: [call({ slope: 0.7 })] }), x, digital)).toEqual(await run(flat(0.7), x, digital));
    }
  });

  it('names the inlined nodes under their calls, and the layers are the two matrices', () => {
    const net = importOnnx(model({}), 'fn.onnx');
    expect(net.ops.filter((o) => o.kind === 'linear').map((o) => o.name)).toEqual(['net/fc1/MatMul_0', 'net/fc2/MatMul_0']);
  });

  it('inlines a call inside an If branch, and a function whose output the caller drops', async () => {
    const x = randomArray(B * K, 64);
    const branch = (y: string) => ({ graph: { nodes: [{ op: 'Mlp', domain: D, inputs: ['x', 'W1', 'W2'], outputs: [y], name: `inner-${y}` }], outputs: [{ name: y, dims: ['batch', N] }] } });
    const viaIf = model({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['c'], attrs: { value: { tensor: { dims: [], data: BigInt64Array.of(1n) } } } },
        { op: 'Cast', inputs: ['c'], outputs: ['cb'], attrs: { to: 9 } },
        { op: 'If', inputs: ['cb'], outputs: ['y'], attrs: { then_branch: branch('yt'), else_branch: branch('ye') } },
      ],
    });
    expect(await run(viaIf, x, true)).toEqual(await run(flat(0.3), x, true));
    // Two outputs, the second (a Relu nobody reads) dropped by the call.
    const two: BuildFunction = { ...mlp, name: 'Two', outputs: ['b', 'extra'], nodes: [...mlp.nodes, { op: 'Relu', inputs: ['a'], outputs: ['extra'] }] };
    const dropped = model({ functions: [dense, mlp, two], nodes: [{ ...call(), op: 'Two' }] });
    expect(await run(dropped, x, true)).toEqual(await run(flat(0.3), x, true));
  });

  it('refuses recursion, a name from outside the function, an output it never defines, an opset other than the model\'s and too many inputs, in one line', () => {
    const bad = (m: Partial<BuildModel>) => usageMessage(() => importOnnx(model(m), 'fn.onnx'));
    const loop: BuildFunction = { domain: D, name: 'Loopy', inputs: ['a'], outputs: ['b'], nodes: [{ op: 'Loopy', domain: D, inputs: ['a'], outputs: ['b'] }] };
    expect(bad({ functions: [loop], nodes: [{ op: 'Loopy', domain: D, inputs: ['x'], outputs: ['y'] }] })).toMatch(/^fn\.onnx: function "Loopy" of domain "my\.modules" calls itself/);
    const leak: BuildFunction = { domain: D, name: 'Leak', inputs: ['a'], outputs: ['b'], nodes: [{ op: 'MatMul', inputs: ['a', 'W1'], outputs: ['b'] }] };
    expect(bad({ functions: [leak], nodes: [{ op: 'Leak', domain: D, inputs: ['x'], outputs: ['y'] }] })).toMatch(/^fn\.onnx: function "Leak" of domain "my\.modules" reads "W1", which is neither its input nor defined in it before$/);
    expect(bad({ functions: [dense, { ...mlp, opset: 12 }] })).toMatch(/imports opset 12 of the default ONNX domain and the model opset 13/);
    expect(bad({ nodes: [{ ...call(), inputs: ['x', 'W1', 'W2', 'W2'] }] })).toMatch(/^fn\.onnx: node "net" \(Mlp\) has 4 inputs and 1 outputs; function "Mlp" takes 3 and gives 1$/);
    // PyTorch 1.13 wrote torchvision swin_t's ShiftedWindowAttention with an output nothing defines.
    const hollow: BuildFunction = { domain: D, name: 'Hollow', inputs: ['a'], outputs: ['b', 'ghost'], nodes: [{ op: 'Relu', inputs: ['a'], outputs: ['b'] }] };
    expect(bad({ functions: [hollow], nodes: [{ op: 'Hollow', domain: D, inputs: ['x'], outputs: ['h', 'g'] }, { op: 'Add', inputs: ['h', 'g'], outputs: ['y'] }] })).toMatch(/^fn\.onnx: function "Hollow" of domain "my\.modules" gives "ghost" as output 1, which it neither takes nor defines \(the exporter wrote a broken function\)$/);
    for (const m of [{ functions: [loop] }, { functions: [leak] }]) expect(bad({ ...m, nodes: [{ op: 'Loopy', domain: D, inputs: ['x'], outputs: ['y'] }] })).not.toContain('\n');
  });
});
