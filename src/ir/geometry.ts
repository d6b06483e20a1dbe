/** Geometry of the IR's spatial ops (convolution, pooling): ONNX attributes with the per-sample shapes they imply. */

/** A 2-D convolution's geometry (ONNX attributes; pads [top, left, bottom, right]). */
export interface ConvGeometry {
  cin: number;
  cout: number;
  group: number;
  kh: number;
  kw: number;
  /** [sh, sw] */
  strides: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order is [t, l, b, r] = [x1_begin, x2_begin, x1_end, x2_end]). */
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
  /** Per sample [cin, H, W] and [cout, OH, OW]. */
  inShape: readonly [number, number, number];
  outShape: readonly [number, number, number];
}

/** Output extent of one spatial axis (ONNX Conv, no ceil mode). */
export function convOutSize(size: number, k: number, stride: number, dilation: number, padBegin: number, padEnd: number): number {
  return Math.floor((size + padBegin + padEnd - dilation * (k - 1) - 1) / stride) + 1;
}

/** Checks a convolution's attributes and that its shapes agree with them; throws naming `name`. */
export function checkConvGeometry(name: string, g: ConvGeometry): void {
  const pos = [g.cin, g.cout, g.group, g.kh, g.kw, ...g.strides, ...g.dilations];
  if (![...pos, ...g.pads, ...g.inShape, ...g.outShape].every(Number.isInteger) || pos.some((v) => v < 1) || g.pads.some((v) => v < 0)) {
    throw new Error(`conv ${name}: channels, group, kernel, strides and dilations must be positive integers and pads non-negative`);
  }
  if (g.cin % g.group !== 0 || g.cout % g.group !== 0) throw new Error(`conv ${name}: group ${g.group} must divide cin ${g.cin} and cout ${g.cout}`);
  const [c, H, W] = g.inShape;
  const oh = convOutSize(H, g.kh, g.strides[0], g.dilations[0], g.pads[0], g.pads[2]);
  const ow = convOutSize(W, g.kw, g.strides[1], g.dilations[1], g.pads[1], g.pads[3]);
  const want = [g.cout, oh, ow];
  if (c !== g.cin || g.outShape.some((v, k) => v !== want[k]) || oh < 1 || ow < 1) {
    throw new Error(`conv ${name}: input [${g.inShape.join(', ')}] gives output [${want.join(', ')}], not [${g.outShape.join(', ')}] (cin ${g.cin})`);
  }
}

/** A 2-D pooling window over NCHW (ONNX attributes; pads [top, left, bottom, right]). */
export interface PoolGeometry {
  mode: 'max' | 'avg';
  kernel: readonly [number, number];
  strides: readonly [number, number];
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
  /** AveragePool count_include_pad. */
  countIncludePad: boolean;
  /** Per sample [C, H, W] and [C, OH, OW]. */
  inShape: readonly [number, number, number];
  outShape: readonly [number, number, number];
}

/** Checks a pool geometry's attributes; throws naming `name`. */
export function checkPoolGeometry(name: string, g: PoolGeometry): void {
  const pos = [...g.kernel, ...g.strides, ...g.dilations];
  const ints = [...pos, ...g.pads, ...g.inShape, ...g.outShape];
  if (!ints.every(Number.isInteger) || pos.some((v) => v < 1) || g.pads.some((v) => v < 0)) {
    throw new Error(`pool ${name}: kernel, strides and dilations must be positive integers and pads non-negative`);
  }
  if (g.inShape[0] !== g.outShape[0]) throw new Error(`pool ${name}: ${g.inShape[0]} input channels but ${g.outShape[0]} output channels`);
  for (const ax of [0, 1]) {
    // The IR's extent already applies ceil_mode, so anything from the floor to the ceil formula is valid.
    const span = g.inShape[ax + 1] + g.pads[ax] + g.pads[ax + 2] - g.dilations[ax] * (g.kernel[ax] - 1) - 1;
    const lo = Math.floor(span / g.strides[ax]) + 1;
    const hi = Math.ceil(span / g.strides[ax]) + 1;
    const o = g.outShape[ax + 1];
    if (span < 0 || o < lo || o > hi) throw new Error(`pool ${name}: output extent ${o} on axis ${ax + 2} is not ${lo === hi ? lo : `${lo} or ${hi}`} (input [${g.inShape.join(', ')}])`);
  }
}
