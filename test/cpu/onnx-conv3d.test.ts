import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { AttrValue } from '../../src/io/onnx/build.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { planMatrices } from '../../src/nn/matrices.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { runOn, torchCase } from '../helpers/torch-fixtures.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// Conv3d (video, volumes) is one weight read at every output depth: per-depth 2-D convs over the
// planes each window spans, tied into one crossbar layer. Checked against a direct 3-D convolution
// written from the ONNX definition, and for the physical part (one programming for every depth).
const CPU = { kind: 'cpu' as const, reason: 'test' };

interface Conv3dCase {
  C: number;
  O: number;
  size: [number, number, number];
  kernel: [number, number, number];
  group?: number;
  attrs: Record<string, AttrValue>;
}

/** The ONNX model of one Conv3d with bias, batch dim symbolic. */
function conv3dModel(c: Conv3dCase, w: Float32Array, b: Float32Array): Uint8Array {
  const g = c.group ?? 1;
  return buildOnnxModel({
    inputs: [{ name: 'x', dims: ['N', c.C, ...c.size] }],
    outputs: [{ name: 'y', dims: ['N', c.O, 'd', 'h', 'w'] }],
    initializers: [{ name: 'W', dims: [c.O, c.C / g, ...c.kernel], data: w }, { name: 'B', dims: [c.O], data: b }],
    nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { kernel_shape: c.kernel, ...(g > 1 ? { group: g } : {}), ...c.attrs } }],
  });
}

/** A direct 3-D convolution of one sample (ONNX Conv: explicit pads or auto_pad SAME_*, strides, dilations, groups). */
function directConv3d(c: Conv3dCase, x: Float32Array, w: Float32Array, b: Float32Array): { y: Float32Array; out: number[] } {
  const g = c.group ?? 1;
  const st = (c.attrs.strides as number[] | undefined) ?? [1, 1, 1];
  const dl = (c.attrs.dilations as number[] | undefined) ?? [1, 1, 1];
  const auto = c.attrs.auto_pad as string | undefined;
  const begin: number[] = [];
  const out = c.size.map((n, i) => {
    const eff = (c.kernel[i] - 1) * dl[i] + 1;
    if (auto) {
      const o = Math.ceil(n / st[i]);
      const total = Math.max(0, (o - 1) * st[i] + eff - n);
      begin.push(auto === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2));
      return o;
    }
    const p = (c.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0, 0, 0];
    begin.push(p[i]);
    return Math.floor((n + p[i] + p[i + 3] - eff) / st[i]) + 1;
  });
  const [D, H, W] = c.size;
  const [kd, kh, kw] = c.kernel;
  const cg = c.C / g;
  const y = new Float32Array(c.O * out[0] * out[1] * out[2]);
  for (let o = 0; o < c.O; o++) {
    const g0 = Math.floor(o / (c.O / g)) * cg;
    for (let t = 0; t < out[0]; t++) for (let r = 0; r < out[1]; r++) for (let q = 0; q < out[2]; q++) {
      let s = b[o];
      for (let ci = 0; ci < cg; ci++) for (let i = 0; i < kd; i++) for (let j = 0; j < kh; j++) for (let k = 0; k < kw; k++) {
        const d = t * st[0] + i * dl[0] - begin[0];
        const h = r * st[1] + j * dl[1] - begin[1];
        const v = q * st[2] + k * dl[2] - begin[2];
        if (d < 0 || d >= D || h < 0 || h >= H || v < 0 || v >= W) continue;
        s += x[(((g0 + ci) * D + d) * H + h) * W + v] * w[(((o * cg + ci) * kd + i) * kh + j) * kw + k];
      }
      y[((o * out[0] + t) * out[1] + r) * out[2] + q] = s;
    }
  }
  return { y, out };
}

const CASES: Record<string, Conv3dCase> = {
  'a 3x3x3 window padded on every side': { C: 2, O: 3, size: [4, 5, 5], kernel: [3, 3, 3], attrs: { pads: [1, 1, 1, 1, 1, 1] } },
  'depth stride and dilation, asymmetric pads': { C: 3, O: 2, size: [7, 6, 5], kernel: [3, 2, 2], attrs: { strides: [2, 1, 2], dilations: [2, 1, 1], pads: [2, 0, 1, 1, 1, 0] } },
  'groups, a (2+1)-D temporal window': { C: 4, O: 6, size: [5, 3, 4], kernel: [3, 1, 1], group: 2, attrs: { pads: [1, 0, 0, 1, 0, 0] } },
  'auto_pad SAME_UPPER with strides': { C: 2, O: 2, size: [5, 6, 7], kernel: [2, 3, 2], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2, 3] } },
  'auto_pad SAME_LOWER': { C: 1, O: 2, size: [4, 4, 4], kernel: [2, 2, 3], attrs: { auto_pad: 'SAME_LOWER' } },
  'one output depth (the window spans the clip)': { C: 2, O: 4, size: [3, 4, 4], kernel: [3, 3, 3], attrs: {} },
};

