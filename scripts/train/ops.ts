// Dense row-major f32 kernels for CPU training. Plain loops over Float32Array: V8 does not
// vectorize, so the wins come from loop order (contiguous inner loops) and register blocking
// (several outputs or several rank-1 updates per pass over memory).

/** C[M,N] (=|+=) A[M,K] · B[N,K]ᵀ: dot products of rows (dense forward, conv weight gradient). */
export function matmulNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, accumulate = false): void {
  let i = 0;
  // 2 rows of A × 4 rows of B per pass: 6 loads feed 8 multiply-adds.
  for (; i + 2 <= m; i += 2) {
    const a0 = i * k;
    const a1 = a0 + k;
    const c0 = i * n;
    const c1 = c0 + n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[a0 + p];
        const y = a[a1 + p];
        const v0 = b[b0 + p];
        const v1 = b[b1 + p];
        const v2 = b[b2 + p];
        const v3 = b[b3 + p];
        s00 += x * v0;
        s01 += x * v1;
        s02 += x * v2;
        s03 += x * v3;
        s10 += y * v0;
        s11 += y * v1;
        s12 += y * v2;
        s13 += y * v3;
      }
      if (accumulate) {
        c[c0 + j] += s00;
        c[c0 + j + 1] += s01;
        c[c0 + j + 2] += s02;
        c[c0 + j + 3] += s03;
        c[c1 + j] += s10;
        c[c1 + j + 1] += s11;
        c[c1 + j + 2] += s12;
        c[c1 + j + 3] += s13;
      } else {
        c[c0 + j] = s00;
        c[c0 + j + 1] = s01;
        c[c0 + j + 2] = s02;
        c[c0 + j + 3] = s03;
        c[c1 + j] = s10;
        c[c1 + j + 1] = s11;
        c[c1 + j + 2] = s12;
        c[c1 + j + 3] = s13;
      }
    }
    for (; j < n; j++) {
      const bj = j * k;
      let s0 = 0;
      let s1 = 0;
      for (let p = 0; p < k; p++) {
        s0 += a[a0 + p] * b[bj + p];
        s1 += a[a1 + p] * b[bj + p];
      }
      c[c0 + j] = accumulate ? c[c0 + j] + s0 : s0;
      c[c1 + j] = accumulate ? c[c1 + j] + s1 : s1;
    }
  }
  for (; i < m; i++) {
    const ai = i * k;
    const ci = i * n;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
      c[ci + j] = accumulate ? c[ci + j] + s : s;
    }
  }
}

/**
 * C[c0..] += Σ_q x_q·B[b0 + q·n ..] and C[c1..] += Σ_q y_q·B[b0 + q·n ..] for q < 4: the inner
 * kernel shared by the NN and TN products, which differ only in where A's coefficients come from.
 */
function rank4x2(
  b: Float32Array, c: Float32Array, n: number, c0: number, c1: number, b0: number,
  x0: number, x1: number, x2: number, x3: number, y0: number, y1: number, y2: number, y3: number,
): void {
  const b1 = b0 + n;
  const b2 = b1 + n;
  const b3 = b2 + n;
  for (let j = 0; j < n; j++) {
    const v0 = b[b0 + j];
    const v1 = b[b1 + j];
    const v2 = b[b2 + j];
    const v3 = b[b3 + j];
    c[c0 + j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
    c[c1 + j] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
  }
}

/** C[M,N] (=|+=) A[M,K] · B[K,N]: rank-1 row updates (conv forward, dense input gradient). */
export function matmulNN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, accumulate = false): void {
  if (!accumulate) c.fill(0, 0, m * n);
  let i = 0;
  // 2 rows of C × 4 rows of B per pass: each B load feeds two rows, each C row is touched k/4 times.
  for (; i + 2 <= m; i += 2) {
    const a0 = i * k;
    const a1 = a0 + k;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      rank4x2(b, c, n, i * n, (i + 1) * n, p * n,
        a[a0 + p], a[a0 + p + 1], a[a0 + p + 2], a[a0 + p + 3], a[a1 + p], a[a1 + p + 1], a[a1 + p + 2], a[a1 + p + 3]);
    }
    for (; p < k; p++) axpy2(b, c, n, i * n, (i + 1) * n, p * n, a[a0 + p], a[a1 + p]);
  }
  for (; i < m; i++) for (let p = 0; p < k; p++) axpy2(b, c, n, i * n, -1, p * n, a[i * k + p], 0);
}

