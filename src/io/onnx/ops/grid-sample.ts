/**
 * GridSample (F.grid_sample: spatial transformers, flow warping) of 4-D inputs, and the AffineGrid
 * that makes a spatial transformer's grid. GridSample is lowered at import to
 * the elementwise ops and per-sample gathers its definition is written in: the grid's coordinates
 * are unnormalized (align_corners), padded (border clamps, reflection mirrors), cut into taps (1
 * nearest, 2×2 linear, 4×4 cubic with A = −0.75), and each tap reads X at its flat index where it
 * lies inside, weighted. The formulas follow PyTorch's grid_sampler_2d, which ONNX's definition and
 * onnxruntime reproduce.
 */
import type { BinaryFn, UnaryFn } from '../../../ir/graph.ts';
import { intsOf, isBatchDim } from '../consts.ts';
import { NodeError, oneOf } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { emitBinary, emitUnary } from './elementwise.ts';
import { gatherAlong } from './gather.ts';
import { reshapeTo } from './matrix.ts';

/** PyTorch's bicubic A (aten/src/ATen/native/UpSample.h get_cubic_upsampling_coefficients). */
const CUBIC_A = -0.75;

type Padding = 'zeros' | 'border' | 'reflection';

/** Emits the ops of one GridSample node, each a fresh value named under the node. */
class Lowering {
  constructor(readonly n: NodeContext) {}

  private fresh(tag: string): string {
    return this.n.imp.fresh(`${this.n.name}/${tag}`);
  }

  bin(fn: BinaryFn, a: Value, b: Value | number): Value {
    const out = this.fresh(fn);
    const rhs = typeof b === 'number' ? { c: { kind: 'float' as const, dims: [], data: Float32Array.of(b) } } : { v: b };
    emitBinary(this.n, fn, { v: a }, rhs, out, `${this.n.name}/${fn}`);
    return this.n.imp.valueOf(out)!;
  }

  un(fn: UnaryFn, a: Value): Value {
    return emitUnary(this.n, fn, a, this.fresh(fn), `${this.n.name}/${fn}`);
  }

  clip(a: Value, lo: number, hi: number): Value {
    const out = this.fresh('clip');
    this.n.imp.emit({ kind: 'unary', name: `${this.n.name}/clip`, inputs: [a.name], output: out, fn: 'clip', alpha: 0, min: lo, max: hi }, [...a.shape]);
    return this.n.imp.valueOf(out)!;
  }

  /** Coordinate `i` (0 = x, 1 = y) of every grid point: [Ho, Wo]. */
  coordinate(grid: Value, i: number): Value {
    const out = this.fresh(i === 0 ? 'x' : 'y');
    const [Ho, Wo] = grid.shape;
    this.n.imp.emit({ kind: 'gather', name: `${this.n.name}/${i === 0 ? 'x' : 'y'}`, inputs: [grid.name], output: out, axis: 2, indices: Int32Array.of(i), indicesShape: [], inShape: grid.shape, outShape: [Ho, Wo] }, [Ho, Wo], grid.dtype);
    return this.n.imp.valueOf(out)!;
  }

  /** Grid coordinates in [−1, 1] as pixel coordinates along an axis of `size` (grid_sampler_unnormalize). */
  unnormalize(g: Value, size: number, align: boolean): Value {
    const plus = this.bin('add', g, 1);
    return align ? this.bin('mul', this.bin('div', plus, 2), size - 1) : this.bin('div', this.bin('sub', this.bin('mul', plus, size), 1), 2);
  }

  /** Padding applied to pixel coordinates (PyTorch's compute_coordinates): clamped, or mirrored then clamped. */
  pad(c: Value, size: number, padding: Padding, align: boolean): Value {
    if (padding === 'zeros') return c;
    if (padding === 'border') return this.clip(c, 0, size - 1);
    const [low, high] = align ? [0, 2 * (size - 1)] : [-1, 2 * size - 1];
    // A single pixel with aligned corners: every coordinate reflects to 0.
    if (low === high) return this.bin('mul', c, 0);
    const min = low / 2;
    const span = (high - low) / 2;
    const d = this.un('abs', this.bin('sub', c, min));
    const flips = this.un('floor', this.bin('div', d, span));
    const extra = this.bin('sub', d, this.bin('mul', flips, span));
    const odd = this.bin('sub', flips, this.bin('mul', this.un('floor', this.bin('div', flips, 2)), 2));
    // Even flips: min + extra; odd: min + span − extra.
    const mirrored = this.bin('add', this.bin('add', extra, min), this.bin('mul', odd, this.bin('add', this.bin('mul', extra, -2), span)));
    return this.clip(mirrored, 0, size - 1);
  }