/** A 3-D ConvTranspose case: `out` is the output extent the attributes give, `begin` the leading pads. */
interface TransposedCase extends Conv3dCase {
  out: [number, number, number];
  begin: [number, number, number];
}

const TRANSPOSED: Record<string, TransposedCase> = {
  // 3-D U-Net's up-convolution: kernel 2, stride 2.
  'a 2x2x2 up-convolution with stride 2': { C: 3, O: 2, size: [3, 4, 2], kernel: [2, 2, 2], attrs: { strides: [2, 2, 2] }, out: [6, 8, 4], begin: [0, 0, 0] },
  'pads, dilation and output_padding': { C: 2, O: 3, size: [4, 3, 3], kernel: [3, 2, 3], attrs: { strides: [2, 1, 2], dilations: [2, 2, 1], pads: [1, 0, 1, 0, 1, 1], output_padding: [1, 0, 1] }, out: [11, 4, 6], begin: [1, 0, 1] },
  // Stride 3 over a kernel of 1 in depth: the depths between leave only the bias.
  'depths no column reaches, groups': { C: 4, O: 4, size: [3, 2, 2], kernel: [1, 2, 2], group: 2, attrs: { strides: [3, 1, 1] }, out: [7, 3, 3], begin: [0, 0, 0] },
};

/** A direct 3-D transposed convolution of one sample (ONNX ConvTranspose, explicit pads). */
function directConvTranspose3d(c: TransposedCase, x: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
  const g = c.group ?? 1;
  const st = (c.attrs.strides as number[] | undefined) ?? [1, 1, 1];
  const dl = (c.attrs.dilations as number[] | undefined) ?? [1, 1, 1];
  const [D, H, W] = c.size;
  const [kd, kh, kw] = c.kernel;
  const [OD, OH, OW] = c.out;
  const cg = c.C / g;
  const og = c.O / g;
  const y = new Float32Array(c.O * OD * OH * OW);
  for (let o = 0; o < c.O; o++) y.fill(b[o], o * OD * OH * OW, (o + 1) * OD * OH * OW);
  for (let ci = 0; ci < c.C; ci++) for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) {
    const xv = x[((ci * D + d) * H + h) * W + v];
    const gi = Math.floor(ci / cg);
    for (let ol = 0; ol < og; ol++) for (let i = 0; i < kd; i++) for (let j = 0; j < kh; j++) for (let k = 0; k < kw; k++) {
      const od = d * st[0] - c.begin[0] + i * dl[0];
      const oh = h * st[1] - c.begin[1] + j * dl[1];
      const ow = v * st[2] - c.begin[2] + k * dl[2];
      if (od < 0 || od >= OD || oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
      y[(((gi * og + ol) * OD + od) * OH + oh) * OW + ow] += xv * w[(((ci * og + ol) * kd + i) * kh + j) * kw + k];
    }
  }
  return y;
}

