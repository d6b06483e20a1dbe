/**
 * Pooling and resampling: MaxPool, AveragePool and their global forms (1-D and 2-D → the IR's pool;
 * global pools over other ranks → reduce), LpPool and GlobalLpPool through them, Resize and Upsample
 * (nearest and linear).
 */
import type { PoolOp, ResizeOp } from '../../../ir/graph.ts';
import { floatsOf, intsOf, isBatchDim } from '../consts.ts';
import { NodeError, oneOf } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { Expansion, copied, dim, dimsOf, intAttr } from './expansion.ts';
import { spatial, spatialInput, spatialOut, spatialPair, volumeAxes } from './window.ts';

function pool(mode: 'max' | 'avg', global: boolean): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'X');
    if (mode === 'max') n.requireUnusedExtraOutputs('indices');
    if (global && n.imp.batched && x.shape.length > 3) return globalReduce(n, x, mode);
    if (!global && n.imp.batched && x.shape.length === 4) return pool3d(n, x, mode);
    const s = spatialInput(n, x, 'pooling');
    let kernel: [number, number] = s.size;
    let strides: [number, number] = [1, 1];
    let dilations: [number, number] = [1, 1];
    let pads: [number, number, number, number] = [0, 0, 0, 0];
    let out: [number, number] = [1, 1];
    let countIncludePad = false;
    if (!global) {
      const ks = n.a.ints('kernel_shape', null);
      if (!ks || ks.length !== (s.oneD ? 1 : 2)) throw new NodeError(`needs a ${s.oneD ? 1 : 2}-entry kernel_shape`);
      kernel = s.oneD ? [1, ks[0]] : [ks[0], ks[1]];
      strides = spatialPair(n, 'strides', s, 1);
      dilations = spatialPair(n, 'dilations', s, 1);
      countIncludePad = mode === 'avg' && n.a.int('count_include_pad', 0) !== 0;
      const geo = spatial(n, s, kernel, strides, dilations, n.a.int('ceil_mode', 0) !== 0);
      pads = geo.pads;
      out = geo.out;
    }
    const [H, W] = s.size;
    const input = s.oneD ? reshape(n, x, [s.C, 1, W]) : x;
    const output = s.oneD ? n.imp.fresh(`${n.name}/2d`) : n.out;
    const op: PoolOp = {
      kind: 'pool', name: n.name, inputs: [input.name], output, mode, kernel, strides, pads, dilations,
      countIncludePad, inShape: [s.C, H, W], outShape: [s.C, out[0], out[1]],
    };
    n.imp.emit(op, [...op.outShape]);
    if (s.oneD) reshape(n, n.imp.valueOf(output)!, spatialOut(s, s.C, out), n.out);
  };
}

/**
 * A 3-D pool as two 2-D ones: max and average pooling are separable, since the valid (or counted)
 * taps of a box window are a box (each axis's count multiplies). First (H, W) on every depth slice,
 * then D on every output pixel.
 */
function pool3d(n: NodeContext, x: Value, mode: 'max' | 'avg'): void {
  const [C, D, H, W] = x.shape;
  const ks = n.a.ints('kernel_shape', null);
  if (!ks || ks.length !== 3) throw new NodeError('needs a 3-entry kernel_shape');
  const [gd, gh, gw] = volumeAxes(n, [D, H, W], ks, n.a.int('ceil_mode', 0) !== 0);
  const countIncludePad = mode === 'avg' && n.a.int('count_include_pad', 0) !== 0;
  const step = (input: Value, inShape: [number, number, number], kernel: [number, number], strides: [number, number], dil: [number, number], pads: [number, number, number, number], outShape: [number, number, number], out: string): Value => {
    n.imp.emit({ kind: 'pool', name: n.name, inputs: [input.name], output: out, mode, kernel, strides, pads, dilations: dil, countIncludePad, inShape, outShape }, [...outShape]);
    return n.imp.valueOf(out)!;
  };
  const slices = reshape(n, x, [C * D, H, W]);
  const hw = step(slices, [C * D, H, W], [ks[1], ks[2]], [gh.stride, gw.stride], [gh.dil, gw.dil], [gh.pads[0], gw.pads[0], gh.pads[1], gw.pads[1]], [C * D, gh.out, gw.out], n.imp.fresh(`${n.name}/hw`));
  const cols = reshape(n, hw, [C, D, gh.out * gw.out]);
  const d = step(cols, [C, D, gh.out * gw.out], [ks[0], 1], [gd.stride, 1], [gd.dil, 1], [gd.pads[0], 0, gd.pads[1], 0], [C, gd.out, gh.out * gw.out], n.imp.fresh(`${n.name}/d`));
  reshape(n, d, [C, gd.out, gh.out, gw.out], n.out);
}

