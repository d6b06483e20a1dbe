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
import { reshapeTo } from './matrix.ts';
import { spatial, spatialInput, spatialOut, spatialPair, volumeAxes } from './window.ts';

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
    return reshapeTo(n, n.imp.valueOf(out)!, [cout, 1, rows.out, cols.out], depth.out === 1 ? n.out : undefined);
  });
  const shape = [cout, depth.out, rows.out, cols.out];
  if (planes.length > 1) {
    const cat: NetOp = { kind: 'concat', name: n.name, inputs: planes.map((p) => p.name), output: n.out, axis: 1, inShapes: planes.map((p) => p.shape) };
    n.imp.emit(cat, shape);
  }
  n.imp.noteStack(n.out, convs);
}

/** Conv by ONNX op type. */
export const CONV_OPS: OpTable = {
  Conv: { activation: conv },
};
