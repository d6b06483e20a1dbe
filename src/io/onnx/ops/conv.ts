/**
 * Conv → crossbar layers. A 1-D or 2-D window is one conv op (1-D as 2-D on a height of 1). A 3-D
 * window (Conv3d: video, volumes) is one weight read at every output depth, as the crossbar holding
 * it would be: each output plane is a 2-D conv over the kd input planes its window spans, stacked as
 * channels c·kd + i, so the ONNX weight [cout, cin/group, kd, kh, kw] already is that conv's
 * [cout, cin/group·kd, kh, kw]; the planes' convs share one source and so become one tied layer.
 */
import type { ConvOp, NetOp } from '../../../ir/graph.ts';
import { count, floatsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { emitBinary } from './elementwise.ts';
import { emitLinear, reshapeTo } from './matrix.ts';
import { spatial, spatialInput, spatialOut, spatialPair, volumeAxes, volumeInts } from './window.ts';
import type { Spatial } from './window.ts';

/** Conv's weight, bias and group, checked against `cin` input channels and `dims` spatial axes. */
function convWeights(n: NodeContext, cin: number, dims: number): { weight: Float32Array; bias: Float32Array | null; cout: number; group: number; kernel: number[] } {
  const w = n.constIn(1, 'W (weight)');
  if (w.dims.length !== dims + 2) throw new NodeError(`weight W has dims [${w.dims.join(', ')}] for a ${dims}-D input`);
  const [cout, cinG] = w.dims;
  const group = n.a.int('group', 1);
  if (group < 1 || cin % group !== 0 || cout % group !== 0 || cin / group !== cinG) {
    throw new NodeError(`input has ${cin} channels, weight is [${w.dims.join(', ')}] with group ${group}: inconsistent`);
  }
  const kernel = w.dims.slice(2);
  const ks = n.a.ints('kernel_shape', null);
  if (ks && ks.join() !== kernel.join()) throw new NodeError(`kernel_shape [${ks.join(', ')}] does not match weight [${kernel.join(', ')}]`);
  const b = n.optConst(2, 'B (bias)');
  if (b && count(b.dims) !== cout) throw new NodeError(`bias B has dims [${b.dims.join(', ')}], expected [${cout}]`);
  return { weight: Float32Array.from(floatsOf(w, 'weight W')), bias: b ? Float32Array.from(floatsOf(b, 'bias B')) : null, cout, group, kernel };
}

function conv(n: NodeContext): void {
  const x = n.value(0, 'X');
  if (n.imp.batched && x.shape.length === 4) {
    conv3d(n, x);
    return;
  }
  const s = spatialInput(n, x, 'convolution');
  const cin = s.C;
  const { weight, bias, cout, group, kernel } = convWeights(n, cin, s.oneD ? 1 : 2);
  const [kh, kw] = s.oneD ? [1, kernel[0]] : [kernel[0], kernel[1]];
  const strides = spatialPair(n, 'strides', s, 1);
  const dilations = spatialPair(n, 'dilations', s, 1);
  const geo = spatial(n, s, [kh, kw], strides, dilations, false);
  const input = s.oneD ? reshapeTo(n, x, [cin, 1, s.size[1]]) : x;
  const outShape: [number, number, number] = [cout, geo.out[0], geo.out[1]];
  const out = s.oneD ? n.imp.fresh(`${n.name}/2d`) : n.out;
  const op: ConvOp = {
    kind: 'conv', name: n.name, inputs: [input.name], output: out, layerIndex: -1,
    weight, bias, cin, cout, group, kh, kw,
    strides, pads: geo.pads, dilations, inShape: [cin, s.size[0], s.size[1]], outShape,
  };
  n.imp.emit(op, [...outShape]);
  n.imp.noteSource(op, `Conv\u0000${n.imp.canonicalName(n.ins[1])}`);
  if (s.oneD) reshapeTo(n, n.imp.valueOf(out)!, spatialOut(s, cout, geo.out), n.out);
}

/** Writes the node's output [C, D, H, W] from its D output planes [C, H, W] (a 3-D window op's). */
function stackDepths(n: NodeContext, planes: readonly Value[]): void {
  const [C, H, W] = planes[0].shape;
  const deep = planes.map((p) => reshapeTo(n, p, [C, 1, H, W], planes.length === 1 ? n.out : undefined));
  if (deep.length === 1) return;
  const cat: NetOp = { kind: 'concat', name: n.name, inputs: deep.map((p) => p.name), output: n.out, axis: 1, inShapes: deep.map((p) => p.shape) };
  n.imp.emit(cat, [C, deep.length, H, W]);
}

function conv3d(n: NodeContext, x: Value): void {
  const [cin, D, H, W] = x.shape;
  const { weight, bias, cout, group, kernel } = convWeights(n, cin, 3);
  const [kd, kh, kw] = kernel;
  const [depth, rows, cols] = volumeAxes(n, [D, H, W], kernel, false);
  let v = x;
  const [front, back] = depth.pads;
  if (front > 0 || back > 0) {
    const shape = [cin, D + front + back, H, W];
    const padded = n.imp.fresh(`${n.name}/depth-pad`);
    n.imp.emit({ kind: 'pad', name: n.name, inputs: [x.name], output: padded, mode: 'constant', pads: [0, front, 0, 0, 0, back, 0, 0], value: 0, inShape: x.shape, outShape: shape }, shape);
    v = n.imp.valueOf(padded)!;
  }
  const outPlane: [number, number, number] = [cout, rows.out, cols.out];
  const key = `Conv3d\u0000${n.imp.canonicalName(n.ins[1])}`;
  const convs: ConvOp[] = [];
  const planes = Array.from({ length: depth.out }, (_, t) => {
    const window = n.imp.fresh(`${n.name}/window${t}`);
    const spanned = [cin, kd, H, W];
    n.imp.emit({ kind: 'slice', name: n.name, inputs: [v.name], output: window, starts: [0, t * depth.stride, 0, 0], steps: [1, depth.dil, 1, 1], inShape: v.shape, outShape: spanned }, spanned);
    const stacked = reshapeTo(n, n.imp.valueOf(window)!, [cin * kd, H, W]);
    const out = n.imp.fresh(`${n.name}/plane${t}`);
    const op: ConvOp = {
      kind: 'conv', name: n.name, inputs: [stacked.name], output: out, layerIndex: -1,
      weight, bias, cin: cin * kd, cout, group, kh, kw,
      strides: [rows.stride, cols.stride], pads: [rows.pads[0], cols.pads[0], rows.pads[1], cols.pads[1]], dilations: [rows.dil, cols.dil],
      inShape: [cin * kd, H, W], outShape: outPlane,
    };
    n.imp.emit(op, [...outPlane]);
    n.imp.noteSource(op, key);
    convs.push(op);
    return n.imp.valueOf(out)!;
  });
  stackDepths(n, planes);
  n.imp.noteStack(n.out, convs);
}

/**
 * ConvTranspose's output extents and pads ([begins…, ends…]) over its spatial axes, from explicit
 * pads, output_shape or auto_pad (ONNX).
 */
function transposedExtents(n: NodeContext, size: readonly number[], k: readonly number[], st: readonly number[], dil: readonly number[], outPad: readonly number[]): { out: number[]; pads: number[] } {
  const r = size.length;
  const autoPad = n.a.str('auto_pad', 'NOTSET');
  const full = (i: number): number => st[i] * (size[i] - 1) + outPad[i] + (k[i] - 1) * dil[i] + 1;
  const shape = n.a.ints('output_shape', null);
  let want: number[] | null = null;
  if (shape) want = shape.slice(-r);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') want = size.map((d, i) => d * st[i]);
  else if (autoPad !== 'NOTSET' && autoPad !== '' && autoPad !== 'VALID') throw new NodeError(`attribute "auto_pad" is ${JSON.stringify(autoPad)}; allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  let pads = new Array<number>(2 * r).fill(0);
  if (want) {
    for (let i = 0; i < r; i++) {
      // A negative total (an output_shape beyond what the strides reach) pads the end with bias-only rows, as ONNX's reference does.
      const total = full(i) - want[i];
      pads[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      pads[i + r] = total - pads[i];
    }
  } else if (autoPad !== 'VALID') {
    pads = n.a.ints('pads', pads);
    if (pads.length !== 2 * r) throw new NodeError(`attribute "pads" has ${pads.length} entries; a ${r}-D op needs ${2 * r}`);
    if (pads.some((v) => v < 0)) throw new NodeError('negative pads are not supported');
  }
  const out = size.map((_, i) => full(i) - pads[i] - pads[i + r]);
  if (out.some((o) => o < 1)) throw new NodeError(`pads [${pads.join(', ')}] leave no output`);
  return { out, pads };
}

/** transposedExtents of a 1-D or 2-D op as 2-D: [H, W] and [top, left, bottom, right]. */
function transposedGeometry(n: NodeContext, s: Spatial, k: [number, number], st: [number, number], dil: [number, number], outPad: [number, number]): { out: [number, number]; pads: [number, number, number, number] } {
  const axes = s.oneD ? [1] : [0, 1];
  const g = transposedExtents(n, axes.map((i) => s.size[i]), axes.map((i) => k[i]), axes.map((i) => st[i]), axes.map((i) => dil[i]), axes.map((i) => outPad[i]));
  if (s.oneD) return { out: [1, g.out[0]], pads: [0, g.pads[0], 0, g.pads[1]] };
  return { out: [g.out[0], g.out[1]], pads: [g.pads[0], g.pads[1], g.pads[2], g.pads[3]] };
}

/**
 * Each input pixel's (or voxel's) channel vector times its group's rows of ConvTranspose's weight
 * [cin, cols] (ONNX layout [cin, cout/group, k…]: a row is already (co, k…)-major): one crossbar
 * linear layer per group over the `rows` [pixels, cin], their columns concatenated in cout order.
 */
function voxelColumns(n: NodeContext, rows: Value, wv: Float32Array, group: number, cols: number): Value {
  const [P, cin] = rows.shape;
  const cinG = cin / group;
  const parts: Value[] = [];
  for (let g = 0; g < group; g++) {
    let xs = rows;
    if (group > 1) {
      const sl = n.imp.fresh(`${n.name}/g${g}/in`);
      n.imp.emit({ kind: 'slice', name: `${n.name}#g${g}`, inputs: [rows.name], output: sl, starts: [0, g * cinG], steps: [1, 1], inShape: rows.shape, outShape: [P, cinG] }, [P, cinG]);
      xs = n.imp.valueOf(sl)!;
    }
    const weight = wv.slice(g * cinG * cols, (g + 1) * cinG * cols);
    parts.push(emitLinear(n, xs, cinG, cols, weight, null, n.imp.fresh(`${n.name}/g${g}/cols`), group > 1 ? `${n.name}#g${g}` : n.name));
  }
  if (group === 1) return parts[0];
  const cat = n.imp.fresh(`${n.name}/cols`);
  n.imp.emit({ kind: 'concat', name: n.name, inputs: parts.map((p) => p.name), output: cat, axis: 1, inShapes: parts.map((p) => p.shape) }, [P, group * cols]);
  return n.imp.valueOf(cat)!;
}