  /** 1 where integer coordinate `c` lies in [0, size), else 0. */
  inside(c: Value, size: number): Value {
    return this.bin('mul', this.bin('greater', c, -1), this.bin('less', c, size));
  }
}

/** One tap: integer pixel coordinates and a weight per grid point ([Ho, Wo] each). */
interface Tap {
  x: Value;
  y: Value;
  w: Value;
}

/** The cubic convolution weights of the 4 taps around a fractional offset t (upsample_bicubic2d's). */
function cubicWeights(L: Lowering, t: Value): Value[] {
  const A = CUBIC_A;
  // ((A·x − 5A)·x + 8A)·x − 4A for the outer taps, ((A + 2)·x − (A + 3))·x·x + 1 for the inner ones.
  const outer = (x: Value): Value => L.bin('sub', L.bin('mul', L.bin('add', L.bin('mul', L.bin('sub', L.bin('mul', x, A), 5 * A), x), 8 * A), x), 4 * A);
  const inner = (x: Value): Value => L.bin('add', L.bin('mul', L.bin('mul', L.bin('sub', L.bin('mul', x, A + 2), A + 3), x), x), 1);
  const rest = L.bin('add', L.bin('mul', t, -1), 1);
  return [outer(L.bin('add', t, 1)), inner(t), inner(rest), outer(L.bin('add', rest, 1))];
}

/** The taps of every grid point with their weights (before the inside test). */
function taps(L: Lowering, ix: Value, iy: Value, mode: 'nearest' | 'linear' | 'cubic', H: number, W: number, padding: Padding, align: boolean): Tap[] {
  if (mode === 'nearest') {
    const one = L.bin('add', L.bin('mul', ix, 0), 1);
    return [{ x: L.un('round', ix), y: L.un('round', iy), w: one }];
  }
  const x0 = L.un('floor', ix);
  const y0 = L.un('floor', iy);
  if (mode === 'linear') {
    const x1 = L.bin('add', x0, 1);
    const y1 = L.bin('add', y0, 1);
    const [wx0, wx1, wy0, wy1] = [L.bin('sub', x1, ix), L.bin('sub', ix, x0), L.bin('sub', y1, iy), L.bin('sub', iy, y0)];
    return [
      { x: x0, y: y0, w: L.bin('mul', wx0, wy0) },
      { x: x1, y: y0, w: L.bin('mul', wx1, wy0) },
      { x: x0, y: y1, w: L.bin('mul', wx0, wy1) },
      { x: x1, y: y1, w: L.bin('mul', wx1, wy1) },
    ];
  }
  const wx = cubicWeights(L, L.bin('sub', ix, x0));
  const wy = cubicWeights(L, L.bin('sub', iy, y0));
  // Cubic taps are padded one by one (get_value_bounded), the coordinate itself only unnormalized.
  const xs = [-1, 0, 1, 2].map((d) => L.pad(L.bin('add', x0, d), W, padding, align));
  const ys = [-1, 0, 1, 2].map((d) => L.pad(L.bin('add', y0, d), H, padding, align));
  return ys.flatMap((y, j) => xs.map((x, i) => ({ x, y, w: L.bin('mul', wx[i], wy[j]) })));
}

