/** Geometry of 2-D window ops (Conv, pools): output size and explicit pads from ONNX attributes. */
import { NodeError } from '../node.ts';
import type { NodeContext } from '../node.ts';
import { quote } from '../proto.ts';

/** Output size and explicit pads of a 2-D window op, honoring auto_pad and ceil_mode. */
export function spatial(
  n: NodeContext,
  size: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dil: [number, number],
  ceilMode: boolean,
): { out: [number, number]; pads: [number, number, number, number] } {
  const autoPad = n.a.str('auto_pad', 'NOTSET');
  const pads: [number, number, number, number] = [0, 0, 0, 0];
  const out: [number, number] = [0, 0];
  if (strides.some((s) => s < 1) || dil.some((d) => d < 1)) throw new NodeError('strides and dilations must be ≥ 1');
  if (kernel.some((k) => !(k >= 1))) throw new NodeError(`kernel [${kernel.join(', ')}] must be at least 1x1`);
  for (let i = 0; i < 2; i++) {
    const eff = (kernel[i] - 1) * dil[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out[i] = Math.ceil(size[i] / strides[i]);
      const total = Math.max(0, (out[i] - 1) * strides[i] + eff - size[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + 2] = total - pads[i];
    } else if (autoPad === 'VALID') {
      out[i] = Math.floor((size[i] - eff) / strides[i]) + 1;
    } else if (autoPad === 'NOTSET' || autoPad === '') {
      const p = n.a.ints('pads', [0, 0, 0, 0]);
      if (p.length !== 4) throw new NodeError(`attribute "pads" has ${p.length} entries; only 2-D (4 pads) is supported`);
      if (p.some((v) => v < 0)) throw new NodeError('negative pads are not supported');
      pads[i] = p[i];
      pads[i + 2] = p[i + 2];
      const span = size[i] + p[i] + p[i + 2] - eff;
      if (ceilMode) {
        out[i] = Math.ceil(span / strides[i]) + 1;
        // As in PyTorch and ONNX Runtime: the last window must start inside the input or its begin padding.
        if ((out[i] - 1) * strides[i] >= size[i] + p[i]) out[i]--;
      } else {
        out[i] = Math.floor(span / strides[i]) + 1;
      }
    } else {
      throw new NodeError(`auto_pad ${quote(autoPad)} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
    }
    if (out[i] < 1 || size[i] + pads[i] + pads[i + 2] < eff) {
      throw new NodeError(`a ${kernel.join('x')} window (dilation ${dil.join('x')}) does not fit the ${size.join('x')} input with pads [${pads.join(', ')}]`);
    }
  }
  return { out, pads };
}