function convTranspose(n: NodeContext): void {
  const x = n.value(0, 'X');
  if (n.imp.batched && x.shape.length === 4) {
    convTranspose3d(n, x);
    return;
  }
  const s = spatialInput(n, x, 'transposed convolution');
  const w = n.constIn(1, 'W (weight)');
  if (w.dims.length !== (s.oneD ? 3 : 4)) throw new NodeError(`weight W has dims [${w.dims.join(', ')}] for a ${s.oneD ? 1 : 2}-D input`);
  const group = n.a.int('group', 1);
  const [cin, coutG] = w.dims;
  const [kh, kw] = s.oneD ? [1, w.dims[2]] : [w.dims[2], w.dims[3]];
  if (cin !== s.C || group < 1 || cin % group !== 0) throw new NodeError(`input has ${s.C} channels, weight is [${w.dims.join(', ')}] with group ${group}: inconsistent`);
  const cout = coutG * group;
  const strides = spatialPair(n, 'strides', s, 1);
  const dilations = spatialPair(n, 'dilations', s, 1);
  const outPad = spatialPair(n, 'output_padding', s, 0, 0);
  const geo = transposedGeometry(n, s, [kh, kw], strides, dilations, outPad);
  const b = n.optConst(2, 'B (bias)');
  if (b && count(b.dims) !== cout) throw new NodeError(`bias B has dims [${b.dims.join(', ')}], expected [${cout}]`);
  const [H, W] = s.size;
  // Each input pixel's channel vector times W[cin, cout·kh·kw]: a crossbar linear layer over H·W rows.
  const x3 = s.oneD ? reshapeTo(n, x, [cin, 1, W]) : x;
  const hwc = n.imp.fresh(`${n.name}/pixels`);
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x3.name], output: hwc, perm: [1, 2, 0], inShape: [cin, H, W] }, [H, W, cin]);
  const rows = reshapeTo(n, n.imp.valueOf(hwc)!, [H * W, cin]);
  const colsValue = voxelColumns(n, rows, floatsOf(w, 'weight W'), group, coutG * kh * kw);
  const outShape: [number, number, number] = [cout, geo.out[0], geo.out[1]];
  const out = s.oneD ? n.imp.fresh(`${n.name}/2d`) : n.out;
  const op: NetOp = {
    kind: 'col2im', name: n.name, inputs: [colsValue.name], output: out, cout, kh, kw, strides, pads: geo.pads, dilations,
    inSize: [H, W], bias: b ? Float32Array.from(floatsOf(b, 'bias B')) : null, outShape,
  };
  n.imp.emit(op, [...outShape]);
  if (s.oneD) reshapeTo(n, n.imp.valueOf(out)!, spatialOut(s, cout, geo.out), n.out);
}

