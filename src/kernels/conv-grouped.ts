import convGroupedWgsl from '../../shaders/conv-grouped.wgsl?raw';
import { uploadStorage } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { checkConvGeometry, type ConvGeometry } from '../ir/geometry.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import type { F32Weights } from './linear-f32.ts';
import { checkParam } from './template.ts';

/** The grouped conv family's variants: with or without a bias. */
export type ConvGroupedVariant = { bias: boolean; wg: number };

/** Direct f32 convolution of a conv with groups (depthwise included), one dispatch for every group. */
export const CONV_GROUPED = defineKernel({
  name: 'conv-grouped',
  uniforms: {
    n: 'u32', stride: 'u32', cin: 'u32', cing: 'u32', cout: 'u32', coutg: 'u32',
    H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', kh: 'u32', kw: 'u32',
    sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'i32', pl: 'i32',
  },
  bindings: { X: read('f32'), Wt: read('f32'), Bias: read('f32'), Y: readWrite('f32') },
  compile(v: ConvGroupedVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return v.bias
      ? { body: convGroupedWgsl, entry: 'bias_main', consts: { WG: v.wg } }
      : { body: convGroupedWgsl, entry: 'main', consts: { WG: v.wg }, uses: ['X', 'Wt', 'Y'] as const };
  },
});

/** A grouped convolution's f32 weights on the GPU: weight [cout, cin/g, kh, kw] as ONNX lays it out, bias [cout]. */
export class GroupedConvF32Weights implements F32Weights {
  private constructor(
    readonly name: string,
    readonly geom: ConvGeometry,
    private readonly weight: GPUBuffer,
    private readonly bias: GPUBuffer | null,
  ) {}

  /** Uploads a conv's weight and bias for the direct kernel. */
  static upload(s: GpuSession, name: string, geom: ConvGeometry, weight: Float32Array, bias: Float32Array | null): GroupedConvF32Weights {
    checkConvGeometry(name, geom);
    const per = (geom.cin / geom.group) * geom.kh * geom.kw;
    if (weight.length !== geom.cout * per) throw new Error(`conv ${name}: weight has ${weight.length} values, expected ${geom.cout * per}`);
    if (bias && bias.length !== geom.cout) throw new Error(`conv ${name}: bias has ${bias.length} values, expected ${geom.cout}`);
    const { device } = s.ctx;
    return new GroupedConvF32Weights(name, geom, uploadStorage(device, weight, `${name}.W`), bias ? uploadStorage(device, bias, `${name}.bias`) : null);
  }

  /** Records the convolution of x [B, cin, H, W] into a new [B, cout, OH, OW] buffer, in chunks of samples that each fit one binding. */
  encode(e: OpEncoder, x: GPUBuffer, B: number, wg = DEFAULT_WG): GPUBuffer {
    const s = e.session;
    const g = this.geom;
    const [cin, H, W] = g.inShape;
    const [cout, OH, OW] = g.outShape;
    const out = e.alloc(Math.max(4, B * cout * OH * OW * 4), `${this.name}.out`);
    const inBytes = cin * H * W * 4;
    const outBytes = cout * OH * OW * 4;
    const max = s.ctx.limits.maxStorageBufferBindingSize;
    const align = s.ctx.device.limits.minStorageBufferOffsetAlignment;
    // Whole samples per dispatch; a chunk starts at an aligned offset only when a sample's size is a multiple of the alignment.
    const fit = Math.floor(max / Math.max(inBytes, outBytes));
    const aligned = inBytes % align === 0 && outBytes % align === 0;
    const chunk = Math.max(1, aligned ? fit : B);
    if (!aligned && chunk * Math.max(inBytes, outBytes) > max) throw new Error(`conv ${this.name}: ${B} samples exceed maxStorageBufferBindingSize (${max}); use a smaller batch`);
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const nb = Math.min(chunk, B - b0);
      const n = nb * cout * OH * OW;
      const grid = linearGrid(s, n, wg);
      dispatch(s, e, CONV_GROUPED, { bias: this.bias !== null, wg }, {
        params: {
          n, stride: grid.stride, cin, cing: cin / g.group, cout, coutg: cout / g.group, H, W, OH, OW,
          kh: g.kh, kw: g.kw, sh: g.strides[0], sw: g.strides[1], dh: g.dilations[0], dw: g.dilations[1], pt: g.pads[0], pl: g.pads[1],
        },
        bind: {
          X: binding(s, x, nb * inBytes, b0 * inBytes), Wt: this.weight, Y: binding(s, out, nb * outBytes, b0 * outBytes),
          ...(this.bias ? { Bias: this.bias } : {}),
        },
        grid,
      });
    }
    return out;
  }

  destroy(): void {
    this.weight.destroy();
    this.bias?.destroy();
  }
}