describe('ONNX Conv with 3-D windows', () => {
  it.each(Object.entries(CASES))('matches a direct 3-D convolution: %s', async (_, c) => {
    const B = 2;
    const g = c.group ?? 1;
    const w = randomArray(c.O * (c.C / g) * c.kernel[0] * c.kernel[1] * c.kernel[2], 1);
    const b = randomArray(c.O, 2);
    const x = randomArray(B * c.C * c.size[0] * c.size[1] * c.size[2], 3);
    const net = importOnnx(conv3dModel(c, w, b), 'conv3d.onnx');
    const per = x.length / B;
    const want = [0, 1].flatMap((s) => [...directConv3d(c, x.subarray(s * per, (s + 1) * per), w, b).y]);
    const scale = maxAbs(want);
    expect(maxAbsDiff(await runOn(CPU, net, IDEAL16, true, x, B), want)).toBeLessThan(1e-5 * scale);
    // On noise-free crossbars, one layer whatever the number of output depths.
    expect(planMatrices(net, IDEAL16, false)).toHaveLength(1);
    expect(maxAbsDiff(await runOn(CPU, net, IDEAL16, false, x, B), want)).toBeLessThan(2e-3 * scale);
  });

  it('fold BatchNorm3d and a bias Add into the tied per-depth convs (PyTorch export)', () => {
    const { net } = torchCase('video-conv3d');
    expect(net.ops.filter((o) => o.kind === 'affine')).toHaveLength(0);
    const layers = planMatrices(net, IDEAL16, false);
    // stem (6 output depths), the (1, 3, 3) conv (6), the dilated temporal conv (3), the Linear.
    expect(layers.map((l) => l.ops.length)).toEqual([6, 6, 3, 1]);
  });

  it('program the weight once: equal input planes give equal output planes under programming noise', async () => {
    const c: Conv3dCase = { C: 3, O: 4, size: [5, 6, 6], kernel: [1, 3, 3], attrs: { pads: [0, 1, 1, 0, 1, 1] } };
    const w = randomArray(4 * 3 * 9, 4);
    const net = importOnnx(conv3dModel(c, w, new Float32Array(4)), 'conv3d.onnx');
    const plane = randomArray(3 * 36, 5);
    const x = new Float32Array(3 * 5 * 36);
    for (let ch = 0; ch < 3; ch++) for (let d = 0; d < 5; d++) x.set(plane.subarray(ch * 36, (ch + 1) * 36), (ch * 5 + d) * 36);
    const cfg = resolveConfig({ preset: 'isaac', noise: { programming: { sigma: 0.05 }, read: { sigma: 0 } } });
    const r = openNetwork(CPU, net, cfg, false);
    try {
      await r.calibrate(x, 1);
      const y = (await r.forward(await r.program(0), x, 1, 0)).output;
      const depth = (o: number, d: number) => [...y.subarray((o * 5 + d) * 36, (o * 5 + d + 1) * 36)];
      for (let o = 0; o < 4; o++) for (let d = 1; d < 5; d++) expect(depth(o, d)).toEqual(depth(o, 0));
      // The noise is there: the noisy chip differs from the f32 result.
      const exact = directConv3d(c, x, w, new Float32Array(4)).y;
      expect(maxAbsDiff(y, exact)).toBeGreaterThan(1e-3 * maxAbs(exact));
    } finally {
      r.destroy();
    }
  });

  it.each(Object.entries(TRANSPOSED))('ConvTranspose matches a direct 3-D transposed convolution: %s', async (_, c) => {
    const B = 2;
    const g = c.group ?? 1;
    const w = randomArray(c.C * (c.O / g) * c.kernel[0] * c.kernel[1] * c.kernel[2], 6);
    const b = randomArray(c.O, 7);
    const x = randomArray(B * c.C * c.size[0] * c.size[1] * c.size[2], 8);
    const bytes = buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', c.C, ...c.size] }],
      outputs: [{ name: 'y', dims: ['N', c.O, 'd', 'h', 'w'] }],
      initializers: [{ name: 'W', dims: [c.C, c.O / g, ...c.kernel], data: w }, { name: 'B', dims: [c.O], data: b }],
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { ...(g > 1 ? { group: g } : {}), ...c.attrs } }],
    });
    const net = importOnnx(bytes, 'convtranspose3d.onnx');
    const per = x.length / B;
    const want = [0, 1].flatMap((s) => [...directConvTranspose3d(c, x.subarray(s * per, (s + 1) * per), w, b)]);
    expect(net.shapes.get(net.output)).toEqual([c.O, ...c.out]);
    expect(maxAbsDiff(await runOn(CPU, net, IDEAL16, true, x, B), want)).toBeLessThan(1e-5 * maxAbs(want));
    expect(maxAbsDiff(await runOn(CPU, net, IDEAL16, false, x, B), want)).toBeLessThan(2e-3 * maxAbs(want));
  });

  it('refuses a kernel_shape that does not match the weight, naming both', () => {
    const bytes = buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 1, 3, 3, 3] }],
      outputs: [{ name: 'y', dims: ['N', 1, 2, 2, 2] }],
      initializers: [{ name: 'W', dims: [1, 1, 2, 2, 2], data: new Float32Array(8) }],
      nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: { kernel_shape: [2, 2, 3] } }],
    });
    expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(/kernel_shape \[2, 2, 3\] does not match weight \[2, 2, 2\]/);
  });
});
