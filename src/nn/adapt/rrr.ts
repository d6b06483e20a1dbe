/**
 * The closed-form layer-wise initialiser of issue 17: reduced-rank regression (Izenman 1975) of a
 * layer's error E = X·W + b − Y_chip on its inputs X. Ridge least squares Δ = (XᵀX + λI)⁻¹XᵀE, then
 * the rank-r projection onto the top right singular vectors V of XΔ (Δ_r = Δ·V·Vᵀ), which minimises
 * ‖XΔ_r − E‖ over rank-r Δ_r. As a branch: A = (ΔV)ᵀ and B = V·r/α, so (α/r)·B·A = Δ_rᵀ.
 */
import type { AdapterLayer } from '../../adapters/set.ts';

/** Solves G·Z = C for the symmetric positive definite K×K G (Cholesky), C [K, N]. */
function choleskySolve(G: Float64Array, C: Float64Array, K: number, N: number): Float64Array {
  const L = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = G[i * K + j];
      for (let k = 0; k < j; k++) s -= L[i * K + k] * L[j * K + k];
      L[i * K + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * K + j];
    }
  }
  const Z = Float64Array.from(C);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < K; i++) {
      let s = Z[i * N + n];
      for (let k = 0; k < i; k++) s -= L[i * K + k] * Z[k * N + n];
      Z[i * N + n] = s / L[i * K + i];
    }
    for (let i = K - 1; i >= 0; i--) {
      let s = Z[i * N + n];
      for (let k = i + 1; k < K; k++) s -= L[k * K + i] * Z[k * N + n];
      Z[i * N + n] = s / L[i * K + i];
    }
  }
  return Z;
}

/** Top-r orthonormal eigenvectors [N, r] of the symmetric N×N M by subspace iteration. */
function topEigenvectors(M: Float64Array, N: number, r: number, iterations = 200): Float64Array {
  let V = new Float64Array(N * r);
  // A deterministic start: spread columns, then orthonormalise.
  for (let i = 0; i < N; i++) for (let q = 0; q < r; q++) V[i * r + q] = Math.cos(1 + i * (q + 1) * 0.7) + (i % r === q ? 1 : 0);
  const orth = (X: Float64Array): void => {
    for (let q = 0; q < r; q++) {
      for (let p = 0; p < q; p++) {
        let d = 0;
        for (let i = 0; i < N; i++) d += X[i * r + q] * X[i * r + p];
        for (let i = 0; i < N; i++) X[i * r + q] -= d * X[i * r + p];
      }
      let nrm = 0;
      for (let i = 0; i < N; i++) nrm += X[i * r + q] ** 2;
      nrm = Math.sqrt(nrm) || 1;
      for (let i = 0; i < N; i++) X[i * r + q] /= nrm;
    }
  };
  orth(V);
  for (let it = 0; it < iterations; it++) {
    const W = new Float64Array(N * r);
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      const m = M[i * N + j];
      if (m === 0) continue;
      for (let q = 0; q < r; q++) W[i * r + q] += m * V[j * r + q];
    }
    orth(W);
    V = W;
  }
  return V;
}

/**
 * Rank-r adapter fitting E [n, N] from X [n, K] (both row-major): reduced-rank ridge regression with
 * λ = `ridge` × mean diagonal of XᵀX.
 */
export function fitReducedRank(X: ArrayLike<number>, E: ArrayLike<number>, n: number, K: number, N: number, rank: number, alpha: number, ridge = 1e-6): AdapterLayer {
  const r = Math.min(rank, K, N);
  const G = new Float64Array(K * K);
  const C = new Float64Array(K * N);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < K; i++) {
      const xi = X[s * K + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) G[i * K + j] += xi * X[s * K + j];
      for (let j = 0; j < N; j++) C[i * N + j] += xi * E[s * N + j];
    }
  }
  let tr = 0;
  for (let i = 0; i < K; i++) tr += G[i * K + i];
  const lambda = (ridge * tr) / K + 1e-12;
  for (let i = 0; i < K; i++) {
    G[i * K + i] += lambda;
    for (let j = 0; j < i; j++) G[j * K + i] = G[i * K + j];
  }
  const D = choleskySolve(G, C, K, N);
  // M = (XΔ)ᵀ(XΔ) = Δᵀ(XᵀX)Δ; with the ridge-shifted G the difference is λΔᵀΔ, negligible for a small ridge.
  const GD = new Float64Array(K * N);
  for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) {
    const g = G[i * K + k] - (i === k ? lambda : 0);
    if (g === 0) continue;
    for (let j = 0; j < N; j++) GD[i * N + j] += g * D[k * N + j];
  }
  const M = new Float64Array(N * N);
  for (let i = 0; i < K; i++) for (let a = 0; a < N; a++) {
    const d = D[i * N + a];
    if (d === 0) continue;
    for (let b = 0; b < N; b++) M[a * N + b] += d * GD[i * N + b];
  }
  const V = topEigenvectors(M, N, r);
  const A = new Float32Array(r * K);
  for (let q = 0; q < r; q++) for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += D[k * N + j] * V[j * r + q];
    A[q * K + k] = s;
  }
  const B = new Float32Array(N * r);
  for (let j = 0; j < N; j++) for (let q = 0; q < r; q++) B[j * r + q] = (V[j * r + q] * r) / alpha;
  return { rank: r, alpha, K, N, A, B };
}
