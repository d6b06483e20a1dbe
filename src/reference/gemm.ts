/** C[M,N] = A[M,K] * B[K,N] in f64: the oracle for the GPU GEMM. */
export function gemmRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const av = a[m * K + k];
      if (av === 0) continue;
      const row = k * N;
      const out = m * N;
      for (let n = 0; n < N; n++) c[out + n] += av * b[row + n];
    }
  }
  return c;
}