function gridSample(n: NodeContext): void {
  const x = n.operand(0, 4, 'X');
  const grid = n.operand(1, 4, 'grid');
  if (x.shape.length !== 3) throw new NodeError(`X has per-sample shape [${x.shape.join(', ')}]; only 4-D inputs [N, C, H, W] are supported`);
  if (grid.shape.length !== 3 || grid.shape[2] !== 2) throw new NodeError(`grid has per-sample shape [${grid.shape.join(', ')}]; a 4-D X needs a grid [N, H_out, W_out, 2]`);
  const modes = n.opset >= 20 ? (['linear', 'nearest', 'cubic'] as const) : (['bilinear', 'nearest', 'bicubic'] as const);
  const named = oneOf(n, 'mode', n.a.str('mode', modes[0]), modes);
  const mode = named === 'bilinear' ? 'linear' : named === 'bicubic' ? 'cubic' : named;
  const padding = oneOf(n, 'padding_mode', n.a.str('padding_mode', 'zeros'), ['zeros', 'border', 'reflection'] as const);
  const align = n.a.int('align_corners', 0) === 1;
  const [C, H, W] = x.shape;
  const [Ho, Wo] = grid.shape;
  const L = new Lowering(n);
  const unnorm = (i: number, size: number): Value => L.unnormalize(L.coordinate(grid, i), size, align);
  // Linear and nearest pad the coordinate before it is cut into taps, cubic each tap after.
  const at = (i: number, size: number): Value => (mode === 'cubic' ? unnorm(i, size) : L.pad(unnorm(i, size), size, padding, align));
  const flat = reshapeTo(n, x, [C, H * W]);
  let sum: Value | null = null;
  for (const t of taps(L, at(0, W), at(1, H), mode, H, W, padding, align)) {
    const weight = reshapeTo(n, L.bin('mul', t.w, L.bin('mul', L.inside(t.x, W), L.inside(t.y, H))), [1, Ho * Wo]);
    // Outside taps read a clamped index and weigh 0.
    const index = L.bin('add', L.bin('mul', L.clip(t.y, 0, H - 1), W), L.clip(t.x, 0, W - 1));
    const term = L.bin('mul', gatherAlong(n, flat, index, 1, 'tap'), weight);
    sum = sum ? L.bin('add', sum, term) : term;
  }
  reshapeTo(n, sum!, [C, Ho, Wo], n.out);
}

/** `size` points from −1 to 1 (torch.linspace), pulled in to pixel centres without align_corners. */
function axisPoints(size: number, align: boolean): number[] {
  return Array.from({ length: size }, (_, j) => {
    const p = size === 1 ? -1 : -1 + (2 * j) / (size - 1);
    return align ? p : (p * (size - 1)) / size;
  });
}

/**
 * AffineGrid (opset 20; F.affine_grid, a spatial transformer's grid) of 2-D sizes: the grid [H·W, 3]
 * of (x, y, 1) points times θᵀ per sample, a digital matmul (θ comes from the data).
 */
function affineGrid(n: NodeContext): void {
  const theta = n.value(0, 'theta');
  const size = intsOf(n.constIn(1, 'size'));
  if (size.length !== 4) throw new NodeError(`size has ${size.length} entries; only 2-D grids (size [N, C, H, W]) are supported`);
  if (theta.shape.length !== 2 || theta.shape[0] !== 2 || theta.shape[1] !== 3) throw new NodeError(`theta has per-sample shape [${theta.shape.join(', ')}]; a 2-D grid needs [2, 3]`);
  const [H, W] = size.slice(2);
  if (isBatchDim(H) || isBatchDim(W) || !(H > 0 && W > 0)) throw new NodeError(`size [${size.join(', ')}] must have positive static H and W`);
  const align = n.a.int('align_corners', 0) === 1;
  const [xs, ys] = [axisPoints(W, align), axisPoints(H, align)];
  const base = new Float32Array(H * W * 3);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) base.set([xs[j], ys[i], 1], (i * W + j) * 3);
  const points = n.constValue({ kind: 'float', dims: [H * W, 3], data: base }, [H * W, 3], 'points');
  const thetaT = n.imp.fresh(`${n.name}/thetaT`);
  n.imp.emit({ kind: 'transpose', name: `${n.name}/thetaT`, inputs: [theta.name], output: thetaT, perm: [1, 0], inShape: [2, 3] }, [3, 2]);
  const grid = n.imp.fresh(`${n.name}/grid`);
  n.imp.emit({ kind: 'matmul', name: n.name, inputs: [points.name, thetaT], output: grid, aShape: [H * W, 3], bShape: [3, 2], outShape: [H * W, 2] }, [H * W, 2]);
  reshapeTo(n, n.imp.valueOf(grid)!, [H, W, 2], n.out);
}

/** GridSample and AffineGrid by ONNX op type. */
export const GRID_SAMPLE_OPS: OpTable = {
  GridSample: { activation: gridSample, constInputs: true },
  AffineGrid: { activation: affineGrid },
};