/** C[M,N] (=|+=) A[K,M]ᵀ · B[K,N] (dense weight gradient, conv column gradient). */
export function matmulTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, accumulate = false): void {
  if (!accumulate) c.fill(0, 0, m * n);
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const r = p * m + i;
      rank4x2(b, c, n, i * n, (i + 1) * n, p * n,
        a[r], a[r + m], a[r + 2 * m], a[r + 3 * m], a[r + 1], a[r + m + 1], a[r + 2 * m + 1], a[r + 3 * m + 1]);
    }
    for (; p < k; p++) axpy2(b, c, n, i * n, (i + 1) * n, p * n, a[p * m + i], a[p * m + i + 1]);
  }
  for (; i < m; i++) for (let p = 0; p < k; p++) axpy2(b, c, n, i * n, -1, p * n, a[p * m + i], 0);
}

/** C[c0..] += x·B[b0..], and C[c1..] += y·B[b0..] unless c1 < 0. */
function axpy2(b: Float32Array, c: Float32Array, n: number, c0: number, c1: number, b0: number, x: number, y: number): void {
  if (c1 < 0) {
    for (let j = 0; j < n; j++) c[c0 + j] += x * b[b0 + j];
    return;
  }
  for (let j = 0; j < n; j++) {
    const v = b[b0 + j];
    c[c0 + j] += x * v;
    c[c1 + j] += y * v;
  }
}

/** Geometry of a stride-1 2-D convolution with symmetric zero padding. */
export interface ConvGeometry {
  cin: number;
  h: number;
  w: number;
  k: number;
  pad: number;
  /** Output height and width: h + 2·pad − k + 1. */
  oh: number;
  ow: number;
}

/** Makes the geometry of a stride-1 conv with a k×k kernel. */
export function convGeometry(cin: number, h: number, w: number, k: number, pad: number): ConvGeometry {
  const oh = h + 2 * pad - k + 1;
  const ow = w + 2 * pad - k + 1;
  if (oh < 1 || ow < 1) throw new RangeError(`conv ${k}x${k} pad ${pad} does not fit ${h}x${w}`);
  return { cin, h, w, k, pad, oh, ow };
}

/** col[(c,ky,kx), (oy,ox)] = x[c, oy+ky−pad, ox+kx−pad] (0 outside): ONNX's (cin, kh, kw) row order. */
export function im2col(x: Float32Array, xOff: number, g: ConvGeometry, col: Float32Array, colOff: number): void {
  const { cin, h, w, k, pad, oh, ow } = g;
  const p = oh * ow;
  let row = colOff;
  for (let c = 0; c < cin; c++) {
    const xc = xOff + c * h * w;
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy + ky - pad;
          const dst = row + oy * ow;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = xc + iy * w + kx - pad;
          const lo = Math.max(0, pad - kx);
          const hi = Math.min(ow, w + pad - kx);
          for (let ox = 0; ox < lo; ox++) col[dst + ox] = 0;
          for (let ox = lo; ox < hi; ox++) col[dst + ox] = x[src + ox];
          for (let ox = hi; ox < ow; ox++) col[dst + ox] = 0;
        }
        row += p;
      }
    }
  }
}

/** The adjoint of im2col: dx[c, iy, ix] += Σ dcol over the taps that read it. */
export function col2im(dcol: Float32Array, colOff: number, g: ConvGeometry, dx: Float32Array, dxOff: number): void {
  const { cin, h, w, k, pad, oh, ow } = g;
  const p = oh * ow;
  let row = colOff;
  for (let c = 0; c < cin; c++) {
    const xc = dxOff + c * h * w;
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy + ky - pad;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * ow;
          const dst = xc + iy * w + kx - pad;
          const lo = Math.max(0, pad - kx);
          const hi = Math.min(ow, w + pad - kx);
          for (let ox = lo; ox < hi; ox++) dx[dst + ox] += dcol[src + ox];
        }
        row += p;
      }
    }
  }
}
