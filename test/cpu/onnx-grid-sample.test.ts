import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type AttrValue } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// GridSample lowered at import (src/io/onnx/ops/grid-sample.ts). PyTorch's F.grid_sample in every
// mode, padding and align_corners is checked against its own outputs by the grid-sample-16 fixture
// (test/*/torch-exports.test.ts); here: grids whose result is known exactly, opset 20's mode names,
// a constant grid, and refusals.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 2;
const [C, H, W] = [3, 4, 5];

/** y = GridSample(x, grid) with `grid` a graph input ([batch, Ho, Wo, 2], packed after x) or a constant. */
function model(attrs: Record<string, AttrValue>, opset = 16, constGrid?: Float32Array, Ho = H, Wo = W): Uint8Array {
  return buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', C, H, W] }, ...(constGrid ? [] : [{ name: 'g', dims: ['batch', Ho, Wo, 2] }])],
    outputs: [{ name: 'y', dims: ['batch', C, Ho, Wo] }],
    initializers: constGrid ? [{ name: 'g', dims: [1, Ho, Wo, 2], data: constGrid }] : [],
    nodes: [{ op: 'GridSample', inputs: ['x', 'g'], outputs: ['y'], attrs }],
  });
}

async function run(bytes: Uint8Array, x: Float32Array, grid?: Float32Array): Promise<Float32Array> {
  const net = importOnnx(bytes, 'grid.onnx');
  const r = openNetwork(CPU, net, CFG, true);
  try {
    if (!grid) return (await r.forward(null, x, B, 0)).output;
    // Two graph inputs are packed per sample, x's elements then the grid's.
    const [xs, gs] = [x.length / B, grid.length / B];
    const packed = new Float32Array(x.length + grid.length);
    for (let b = 0; b < B; b++) {
      packed.set(x.subarray(b * xs, (b + 1) * xs), b * (xs + gs));
      packed.set(grid.subarray(b * gs, (b + 1) * gs), b * (xs + gs) + xs);
    }
    return (await r.forward(null, packed, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/** The grid that reads pixel (i + dy, j + dx) at output (i, j), in align_corners=1 coordinates. */
function shifted(dx: number, dy: number): Float32Array {
  const g = new Float32Array(H * W * 2);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      g[(i * W + j) * 2] = (2 * (j + dx)) / (W - 1) - 1;
      g[(i * W + j) * 2 + 1] = (2 * (i + dy)) / (H - 1) - 1;
    }
  }
  return g;
}

const x = randomArray(B * C * H * W, 41);
const pixel = (b: number, c: number, i: number, j: number): number => x[((b * C + c) * H + i) * W + j];
/** x shifted by (dx, dy), `fill` outside (null: the nearest edge pixel). */
const expectShift = (dx: number, dy: number, fill: number | null) =>
  Float32Array.from({ length: B * C * H * W }, (_, o) => {
    const [b, c, i, j] = [Math.floor(o / (C * H * W)), Math.floor(o / (H * W)) % C, Math.floor(o / W) % H, o % W];
    const [si, sj] = [i + dy, j + dx];
    if (si >= 0 && si < H && sj >= 0 && sj < W) return pixel(b, c, si, sj);
    return fill ?? pixel(b, c, Math.min(Math.max(si, 0), H - 1), Math.min(Math.max(sj, 0), W - 1));
  });

describe('GridSample', () => {
  it('reads whole pixels exactly from a shifted grid, with zeros or the border outside, in every mode', async () => {
    const grid = shifted(1, -1);
    for (const mode of ['bilinear', 'nearest', 'bicubic']) {
      // Bicubic at whole pixels weighs its neighbours 0 (up to rounding).
      const tol = mode === 'bicubic' ? 1e-5 : 1e-6;
      const g = Float32Array.from({ length: B * grid.length }, (_, i) => grid[i % grid.length]);
      expect(maxAbsDiff(await run(model({ mode, padding_mode: 'zeros', align_corners: 1 }), x, g), expectShift(1, -1, 0))).toBeLessThan(tol);
      expect(maxAbsDiff(await run(model({ mode, padding_mode: 'border', align_corners: 1 }), x, g), expectShift(1, -1, null))).toBeLessThan(tol);
    }
  });

  it('takes a constant grid, and opset 20 names the modes linear and cubic', async () => {
    const grid = randomArray(H * W * 2, 42, -1.3, 1.3);
    const g = Float32Array.from({ length: B * grid.length }, (_, i) => grid[i % grid.length]);
    for (const [old, now] of [['bilinear', 'linear'], ['bicubic', 'cubic'], ['nearest', 'nearest']]) {
      const want = await run(model({ mode: old, padding_mode: 'reflection' }), x, g);
      expect(await run(model({ mode: now, padding_mode: 'reflection' }, 20), x, g)).toEqual(want);
      expect(await run(model({ mode: old, padding_mode: 'reflection' }, 16, grid), x)).toEqual(want);
    }
  });

  it('refuses a mode of the other opset, an unknown padding and a 5-D input in one line', () => {
    expect(usageMessage(() => importOnnx(model({ mode: 'bilinear' }, 20), 'grid.onnx'))).toMatch(/\(GridSample\): attribute "mode" is "bilinear"; allowed: "linear", "nearest", "cubic"$/);
    expect(usageMessage(() => importOnnx(model({ mode: 'linear' }, 16), 'grid.onnx'))).toMatch(/allowed: "bilinear", "nearest", "bicubic"$/);
    expect(usageMessage(() => importOnnx(model({ padding_mode: 'wrap' }), 'grid.onnx'))).toMatch(/attribute "padding_mode" is "wrap"; allowed: "zeros", "border", "reflection"$/);
    const volume = buildOnnxModel({
      opset: 20,
      inputs: [{ name: 'x', dims: ['batch', 1, 2, 3, 4] }, { name: 'g', dims: ['batch', 2, 3, 4, 3] }],
      outputs: [{ name: 'y', dims: ['batch'] }],
      nodes: [{ op: 'GridSample', inputs: ['x', 'g'], outputs: ['y'] }],
    });
    expect(usageMessage(() => importOnnx(volume, 'grid.onnx'))).toMatch(/X has per-sample shape \[1, 2, 3, 4\]; only 4-D inputs \[N, C, H, W\] are supported$/);
  });

  it('AffineGrid (opset 20) maps each output pixel through θ; an identity θ reads the input back', async () => {
    // y = GridSample(x, AffineGrid(θ, Shape(x))) with θ a graph input [batch, 2, 3], packed after x.
    const stn = (align: number, out: 'grid' | 'y') =>
      buildOnnxModel({
        opset: 20,
        inputs: [{ name: 'x', dims: ['batch', C, H, W] }, { name: 't', dims: ['batch', 2, 3] }],
        outputs: [{ name: out, dims: ['batch'] }],
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['s'] },
          { op: 'AffineGrid', inputs: ['t', 's'], outputs: ['grid'], attrs: { align_corners: align } },
          { op: 'GridSample', inputs: ['x', 'grid'], outputs: ['y'], attrs: { align_corners: align } },
        ],
      });
    const theta = randomArray(B * 6, 43);
    for (const align of [0, 1]) {
      const at = (j: number, size: number) => (align ? -1 + (2 * j) / (size - 1) : (2 * j + 1) / size - 1);
      const want = Float32Array.from({ length: B * H * W * 2 }, (_, o) => {
        const [b, i, j, k] = [Math.floor(o / (H * W * 2)), Math.floor(o / (W * 2)) % H, Math.floor(o / 2) % W, o % 2];
        const t = theta.subarray(b * 6 + k * 3, b * 6 + k * 3 + 3);
        return t[0] * at(j, W) + t[1] * at(i, H) + t[2];
      });
      // Only θ reaches the grid (x's shape folds at import), so θ is the one input fed.
      expect(maxAbsDiff(await run(stn(align, 'grid'), theta), want)).toBeLessThan(1e-6);
      const identity = Float32Array.from({ length: B * 6 }, (_, i) => [1, 0, 0, 0, 1, 0][i % 6]);
      expect(maxAbsDiff(await run(stn(align, 'y'), x, identity), x)).toBeLessThan(1e-6);
    }
  });
});
