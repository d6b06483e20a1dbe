/**
 * Geometry of the window ops (Conv, ConvTranspose, pools): output size and explicit pads from ONNX
 * attributes. 1-D ops run as 2-D ones on a height of 1, so their attributes are read as 2-D here.
 */
import { NodeError } from '../node.ts';
import type { NodeContext, Value } from '../node.ts';
import { quote } from '../proto.ts';

/** A window op's input as 2-D: channels, [H, W], and whether it was 1-D ([C, L] read as [C, 1, L]). */
export interface Spatial {
  C: number;
  size: [number, number];
  oneD: boolean;
}

/** The input of a 1-D or 2-D window op on [batch, C, ...]; anything else is refused naming the shape. */
export function spatialInput(n: NodeContext, x: Value, what: string): Spatial {
  if (!n.imp.batched || (x.shape.length !== 2 && x.shape.length !== 3)) {
    const d = x.shape.length - (n.imp.batched ? 1 : 0);
    const why = d >= 3 ? `${d}-D windows are not supported (1-D and 2-D are)` : `only 1-D and 2-D ${what} on [batch, C, H, W] or [batch, C, L] is supported`;
    throw new NodeError(`input has per-sample shape [${x.shape.join(', ')}]; ${why}`);
  }
  const oneD = x.shape.length === 2;
  return { C: x.shape[0], size: oneD ? [1, x.shape[1]] : [x.shape[1], x.shape[2]], oneD };
}

/** An INTS attribute with one entry per spatial axis, as [h, w] (h = `onH` for a 1-D op). */
export function spatialPair(n: NodeContext, name: string, s: Spatial, def: number, onH = 1): [number, number] {
  const want = s.oneD ? 1 : 2;
  const v = n.a.ints(name, new Array<number>(want).fill(def));
  if (v.length !== want) throw new NodeError(`attribute ${quote(name)} has ${v.length} entries; a ${want}-D op needs ${want}`);
  return s.oneD ? [onH, v[0]] : [v[0], v[1]];
}

/** The `pads` attribute as 2-D [top, left, bottom, right]. */
export function spatialPads(n: NodeContext, s: Spatial): [number, number, number, number] {
  const want = s.oneD ? 2 : 4;
  const p = n.a.ints('pads', new Array<number>(want).fill(0));
  if (p.length !== want) throw new NodeError(`attribute "pads" has ${p.length} entries; a ${want / 2}-D op needs ${want}`);
  if (p.some((v) => v < 0)) throw new NodeError('negative pads are not supported');
  return s.oneD ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]];
}

/** One spatial axis of a window op: output extent and begin/end pads, from auto_pad or explicit pads and ceil_mode. */
export function windowAxis(
  autoPad: string,
  size: number,
  kernel: number,
  stride: number,
  dil: number,
  explicit: [number, number],
  ceilMode: boolean,
): { out: number; pads: [number, number] } {
  const eff = (kernel - 1) * dil + 1;
  let out: number;
  let pads: [number, number] = [0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + eff - size);
    const small = Math.floor(total / 2);
    const begin = autoPad === 'SAME_UPPER' ? small : total - small;
    pads = [begin, total - begin];
  } else if (autoPad === 'VALID') {
    out = Math.floor((size - eff) / stride) + 1;
  } else if (autoPad === 'NOTSET' || autoPad === '') {
    pads = explicit;
    const span = size + pads[0] + pads[1] - eff;
    if (ceilMode) {
      out = Math.ceil(span / stride) + 1;
      // As in PyTorch and ONNX Runtime: the last window must start inside the input or its begin padding.
      if ((out - 1) * stride >= size + pads[0]) out--;
    } else {
      out = Math.floor(span / stride) + 1;
    }
  } else {
    throw new NodeError(`auto_pad ${quote(autoPad)} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  if (out < 1 || size + pads[0] + pads[1] < eff) {
    throw new NodeError(`a window of ${kernel} (dilation ${dil}) does not fit an extent of ${size} with pads [${pads.join(', ')}]`);
  }
  return { out, pads };
}

/** An INTS attribute of a 3-D window op: one entry per axis, each at least `min`. */
export function volumeInts(n: NodeContext, name: string, def: number, min = 1): number[] {
  const v = n.a.ints(name, [def, def, def]);
  if (v.length !== 3) throw new NodeError(`attribute ${quote(name)} has ${v.length} entries; a 3-D op needs 3`);
  if (v.some((d) => d < min)) throw new NodeError(`attribute ${quote(name)} is [${v.join(', ')}]; every entry must be ≥ ${min}`);
  return v;
}

/** One axis of a 3-D window op ([D, H, W] order): its stride, dilation, output extent and pads. */
export interface VolumeAxis {
  stride: number;
  dil: number;
  out: number;
  pads: [number, number];
}

/** The three axes of a 3-D window op on per-sample extents `size` ([D, H, W]) from its attributes. */
export function volumeAxes(n: NodeContext, size: readonly number[], kernel: readonly number[], ceilMode: boolean): VolumeAxis[] {
  const st = volumeInts(n, 'strides', 1);
  const dl = volumeInts(n, 'dilations', 1);
  const autoPad = n.a.str('auto_pad', 'NOTSET');
  const p = autoPad === 'NOTSET' || autoPad === '' ? n.a.ints('pads', [0, 0, 0, 0, 0, 0]) : [0, 0, 0, 0, 0, 0];
  if (p.length !== 6 || p.some((v) => v < 0)) throw new NodeError(`attribute "pads" is [${p.join(', ')}]; a 3-D op needs 6 non-negative pads`);
  return size.map((d, i) => ({ stride: st[i], dil: dl[i], ...windowAxis(autoPad, d, kernel[i], st[i], dl[i], [p[i], p[i + 3]], ceilMode) }));
}

/** Output size and explicit pads of a window op, honoring auto_pad and ceil_mode. */
export function spatial(
  n: NodeContext,
  s: Spatial,
  kernel: [number, number],
  strides: [number, number],
  dil: [number, number],
  ceilMode: boolean,
): { out: [number, number]; pads: [number, number, number, number] } {
  if (strides.some((v) => v < 1) || dil.some((d) => d < 1)) throw new NodeError('strides and dilations must be ≥ 1');
  if (kernel.some((k) => !(k >= 1))) throw new NodeError(`kernel [${kernel.join(', ')}] must be at least 1x1`);
  const autoPad = n.a.str('auto_pad', 'NOTSET');
  const explicit = autoPad === 'NOTSET' || autoPad === '' ? spatialPads(n, s) : [0, 0, 0, 0];
  const [h, w] = [0, 1].map((i) => windowAxis(autoPad, s.size[i], kernel[i], strides[i], dil[i], [explicit[i], explicit[i + 2]], ceilMode));
  return { out: [h.out, w.out], pads: [h.pads[0], w.pads[0], h.pads[1], w.pads[1]] };
}

/** The IR shape [C, H, W] of a window op's output, or [C, L] for a 1-D op. */
export function spatialOut(s: Spatial, C: number, out: [number, number]): number[] {
  return s.oneD ? [C, out[1]] : [C, out[0], out[1]];
}
