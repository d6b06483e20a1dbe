/**
 * The adapter branch on WebGPU: A and (α/r)·B as two f32 linear layers (the same GEMM kernels as
 * every f32 layer), the branch added to the analog layer's output by the elementwise add.
 */
import type { GpuSession } from '../gpu/runtime.ts';
import type { GpuTensor, OpEncoder } from '../gpu/encoder.ts';
import { encodeBinary } from '../kernels/elementwise.ts';
import { LinearF32Weights } from '../kernels/linear-f32.ts';
import { rowMajorStrides } from '../ir/tensor.ts';
import { scaledUp, type AdapterLayer } from './set.ts';

/** Transposes a row-major [rows, cols] matrix. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

/** One layer's adapter uploaded once; switching sets uploads new ones and never touches the chip. */
export class GpuAdapter {
  private constructor(
    private readonly down: LinearF32Weights,
    private readonly up: LinearF32Weights,
    readonly N: number,
  ) {}

  static upload(s: GpuSession, name: string, a: AdapterLayer): GpuAdapter {
    // LinearF32Weights hold W [K, N]: A [r, K] and (α/r)·B [N, r] go in transposed.
    const down = LinearF32Weights.upload(s, `${name}.lora.A`, transpose(a.A, a.rank, a.K), null, a.K, a.rank);
    const up = LinearF32Weights.upload(s, `${name}.lora.B`, transpose(scaledUp(a), a.N, a.rank), null, a.rank, a.N);
    return new GpuAdapter(down, up, a.N);
  }

  /** Records y + (α/r)·B·(A·x) for n rows of x [n, K] and y [n, N] into a new tensor of y's shape. */
  encode(e: OpEncoder, x: GpuTensor, y: GpuTensor, n: number): GpuTensor {
    const h = this.down.encode(e, x.buf, n);
    const d = this.up.encode(e, h, n);
    const out: GpuTensor = { shape: y.shape, buf: e.alloc(n * this.N * 4, 'lora.out') };
    const dims = [n, this.N];
    const st = rowMajorStrides(dims);
    encodeBinary(e, 'add', { buf: y.buf, elements: n * this.N, strides: st }, { buf: d, elements: n * this.N, strides: st }, out.buf, dims);
    return out;
  }

  destroy(): void {
    this.down.destroy();
    this.up.destroy();
  }
}