/**
 * A 3-D ConvTranspose (3-D U-Net decoders): as in 2-D, one crossbar layer over the input voxels
 * (each voxel's channel vector times W[cin, cout·kd·kh·kw]), then for each output depth the columns
 * of every (input depth d, kernel depth i) that land on it (d·sd − pad + i·dd) summed and
 * overlap-added in 2-D; a depth no column reaches holds the bias alone.
 */
function convTranspose3d(n: NodeContext, x: Value): void {
  const [cin, D, H, W] = x.shape;
  const w = n.constIn(1, 'W (weight)');
  if (w.dims.length !== 5) throw new NodeError(`weight W has dims [${w.dims.join(', ')}] for a 3-D input`);
  const group = n.a.int('group', 1);
  const [cinW, coutG, kd, kh, kw] = w.dims;
  if (cinW !== cin || group < 1 || cin % group !== 0) throw new NodeError(`input has ${cin} channels, weight is [${w.dims.join(', ')}] with group ${group}: inconsistent`);
  const cout = coutG * group;
  const st = volumeInts(n, 'strides', 1);
  const dil = volumeInts(n, 'dilations', 1);
  const geo = transposedExtents(n, [D, H, W], [kd, kh, kw], st, dil, volumeInts(n, 'output_padding', 0, 0));
  const b = n.optConst(2, 'B (bias)');
  if (b && count(b.dims) !== cout) throw new NodeError(`bias B has dims [${b.dims.join(', ')}], expected [${cout}]`);
  const bias = b ? Float32Array.from(floatsOf(b, 'bias B')) : null;
  const voxels = n.imp.fresh(`${n.name}/voxels`);
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: voxels, perm: [1, 2, 3, 0], inShape: x.shape }, [D, H, W, cin]);
  const rows = reshapeTo(n, n.imp.valueOf(voxels)!, [D * H * W, cin]);
  const cols = voxelColumns(n, rows, floatsOf(w, 'weight W'), group, coutG * kd * kh * kw);
  // [D, H·W, cout, kd, kh·kw]: one input depth's columns for one kernel depth are a slice.
  const grid = reshapeTo(n, cols, [D, H * W, cout, kd, kh * kw]);
  const [OD, OH, OW] = geo.out;
  const plane: [number, number, number] = [cout, OH, OW];
  const planes = Array.from({ length: OD }, (_, od) => {
    const taps: Value[] = [];
    for (let d = 0; d < D; d++) {
      for (let i = 0; i < kd; i++) {
        if (d * st[0] - geo.pads[0] + i * dil[0] !== od) continue;
        const sl = n.imp.fresh(`${n.name}/depth${od}/tap`);
        const shape = [1, H * W, cout, 1, kh * kw];
        n.imp.emit({ kind: 'slice', name: n.name, inputs: [grid.name], output: sl, starts: [d, 0, 0, i, 0], steps: [1, 1, 1, 1, 1], inShape: grid.shape, outShape: shape }, shape);
        taps.push(reshapeTo(n, n.imp.valueOf(sl)!, [H * W, cout * kh * kw]));
      }
    }
    const out = n.imp.fresh(`${n.name}/depth${od}`);
    if (taps.length === 0) {
      const data = new Float32Array(cout * OH * OW);
      if (bias) for (let c = 0; c < cout; c++) data.fill(bias[c], c * OH * OW, (c + 1) * OH * OW);
      n.imp.emit({ kind: 'constant', name: n.name, inputs: [], output: out, value: { dims: plane, data } }, [...plane]);
    } else {
      const sum = taps.reduce((acc, t) => {
        const s = n.imp.fresh(`${n.name}/depth${od}/sum`);
        emitBinary(n, 'add', { v: acc }, { v: t }, s);
        return n.imp.valueOf(s)!;
      });
      n.imp.emit({
        kind: 'col2im', name: n.name, inputs: [sum.name], output: out, cout, kh, kw, strides: [st[1], st[2]],
        pads: [geo.pads[1], geo.pads[2], geo.pads[4], geo.pads[5]], dilations: [dil[1], dil[2]], inSize: [H, W], bias, outShape: plane,
      }, [...plane]);
    }
    return n.imp.valueOf(out)!;
  });
  stackDepths(n, planes);
}

/** Conv and ConvTranspose by ONNX op type. */
export const CONV_OPS: OpTable = {
  Conv: { activation: conv },
  ConvTranspose: { activation: convTranspose },
};
