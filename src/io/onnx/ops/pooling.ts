/**
 * Pooling and resampling: MaxPool, AveragePool and their global forms (1-D and 2-D → the IR's pool;
 * global pools over other ranks → reduce), Resize and Upsample (nearest and linear).
 */
import type { PoolOp, ResizeOp } from '../../../ir/graph.ts';
import { floatsOf, plainIntsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { spatial, spatialInput, spatialOut, spatialPair } from './window.ts';

function pool(mode: 'max' | 'avg', global: boolean): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'X');
    if (mode === 'max') n.requireUnusedExtraOutputs('indices');
    if (global && n.imp.batched && x.shape.length > 3) return globalReduce(n, x, mode);
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

const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

function oneOf<T extends string>(n: NodeContext, attr: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new NodeError(`attribute ${quote(attr)} is ${quote(value)}; allowed: ${allowed.map((a) => quote(a)).join(', ')}`);
  }
  return value as T;
}

/** Full-rank scales and output dims of a Resize from its scales or sizes input (opset 11+ forms). */
function resizeTarget(n: NodeContext, inDims: number[]): { scales: number[]; out: number[] } {
  const r = inDims.length;
  const axes = (n.opset >= 18 ? n.a.ints('axes', null) : null)?.map((a) => (a < 0 ? a + r : a)) ?? inDims.map((_, i) => i);
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
      out[a] = Math.floor(inDims[a] * v[i]);
    });
    return { scales, out };
  }
  if (!sz) throw new NodeError('needs scales or sizes');
  const v = plainIntsOf(sz, 'sizes');
  if (v.length !== axes.length) throw new NodeError(`sizes has ${v.length} entries for ${axes.length} axes`);
  const policy = oneOf(n, 'keep_aspect_ratio_policy', n.opset >= 18 ? n.a.str('keep_aspect_ratio_policy', 'stretch') : 'stretch', ['stretch', 'not_larger', 'not_smaller']);
  const ratios = axes.map((a, i) => v[i] / inDims[a]);
  const keep = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
  axes.forEach((a, i) => {
    scales[a] = policy === 'stretch' ? ratios[i] : keep;
    out[a] = policy === 'stretch' ? v[i] : Math.floor(keep * inDims[a] + 0.5);
  });
  return { scales, out };
}

function resize(n: NodeContext): void {
  const x = n.value(0, 'X');
  const inDims = n.imp.batched ? [1, ...x.shape] : [...x.shape];
  const legacy = n.op === 'Upsample' || n.opset < 11;
  const mode = oneOf(n, 'mode', n.a.str('mode', 'nearest'), ['nearest', 'linear'] as const);
  let target: { scales: number[]; out: number[] };
  let coordinateTransform: ResizeOp['coordinateTransform'] = 'asymmetric';
  let nearestMode: ResizeOp['nearestMode'] = 'floor';
  if (legacy) {
    const v = floatsOf(n.constIn(1, 'scales'), 'scales');
    if (v.length !== inDims.length) throw new NodeError(`scales has ${v.length} entries for a rank-${inDims.length} input`);
    target = { scales: [...v], out: inDims.map((d, i) => Math.floor(d * v[i])) };
    // Upsample and Resize-10 pick the input element at floor(x / scale) going up, ceil going down (as ONNX Runtime).
    if (v.some((s) => s < 1)) nearestMode = 'ceil';
  } else {
    coordinateTransform = oneOf(n, 'coordinate_transformation_mode', n.a.str('coordinate_transformation_mode', 'half_pixel'), TRANSFORMS);
    nearestMode = oneOf(n, 'nearest_mode', n.a.str('nearest_mode', 'round_prefer_floor'), NEAREST_MODES);
    target = resizeTarget(n, inDims);
    if (n.a.int('antialias', 0) !== 0 && mode === 'linear' && target.scales.some((s) => s < 1)) {
      throw new NodeError('attribute "antialias" is 1 on a downsampling linear Resize; allowed: 0');
    }
  }
  if (n.imp.batched && target.out[0] !== inDims[0]) throw new NodeError(`scales resize the batch dimension (scale ${target.scales[0]}); it must be 1`);
  const lead = n.imp.batched ? 1 : 0;
  const outShape = target.out.slice(lead);
  if (outShape.some((d) => d < 1)) throw new NodeError(`output dims [${target.out.join(', ')}] must be at least 1`);
  const op: ResizeOp = {
    kind: 'resize', name: n.name, inputs: [x.name], output: n.out, mode, coordinateTransform, nearestMode,
    scales: target.scales.slice(lead), inShape: x.shape, outShape,
  };
  n.imp.emit(op, outShape, x.dtype);
}

/** Pooling and resampling ops by ONNX op type. */
export const POOLING_OPS: OpTable = {
  MaxPool: { activation: pool('max', false) },
  AveragePool: { activation: pool('avg', false) },
  GlobalAveragePool: { activation: pool('avg', true) },
  GlobalMaxPool: { activation: pool('max', true) },
  Resize: { activation: resize },
  Upsample: { activation: resize },
};
