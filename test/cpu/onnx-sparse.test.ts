import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildNode, type BuildSparse } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// A pruned weight stored as its nonzeros (sparse_initializer, Constant's sparse_value) imports as
// the dense matrix it stands for: the same network, programmed on the same cells, as the dense file.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const CFG = resolveConfig({ preset: 'isaac', seed: 7 });
const [B, K, N] = [3, 12, 5];

/** A weight with 80% of its entries pruned to 0. */
const W = randomArray(K * N, 51).map((v, i) => ((i * 7) % 5 === 0 ? v : 0));
const nonzero = [...W.keys()].filter((i) => W[i] !== 0);

function sparseW(coordinates: boolean): BuildSparse {
  const idx = coordinates ? nonzero.flatMap((i) => [Math.floor(i / N), i % N]) : nonzero;
  return {
    dims: [K, N],
    values: { name: 'W', dims: [nonzero.length], data: Float32Array.from(nonzero, (i) => W[i]) },
    indices: { dims: coordinates ? [nonzero.length, 2] : [nonzero.length], data: BigInt64Array.from(idx.map(BigInt)) },
  };
}

const layer: BuildNode[] = [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] }, { op: 'Relu', inputs: ['h'], outputs: ['y'] }];
const io = { inputs: [{ name: 'x', dims: ['batch', K] }], outputs: [{ name: 'y', dims: ['batch', N] }] };

async function run(bytes: Uint8Array, x: Float32Array, digital: boolean): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'sparse.onnx'), CFG, digital);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

describe('sparse tensors (pruned weights)', () => {
  it('a sparse initializer, by linear or coordinate indices, and a sparse Constant give the dense network, digital and on chip 0', async () => {
    const dense = buildOnnxModel({ ...io, initializers: [{ name: 'W', dims: [K, N], data: W }], nodes: layer });
    const files = [
      buildOnnxModel({ ...io, sparseInitializers: [sparseW(false)], nodes: layer }),
      buildOnnxModel({ ...io, sparseInitializers: [sparseW(true)], nodes: layer }),
      buildOnnxModel({ ...io, nodes: [{ op: 'Constant', inputs: [], outputs: ['W'], attrs: { sparse_value: { sparse: sparseW(true) } } }, ...layer] }),
    ];
    const x = randomArray(B * K, 52);
    for (const digital of [true, false]) {
      const want = await run(dense, x, digital);
      for (const f of files) expect(await run(f, x, digital)).toEqual(want);
    }
  });

  it('refuses a position given twice, an index outside the dims, and indices of the wrong shape, in one line', () => {
    const bad = (s: BuildSparse) => usageMessage(() => importOnnx(buildOnnxModel({ ...io, sparseInitializers: [s], nodes: layer }), 'sparse.onnx'));
    const base = sparseW(false);
    const twice = { ...base, indices: { dims: [2], data: BigInt64Array.of(3n, 3n) }, values: { name: 'W', dims: [2], data: Float32Array.of(1, 2) } };
    expect(bad(twice)).toMatch(/^sparse\.onnx: sparse initializer: sparse tensor "W": position 3 is given twice$/);
    const outside = { ...base, indices: { dims: [1, 2], data: BigInt64Array.of(0n, BigInt(N)) }, values: { name: 'W', dims: [1], data: Float32Array.of(1) } };
    expect(bad(outside)).toMatch(/index 5 of value 0 is outside dim 1 of 5$/);
    const shape = { ...base, indices: { dims: [1, 3], data: BigInt64Array.of(0n, 0n, 0n) }, values: { name: 'W', dims: [1], data: Float32Array.of(1) } };
    expect(bad(shape)).toMatch(/indices have dims \[1, 3\]; 1 values need \[1\] or \[1, 2\]$/);
  });
});
