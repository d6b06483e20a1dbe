import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { randomArray } from '../helpers/random.ts';

// Swin's window attention as PyTorch exports it (microsoft/Swin-Transformer, torchvision): windows
// are split off the batch ([B·nW, N, C], a merged batch), qkv is reshaped to [B·nW, N, 3, h, d] and
// permuted to [3, B·nW, h, N, d], q/k/v are picked with Gather on axis 0, and window_reverse views
// [B·nW, ...] back as [B, ...]. Found by the third battery: the Gather was refused on a merged batch,
// and a static export's window_reverse (B computed with int(), −1 for C) was refused too.
const CFG = resolveConfig({ preset: 'ideal' });
const B = 3;
const NW = 2;
const N = 3;
const C = 4;
const i64 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: BigInt64Array.from(v, BigInt) });

/** x [B, nW, N, 2·C] → windows [B·nW, N, 2, C] → [2, B·nW, N, C] → Gather(0, which) → [B, nW, N, C]. */
function windowModel(dynamic: boolean, which: number): Uint8Array {
  const nodes: BuildNode[] = [];
  const init = [i64('which', [which], []), i64('ax0', [0])];
  if (dynamic) {
    init.push(i64('split', [-1, N, 2, C]), i64('i0', [0], []), i64('rest', [NW, N, -1]));
    nodes.push(
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['b'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['b', 'ax0'], outputs: ['bu'] },
      { op: 'Concat', inputs: ['bu', 'rest'], outputs: ['back'], attrs: { axis: 0 } },
    );
  } else init.push(i64('split', [B * NW, N, 2, C]), i64('back', [B, NW, N, -1]));
  nodes.push(
    { op: 'Reshape', inputs: ['x', 'split'], outputs: ['w'] },
    { op: 'Transpose', inputs: ['w'], outputs: ['t'], attrs: { perm: [2, 0, 1, 3] } },
    { op: 'Gather', inputs: ['t', 'which'], outputs: ['q'], attrs: { axis: 0 }, name: 'pick' },
    { op: 'Reshape', inputs: ['q', 'back'], outputs: ['y'], name: 'reverse' },
  );
  const batch = dynamic ? 'batch' : B;
  return buildOnnxModel({ opset: 17, inputs: [{ name: 'x', dims: [batch, NW, N, 2 * C] }], outputs: [{ name: 'y', dims: [batch, NW, N, C] }], initializers: init, nodes });
}

/** The same in plain index arithmetic: y[b, w, n, c] = x[b, w, n, which·C + c]. */
function reference(x: Float32Array, which: number): Float32Array {
  const y = new Float32Array(B * NW * N * C);
  for (let r = 0; r < B * NW * N; r++) for (let c = 0; c < C; c++) y[r * C + c] = x[r * 2 * C + which * C + c];
  return y;
}

describe('Swin window attention: Gather beside a merged batch, and window_reverse', () => {
  for (const dynamic of [true, false]) {
    it(`${dynamic ? 'dynamic batch' : 'static export (B as a number, −1 per sample)'}: q and k are the right halves`, async () => {
      const x = randomArray(B * NW * N * 2 * C, 4);
      for (const which of [0, 1]) {
        const net = importOnnx(windowModel(dynamic, which), 'swin.onnx');
        expect(net.shapes.get(net.output)).toEqual([NW, N, C]);
        const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
        const y = (await runner.forward(null, x, B, 0)).output;
        runner.destroy();
        expect(y).toEqual(reference(x, which));
      }
    });
  }
});
