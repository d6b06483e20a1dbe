import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { checkConvGeometry, type ConvGeometry } from '../ir/geometry.ts';
import { encodeGemm, padColumns, uploadColumnBlocks, type ColumnBlock } from './gemm.ts';
import { encodeRowBias } from './elementwise.ts';
import { encodeIm2colRows, im2colColumns } from './im2col.ts';
import { rowsPerWindow } from './dispatch.ts';
import { colsToNchwPlan, encodeStridedCopy, unpadRowsPlan, type StridedCopy } from './layout.ts';
import { ceilDiv } from './template.ts';

/** f32 weights of a layer, uploaded once and reused by every batch. */
export interface F32Weights {
  destroy(): void;
}

/**
 * A linear layer's f32 weights on the GPU: [K, N4·4] zero-padded columns, in column blocks that each
 * fit one storage binding; bias [N] or null.
 */
export class LinearF32Weights implements F32Weights {
  readonly N4: number;
  private constructor(
    readonly name: string,
    readonly K: number,
    readonly N: number,
    readonly blocks: readonly ColumnBlock[],
    readonly bias: GPUBuffer | null,
  ) {
    this.N4 = ceilDiv(N, 4);
  }

  /** Uploads W [K, N] (row-major) and the bias. */
  static upload(s: GpuSession, name: string, weight: Float32Array, bias: Float32Array | null, K: number, N: number): LinearF32Weights {
    if (!Number.isInteger(K) || !Number.isInteger(N) || K < 1 || N < 1) throw new Error(`linear ${name}: K=${K}, N=${N} must be positive integers`);
    if (weight.length !== K * N) throw new Error(`linear ${name}: weight has ${weight.length} values, expected K·N = ${K * N}`);
    if (bias && bias.length !== N) throw new Error(`linear ${name}: bias has ${bias.length} values, expected ${N}`);
    const { data, N4 } = padColumns(weight, K, N);
    const blocks = uploadColumnBlocks(s, data, K, N4, `${name}.W`);
    return new LinearF32Weights(name, K, N, blocks, bias ? uploadStorage(s.ctx.device, bias, `${name}.bias`) : null);
  }

  /** Records y [M, N] = x [M, K]·W + bias into a new buffer. */
  encode(e: OpEncoder, x: GPUBuffer, M: number): GPUBuffer {
    const { K, N, N4 } = this;
    const y = e.alloc(Math.max(4, M * N * 4), `${this.name}.out`);
    if (N4 * 4 === N) {
      for (const b of this.blocks) encodeGemm(e.session, e, x, M, K, b, y, N4);
      if (this.bias) encodeRowBias(e, y, this.bias, M, N);
      return y;
    }
    const padded = e.alloc(Math.max(16, M * N4 * 16), `${this.name}.padded`);
    for (const b of this.blocks) encodeGemm(e.session, e, x, M, K, b, padded, N4);
    // The padded rows are wider than the output's: unpad them in row windows when they exceed a binding.
    const fits = M * N4 * 16 <= e.session.ctx.limits.maxStorageBufferBindingSize;
    const chunk = fits ? M : Math.max(1, rowsPerWindow(e.session, N4 * 16));
    for (let r0 = 0; r0 < M; r0 += chunk) {
      const { plan, biasStrides } = unpadRowsPlan(Math.min(chunk, M - r0), N, N4 * 4);
      const rows = { ...plan, src: { ...plan.src, offset: r0 * N4 * 4 }, dst: { ...plan.dst, offset: r0 * N } };
      encodeStridedCopy(e, padded, y, rows, this.bias ? { buf: this.bias, access: { strides: biasStrides, offset: 0 } } : undefined);
    }
    return y;
  }

  destroy(): void {
    for (const b of this.blocks) b.buf.destroy();
    this.bias?.destroy();
  }
}

/** A convolution's f32 weights on the GPU: per group the [(cin/g)·kh·kw, (cout/g) padded to 4] matrix in column blocks, bias [cout]. */
export class ConvF32Weights implements F32Weights {
  private constructor(
    readonly name: string,
    readonly geom: ConvGeometry,
    readonly groups: readonly (readonly ColumnBlock[])[],
    readonly bias: GPUBuffer | null,
  ) {}

