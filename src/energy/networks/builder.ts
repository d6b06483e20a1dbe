/**
 * A small builder for networks defined by layer shapes: it tracks the per-sample activation shape
 * through convolutions, pooling, concatenation and residual additions (PyTorch's and ONNX's output
 * size rules) and records each Linear/Conv layer as a ShapeLayer, with whether its input is provably
 * non-negative (after a ReLU) or may be signed (the image, a pre-activation sum).
 */
import type { ShapeLayer, ShapeNetwork } from '../layers.ts';

/** A value flowing through the network: per-sample [C, H, W] and its sign. */
export interface Act {
  c: number;
  h: number;
  w: number;
  nonNegative: boolean;
}

/** One spatial extent or an (h, w) pair. */
type Pair = number | readonly [number, number];
/** Pads: one value, (h, w), or ONNX's [top, left, bottom, right]. */
type Pads = number | readonly [number, number] | readonly [number, number, number, number];

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
function pads4(p: Pads): [number, number, number, number] {
  if (typeof p === 'number') return [p, p, p, p];
  return p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
}

export interface ConvOptions {
  stride?: Pair;
  pad?: Pads;
  groups?: number;
  /** Whether a ReLU follows (default true); without it the output's sign is unknown. */
  relu?: boolean;
}

export interface PoolOptions {
  stride?: Pair;
  pad?: Pads;
  /** PyTorch's ceil_mode (Caffe's default rounding); ONNX opset ≤ 9 MaxPool has floor only. */
  ceil?: boolean;
}

/** Output extent of a pooling window (PyTorch's rule: a ceil-mode window must start inside the input or its left padding). */
function poolExtent(size: number, k: number, s: number, p0: number, p1: number, ceil: boolean): number {
  const span = size + p0 + p1 - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p0) out--;
  return out;
}

/** Records the Linear/Conv layers of one network. */
export class ShapeBuilder {
  private readonly layers: ShapeLayer[] = [];

  constructor(
    private readonly name: string,
    private readonly source: string,
    private readonly inputShape: readonly [number, number, number],
  ) {}

  /** The network input: an image, signed after mean subtraction. */
  input(): Act {
    const [c, h, w] = this.inputShape;
    return { c, h, w, nonNegative: false };
  }

  conv(x: Act, name: string, cout: number, kernel: Pair, o: ConvOptions = {}): Act {
    const [kh, kw] = pair(kernel);
    const [sh, sw] = pair(o.stride ?? 1);
    const [pt, pl, pb, pr] = pads4(o.pad ?? 0);
    const g = o.groups ?? 1;
    if (x.c % g !== 0 || cout % g !== 0) throw new Error(`${this.name} ${name}: groups ${g} must divide ${x.c} and ${cout}`);
    const h = Math.floor((x.h + pt + pb - kh) / sh) + 1;
    const w = Math.floor((x.w + pl + pr - kw) / sw) + 1;
    if (h < 1 || w < 1) throw new Error(`${this.name} ${name}: input ${x.h}×${x.w} is too small for a ${kh}×${kw} kernel`);
    this.layers.push({ name, layerIndex: this.layers.length, K: (x.c / g) * kh * kw, N: cout / g, groups: g, vectorsPerSample: h * w, inputNonNegative: x.nonNegative });
    return { c: cout, h, w, nonNegative: o.relu ?? true };
  }

  pool(x: Act, kernel: Pair, o: PoolOptions = {}): Act {
    const [kh, kw] = pair(kernel);
    const [sh, sw] = pair(o.stride ?? kernel);
    const [pt, pl, pb, pr] = pads4(o.pad ?? 0);
    const h = poolExtent(x.h, kh, sh, pt, pb, o.ceil ?? false);
    const w = poolExtent(x.w, kw, sw, pl, pr, o.ceil ?? false);
    if (h < 1 || w < 1) throw new Error(`${this.name}: input ${x.h}×${x.w} is too small for a ${kh}×${kw} pool`);
    return { ...x, h, w };
  }

  /** torchvision's AdaptiveAvgPool2d to a fixed size (a no-op at the canonical input size). */
  adaptivePool(x: Act, size: number): Act {
    return { ...x, h: size, w: size };
  }

  /** Concatenation along channels. */
  concat(xs: readonly Act[]): Act {
    const [first] = xs;
    if (xs.some((x) => x.h !== first.h || x.w !== first.w)) throw new Error(`${this.name}: concatenated maps differ in size (${xs.map((x) => `${x.h}×${x.w}`).join(', ')})`);
    return { c: xs.reduce((a, x) => a + x.c, 0), h: first.h, w: first.w, nonNegative: xs.every((x) => x.nonNegative) };
  }

  /** Residual addition followed by a ReLU. */
  addRelu(a: Act, b: Act): Act {
    if (a.c !== b.c || a.h !== b.h || a.w !== b.w) throw new Error(`${this.name}: residual shapes differ`);
    return { ...a, nonNegative: true };
  }

  /** A fully connected layer on the flattened activation. */
  fc(x: Act, name: string, n: number, relu = true): Act {
    this.layers.push({ name, layerIndex: this.layers.length, K: x.c * x.h * x.w, N: n, groups: 1, vectorsPerSample: 1, inputNonNegative: x.nonNegative });
    return { c: n, h: 1, w: 1, nonNegative: relu };
  }

  build(): ShapeNetwork {
    return { name: this.name, source: this.source, inputShape: this.inputShape, layers: [...this.layers] };
  }
}
