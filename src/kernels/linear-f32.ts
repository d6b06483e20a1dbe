import type { GpuSession } from '../gpu/runtime.ts';
import { uploadStorage, uploadUniform, UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { DEFAULT_GEMM, gemmKey, gemmSource, padColumns, type GemmProgram } from './gemm.ts';
import { binding, dispatch, encodeRowBias } from './elementwise.ts';
import { checkConvGeometry, type ConvGeometry } from '../ir/geometry.ts';
import { encodeIm2colKernel, im2colColumns } from './im2col.ts';
import { colsToNchwPlan, encodeStridedCopy, unpadRowsPlan } from './layout.ts';
import { ceilDiv } from './template.ts';

/**
 * Records C[M, N4·4] = A[M, K]·B[K, N4·4] with gemm.wgsl. Rows are cut into chunks that fit the
 * workgroup grid and the storage binding limit; chunk boundaries are multiples of the storage offset
 * alignment so each chunk binds A and C at an offset instead of copying.
 */
export function encodeGemmRows(e: OpEncoder, a: GPUBuffer, M: number, K: number, b: GPUBuffer, N4: number, c: GPUBuffer, p: GemmProgram = DEFAULT_GEMM): void {
  if (M === 0 || N4 === 0) return;
  if (K < 1) throw new Error('gemm: K must be at least 1');
  const s = e.session;
  const lim = s.ctx.limits;
  const maxDim = lim.maxComputeWorkgroupsPerDimension;
  const gx = ceilDiv(N4, p.wgx);
  if (gx > maxDim) throw new Error(`gemm: ${N4 * 4} output columns exceed the ${maxDim}-workgroup grid`);
  const byGrid = maxDim * p.wgy * p.tm;
  const byBinding = Math.floor(lim.maxStorageBufferBindingSize / Math.max(K * 4, N4 * 16));
  const cap = Math.min(byGrid, byBinding);
  let chunk = M;
  if (M > cap) {
    const unit = s.ctx.device.limits.minStorageBufferOffsetAlignment / 4;
    chunk = Math.floor(cap / unit) * unit;
    if (chunk < 1) throw new Error(`gemm: a row of K=${K}, N=${N4 * 4} does not fit this adapter's binding and grid limits`);
  }
  const pipeline = s.pipelines.get(gemmKey(p), () => gemmSource(p, lim.maxComputeInvocationsPerWorkgroup));
  const bBind = binding(s, b, K * N4 * 16);
  for (let r0 = 0; r0 < M; r0 += chunk) {
    const rows = Math.min(chunk, M - r0);
    const u = e.temp(uploadUniform(s.ctx.device, new UniformWriter(4).u32(rows).u32(N4).u32(K).u32(0).buffer, 'gemm.params'));
    dispatch(
      e,
      pipeline,
      [[0, { buffer: u }], [1, binding(s, a, rows * K * 4, r0 * K * 4)], [2, bBind], [3, binding(s, c, rows * N4 * 16, r0 * N4 * 16)]],
      { gx, gy: ceilDiv(ceilDiv(rows, p.tm), p.wgy) },
      'gemm.f32',
    );
  }
}

/** f32 weights of a layer, uploaded once and reused by every batch. */
export interface F32Weights {
  destroy(): void;
}

/** A linear layer's f32 weights on the GPU: [K, N4·4] zero-padded columns, bias [N] or null. */
export class LinearF32Weights implements F32Weights {
  readonly N4: number;
  private constructor(
    readonly name: string,
    readonly K: number,
    readonly N: number,
    readonly w: GPUBuffer,
    readonly bias: GPUBuffer | null,
  ) {
    this.N4 = ceilDiv(N, 4);
  }

  /** Uploads W [K, N] (row-major) and the bias. */
  static upload(s: GpuSession, name: string, weight: Float32Array, bias: Float32Array | null, K: number, N: number): LinearF32Weights {
    if (!Number.isInteger(K) || !Number.isInteger(N) || K < 1 || N < 1) throw new Error(`linear ${name}: K=${K}, N=${N} must be positive integers`);
    if (weight.length !== K * N) throw new Error(`linear ${name}: weight has ${weight.length} values, expected K·N = ${K * N}`);
    if (bias && bias.length !== N) throw new Error(`linear ${name}: bias has ${bias.length} values, expected ${N}`);
    const { data } = padColumns(weight, K, N);
    checkFits(s, name, data.byteLength);
    const { device } = s.ctx;
    return new LinearF32Weights(name, K, N, uploadStorage(device, data, `${name}.W`), bias ? uploadStorage(device, bias, `${name}.bias`) : null);
  }

  /** Records y [M, N] = x [M, K]·W + bias into a new buffer. */
  encode(e: OpEncoder, x: GPUBuffer, M: number): GPUBuffer {
    const { K, N, N4 } = this;
    const y = e.alloc(Math.max(4, M * N * 4), `${this.name}.out`);
    if (N4 * 4 === N) {
      encodeGemmRows(e, x, M, K, this.w, N4, y);
      if (this.bias) encodeRowBias(e, y, this.bias, M, N);
      return y;
    }
    const padded = e.alloc(Math.max(16, M * N4 * 16), `${this.name}.padded`);
    encodeGemmRows(e, x, M, K, this.w, N4, padded);
    const { plan, biasStrides } = unpadRowsPlan(M, N, N4 * 4);
    encodeStridedCopy(e, padded, y, plan, this.bias ? { buf: this.bias, access: { strides: biasStrides, offset: 0 } } : undefined);
    return y;
  }

  destroy(): void {
    this.w.destroy();
    this.bias?.destroy();
  }
}

function checkFits(s: GpuSession, name: string, bytes: number): void {
  const max = s.ctx.limits.maxStorageBufferBindingSize;
  if (bytes > max) throw new Error(`${name}: ${bytes} bytes of f32 weights exceed this adapter's maxStorageBufferBindingSize (${max})`);
}

/** A convolution's f32 weights on the GPU: per group the [(cin/g)·kh·kw, (cout/g) padded to 4] matrix, bias [cout]. */
export class ConvF32Weights implements F32Weights {
  private constructor(
    readonly name: string,
    readonly geom: ConvGeometry,
    readonly groups: readonly GPUBuffer[],
    readonly bias: GPUBuffer | null,
  ) {}

  /** Uploads weight [cout, cin/g, kh, kw] (ONNX layout) as per-group im2col matrices, and the bias. */
  static upload(s: GpuSession, name: string, geom: ConvGeometry, weight: Float32Array, bias: Float32Array | null): ConvF32Weights {
    checkConvGeometry(name, geom);
    const kc = im2colColumns(geom);
    const cg = geom.cout / geom.group;
    if (weight.length !== geom.cout * kc) throw new Error(`conv ${name}: weight has ${weight.length} values, expected ${geom.cout * kc}`);
    if (bias && bias.length !== geom.cout) throw new Error(`conv ${name}: bias has ${bias.length} values, expected ${geom.cout}`);
    const groups: GPUBuffer[] = [];
    const { device } = s.ctx;
    for (let g = 0; g < geom.group; g++) {
      const { data } = padColumns(groupMatrix(weight, kc, cg, g), kc, cg);
      checkFits(s, name, data.byteLength);
      groups.push(uploadStorage(device, data, `${name}.W${g}`));
    }
    return new ConvF32Weights(name, geom, groups, bias ? uploadStorage(device, bias, `${name}.bias`) : null);
  }

  /** Records the convolution of x [B, cin, H, W] into a new [B, cout, OH, OW] buffer: im2col, GEMM, scatter + bias per group. */
  encode(e: OpEncoder, x: GPUBuffer, B: number): GPUBuffer {
    const g = this.geom;
    const [, OH, OW] = g.outShape;
    const P = OH * OW;
    const kc = im2colColumns(g);
    const cg = g.cout / g.group;
    const cg4 = ceilDiv(cg, 4);
    const out = e.alloc(Math.max(4, B * g.cout * P * 4), `${this.name}.out`);
    if (B === 0) return out;
    // Samples per chunk, so that the im2col matrix and the GEMM result each fit one binding.
    const perSample = P * Math.max(kc * 4, cg4 * 16);
    const maxBinding = e.session.ctx.limits.maxStorageBufferBindingSize;
    if (perSample > maxBinding) throw new Error(`conv ${this.name}: one sample's im2col matrix (${perSample} bytes) exceeds maxStorageBufferBindingSize (${maxBinding})`);
    const bs = Math.min(B, Math.floor(maxBinding / perSample));
    const cols = e.alloc(bs * P * kc * 4, `${this.name}.cols`);
    const prod = e.alloc(bs * P * cg4 * 16, `${this.name}.prod`);
    for (let b0 = 0; b0 < B; b0 += bs) {
      const count = Math.min(bs, B - b0);
      for (let grp = 0; grp < g.group; grp++) {
        encodeIm2colKernel(e, g, x, B, cols, grp, b0, count);
        encodeGemmRows(e, cols, count * P, kc, this.groups[grp], cg4, prod);
        const { plan, biasStrides } = colsToNchwPlan(count, P, cg, cg4 * 4, g.cout, grp * cg);
        const shifted = { ...plan, dst: { ...plan.dst, offset: plan.dst.offset + b0 * g.cout * P } };
        encodeStridedCopy(e, prod, out, shifted, this.bias ? { buf: this.bias, access: { strides: biasStrides, offset: grp * cg } } : undefined);
      }
    }
    return out;
  }

  destroy(): void {
    for (const b of this.groups) b.destroy();
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