/** A global pool over 3 or more spatial axes: a mean or max over them. */
function globalReduce(n: NodeContext, x: Value, mode: 'max' | 'avg'): void {
  const axes = x.shape.slice(1).map((_, i) => i + 1);
  const outShape = x.shape.map((d, i) => (i === 0 ? d : 1));
  n.imp.emit({ kind: 'reduce', name: n.name, inputs: [x.name], output: n.out, fn: mode === 'max' ? 'max' : 'mean', axes, keepDims: true, inShape: x.shape, outShape }, outShape);
}

function reshape(n: NodeContext, x: Value, shape: number[], out = n.imp.fresh(`${n.name}/reshape`)): Value {
  n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: out, outShape: shape }, shape, x.dtype);
  return n.imp.valueOf(out)!;
}

const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;


/** Full-rank scales, output dims and crop region of a Resize from its roi, scales or sizes inputs (opset 11+ forms). */
function resizeTarget(n: NodeContext, inDims: number[], crop: boolean): { scales: number[]; out: number[]; roi: number[] | null } {
  const r = inDims.length;
  const axes = (n.opset >= 18 ? n.a.ints('axes', null) : null)?.map((a) => (a < 0 ? a + r : a)) ?? inDims.map((_, i) => i);
  let roi: number[] | null = null;
  if (crop) {
    const given = floatsOf(n.constIn(1, 'roi'), 'roi');
    if (given.length !== 2 * axes.length) throw new NodeError(`roi has ${given.length} entries for ${axes.length} axes (needs ${2 * axes.length})`);
    roi = [...new Array<number>(r).fill(0), ...new Array<number>(r).fill(1)];
    axes.forEach((a, i) => {
      roi![a] = given[i];
      roi![r + a] = given[axes.length + i];
    });
  }
  const sc = n.optConst(2, 'scales');
  const sz = n.optConst(3, 'sizes');
  const scales = inDims.map(() => 1);
  const out = [...inDims];
  if (sc && sc.dims.reduce((a, b) => a * b, 1) > 0) {
    const v = floatsOf(sc, 'scales');
    if (v.length !== axes.length) throw new NodeError(`scales has ${v.length} entries for ${axes.length} axes`);
    axes.forEach((a, i) => {
      if (!(v[i] > 0)) throw new NodeError(`scales[${i}] = ${v[i]}; scales must be positive`);
      scales[a] = v[i];
      out[a] = Math.floor(inDims[a] * (roi ? roi[r + a] - roi[a] : 1) * v[i]);
    });
    return { scales, out, roi };
  }
  if (!sz) throw new NodeError('needs scales or sizes');
  // F.interpolate(size=...) exports sizes as Concat(Shape(x)[:2], [h, w]): the batch entry is the
  // batch itself (symbolic, or the declared number of a static export), kept whole.
  const declared = n.imp.declaredBatch;
  const v = intsOf(sz).map((d, i) => {
    const batchAxis = n.imp.batched && axes[i] === 0;
    if (isBatchDim(d)) {
      if (batchAxis && d.k === 1) return inDims[0];
      throw new NodeError(`sizes[${i}] is ${d}; only the batch axis may hold the batch size`);
    }
    return batchAxis && declared !== null && d === declared ? inDims[0] : d;
  });
  if (v.length !== axes.length) throw new NodeError(`sizes has ${v.length} entries for ${axes.length} axes`);
  const policy = oneOf(n, 'keep_aspect_ratio_policy', n.opset >= 18 ? n.a.str('keep_aspect_ratio_policy', 'stretch') : 'stretch', ['stretch', 'not_larger', 'not_smaller']);
  const ratios = axes.map((a, i) => v[i] / inDims[a]);
  const keep = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
  axes.forEach((a, i) => {
    scales[a] = policy === 'stretch' ? ratios[i] : keep;
    out[a] = policy === 'stretch' ? v[i] : Math.floor(keep * inDims[a] + 0.5);
  });
  return { scales, out, roi };
}