  /** Uploads weight [cout, cin/g, kh, kw] (ONNX layout) as per-group im2col matrices, and the bias. */
  static upload(s: GpuSession, name: string, geom: ConvGeometry, weight: Float32Array, bias: Float32Array | null): ConvF32Weights {
    checkConvGeometry(name, geom);
    const kc = im2colColumns(geom);
    const cg = geom.cout / geom.group;
    if (weight.length !== geom.cout * kc) throw new Error(`conv ${name}: weight has ${weight.length} values, expected ${geom.cout * kc}`);
    if (bias && bias.length !== geom.cout) throw new Error(`conv ${name}: bias has ${bias.length} values, expected ${geom.cout}`);
    const groups: ColumnBlock[][] = [];
    for (let g = 0; g < geom.group; g++) {
      const { data, N4 } = padColumns(groupMatrix(weight, kc, cg, g), kc, cg);
      groups.push(uploadColumnBlocks(s, data, kc, N4, `${name}.W${g}`));
    }
    return new ConvF32Weights(name, geom, groups, bias ? uploadStorage(s.ctx.device, bias, `${name}.bias`) : null);
  }

  /**
   * Records the convolution of x [B, cin, H, W] into a new [B, cout, OH, OW] buffer: im2col, GEMM,
   * scatter + bias per group, over chunks of whole samples whose im2col rows and GEMM results each fit
   * one binding, or, for a sample too large for that, over chunks of its output pixels.
   */
  encode(e: OpEncoder, x: GPUBuffer, B: number): GPUBuffer {
    const s = e.session;
    const g = this.geom;
    const [, OH, OW] = g.outShape;
    const P = OH * OW;
    const kc = im2colColumns(g);
    const cg = g.cout / g.group;
    const cg4 = ceilDiv(cg, 4);
    const out = e.alloc(Math.max(4, B * g.cout * P * 4), `${this.name}.out`);
    if (B === 0) return out;
    // One row of the im2col matrix, or of the GEMM result: whichever is wider.
    const rowBytes = Math.max(kc * 4, cg4 * 16);
    const maxBinding = s.ctx.limits.maxStorageBufferBindingSize;
    const samples = Math.min(B, Math.floor(maxBinding / (P * rowBytes)));
    const pixels = samples >= 1 ? P : rowsPerWindow(s, rowBytes);
    if (pixels < 1) throw new Error(`conv ${this.name}: one output pixel's im2col row and GEMM result (${rowBytes} bytes) exceed maxStorageBufferBindingSize (${maxBinding})`);
    const rowsPerChunk = samples >= 1 ? samples * P : pixels;
    const cols = e.alloc(rowsPerChunk * kc * 4, `${this.name}.cols`);
    const prod = e.alloc(rowsPerChunk * cg4 * 16, `${this.name}.prod`);
    // Chunks never straddle a sample unless they hold whole samples.
    for (let b0 = 0; b0 < B; b0 += Math.max(1, samples)) {
      const count = samples >= 1 ? Math.min(samples, B - b0) : 1;
      for (let p0 = 0; p0 < P; p0 += pixels) {
        const np = samples >= 1 ? P : Math.min(pixels, P - p0);
        const rows = count * np;
        for (let grp = 0; grp < g.group; grp++) {
          encodeIm2colRows(s, e, g, x, B, cols, grp, b0 * P + p0, rows);
          for (const blk of this.groups[grp]) encodeGemm(s, e, cols, rows, kc, blk, prod, cg4);
          encodeStridedCopy(e, prod, out, this.scatterPlan(b0, count, p0, np, grp), this.bias ? { buf: this.bias, access: { strides: [0, 1, 0], offset: grp * cg } } : undefined);
        }
      }
    }
    return out;
  }

  /** Plan scattering GEMM rows (samples b0.., pixels p0..) of group grp into NCHW channels of the output. */
  private scatterPlan(b0: number, count: number, p0: number, np: number, grp: number): StridedCopy {
    const g = this.geom;
    const P = g.outShape[1] * g.outShape[2];
    const cg = g.cout / g.group;
    const srcRow = ceilDiv(cg, 4) * 4;
    if (np === P) {
      const { plan } = colsToNchwPlan(count, P, cg, srcRow, g.cout, grp * cg);
      return { ...plan, dst: { ...plan.dst, offset: plan.dst.offset + b0 * g.cout * P } };
    }
    return {
      dims: [1, cg, np],
      src: { strides: [np * srcRow, 1, srcRow], offset: 0 },
      dst: { strides: [g.cout * P, P, 1], offset: b0 * g.cout * P + grp * cg * P + p0 },
    };
  }

  destroy(): void {
    for (const blocks of this.groups) for (const b of blocks) b.buf.destroy();
    this.bias?.destroy();
  }
}

/** Group g's matrix W_g[k, c] = weight[g·cg + c, k] with k over (cin/g, kh, kw): DESIGN.md section 6's row order. */
export function groupMatrix(weight: Float32Array, kc: number, cg: number, g: number): Float32Array {
  const m = new Float32Array(kc * cg);
  for (let c = 0; c < cg; c++) {
    const row = (g * cg + c) * kc;
    for (let k = 0; k < kc; k++) m[k * cg + c] = weight[row + k];
  }
  return m;
}