function resize(n: NodeContext): void {
  const x = n.value(0, 'X');
  const inDims = n.imp.batched ? [1, ...x.shape] : [...x.shape];
  const legacy = n.op === 'Upsample' || n.opset < 11;
  const mode = oneOf(n, 'mode', n.a.str('mode', 'nearest'), legacy ? (['nearest', 'linear'] as const) : (['nearest', 'linear', 'cubic'] as const));
  let target: { scales: number[]; out: number[]; roi: number[] | null };
  let coordinateTransform: ResizeOp['coordinateTransform'] = 'asymmetric';
  let nearestMode: ResizeOp['nearestMode'] = 'round_prefer_floor';
  let antialias = false;
  if (legacy) {
    // Upsample-7 gives the scales as an attribute; from opset 9 on they are an input.
    const v = n.opset < 9 ? n.a.floats('scales', null) : floatsOf(n.constIn(1, 'scales'), 'scales');
    if (!v) throw new NodeError('attribute "scales" is missing');
    if (v.length !== inDims.length) throw new NodeError(`scales has ${v.length} entries for a rank-${inDims.length} input`);
    target = { scales: [...v], out: inDims.map((d, i) => Math.floor(d * v[i])), roi: null };
    // Upsample and Resize-10 pick the input element at floor(x / scale) going up, ceil going down (as ONNX Runtime).
    if (mode === 'nearest') nearestMode = v.some((s) => s < 1) ? 'ceil' : 'floor';
  } else {
    coordinateTransform = oneOf(n, 'coordinate_transformation_mode', n.a.str('coordinate_transformation_mode', 'half_pixel'), TRANSFORMS);
    // Only nearest reads the rounding mode; linear keeps the default so equal ops compare equal.
    const nm = oneOf(n, 'nearest_mode', n.a.str('nearest_mode', 'round_prefer_floor'), NEAREST_MODES);
    if (mode === 'nearest') nearestMode = nm;
    target = resizeTarget(n, inDims, coordinateTransform === 'tf_crop_and_resize');
    antialias = n.opset >= 18 && n.a.int('antialias', 0) !== 0;
    if (antialias && mode === 'nearest') throw new NodeError('attribute "antialias" is 1 with mode "nearest"; allowed: 0 (antialiasing applies to linear and cubic)');
  }
  if (n.imp.batched && (target.out[0] !== inDims[0] || (target.roi && (target.roi[0] !== 0 || target.roi[inDims.length] !== 1)))) {
    throw new NodeError(`resizes or crops the batch dimension (scale ${target.scales[0]}); it must stay whole`);
  }
  const lead = n.imp.batched ? 1 : 0;
  const outShape = target.out.slice(lead);
  if (outShape.some((d) => d < 1)) throw new NodeError(`output dims [${target.out.join(', ')}] must be at least 1`);
  const roi = target.roi ? [...target.roi.slice(lead, inDims.length), ...target.roi.slice(inDims.length + lead)] : null;
  const op: ResizeOp = {
    kind: 'resize', name: n.name, inputs: [x.name], output: n.out, mode, coordinateTransform, nearestMode,
    scales: target.scales.slice(lead), roi, extrapolationValue: n.a.float('extrapolation_value', 0), antialias, inShape: x.shape, outShape,
    // Read for cubic only, so that equal ops of the other modes compare equal.
    cubicCoeffA: mode === 'cubic' ? n.a.float('cubic_coeff_a', -0.75) : -0.75,
    excludeOutside: mode === 'cubic' && n.a.int('exclude_outside', 0) !== 0,
  };
  n.imp.emit(op, outShape, x.dtype);
}

/** Pooling and resampling ops by ONNX op type. */
/**
 * LpPool and GlobalLpPool, (Σ |x|^p)^(1/p) over each window, expanded into the ONNX nodes that
 * compute it: |x|^p, an AveragePool counting the zero padding (whose |0|^p adds nothing) times the
 * window's size, and the p-th root. ceil_mode is refused: a window running past the padding would
 * divide by fewer taps.
 */
function lpPool(global: boolean): (n: NodeContext) => void {
  return (n) => {
    const dims = dimsOf(n, 0, 'X');
    const p = n.a.int('p', 2);
    if (p < 1) throw new NodeError(`attribute "p" is ${p}; it must be a positive integer`);
    if (n.a.int('ceil_mode', 0) !== 0) throw new NodeError('attribute "ceil_mode" is 1; only 0 is supported for LpPool');
    const e = new Expansion(n);
    const x = n.ins[0];
    const pth = p === 1 ? e.op('Abs', [x], 'abs') : p === 2 ? e.op('Mul', [x, x], 'square') : e.op('Pow', [e.op('Abs', [x], 'abs'), e.scalar(p, 'p')], 'pow');
    let taps: number;
    let mean: string;
    if (global) {
      taps = dims.slice(2).map((_, i) => dim(dims, i + 2, 'spatial axis')).reduce((a, b) => a * b, 1);
      mean = e.op('GlobalAveragePool', [pth], 'mean');
    } else {
      const kernel = n.a.ints('kernel_shape', null);
      if (!kernel) throw new NodeError('needs a kernel_shape');
      taps = kernel.reduce((a, k) => a * k, 1);
      mean = e.op('AveragePool', [pth], 'mean', [...copied(n, ['kernel_shape', 'strides', 'pads', 'auto_pad', 'dilations']), intAttr('count_include_pad', 1)]);
    }
    const sum = e.op('Mul', [mean, e.scalar(taps, 'taps')], 'sum');
    e.finish([p === 1 ? sum : p === 2 ? e.op('Sqrt', [sum], 'root') : e.op('Pow', [sum, e.scalar(1 / p, 'inverse-p')], 'root')]);
  };
}

export const POOLING_OPS: OpTable = {
  MaxPool: { activation: pool('max', false) },
  AveragePool: { activation: pool('avg', false) },
  GlobalAveragePool: { activation: pool('avg', true) },
  GlobalMaxPool: { activation: pool('max', true) },
  LpPool: { activation: lpPool(false) },
  GlobalLpPool: { activation: lpPool(true) },
  Resize: { activation: resize },
  Upsample: { activation: resize },
};
