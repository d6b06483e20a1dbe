// The backward pass of adapter and --full training on WebGPU (issue 17), the CPU oracle being
// src/nn/adapt/backward.ts. One invocation per output element, i = gid.y * P.stride + gid.x (grid as
// in elementwise.wgsl). f32 accumulation with fma, in the oracle's summation order.
//
// gemm_main: Z[m, n] = alpha · Σ_k X[xo + m·sam + k·sak] · Y[k·sbk + n·sbn] (+ Z[m, n] when P.acc = 1),
//   Z[m, n] at zo + m·ldz + n. The strides express every transposed product of the backward: dx = g·Wᵀ,
//   dW = xᵀ·g, dA = ghᵀ·x, ...; xo, zo and ldz let a product too large for one binding run in row blocks.
// unary_main: Z = Y · f'(X) with X the op's input and Y the output's gradient; FN picks f.
// colsum_main: Z[n] = Σ_m X[m·N + n] (+ Z[n] when P.acc = 1): a bias's gradient.
// axpy_main: Z += X: gradients of one value from several readers.
// imap_main: Z[j] = alpha · Σ_{t ∈ [I0[j], I0[j+1])} X[I1[t]]: the backward of an index map (transpose,
//   slice, gather, reduce, a broadcast operand) as, per input element, the sum over the output elements
//   that read it (a host-built CSR list, so no two invocations write one element).
// wmap_main: Z[j] = alpha · Σ_{t ∈ [I0[j], I0[j+1])} G[t] · X[I1[t]]: imap_main with a weight per entry
//   (an average pool's 1/count, a conv's im2col and col2im with weight 1).
// bterm_main: Z[i] = G[i] · ∂(X[I0[i]] op Y[I1[i]])/∂(one side), FN picking op and side; imap_main then
//   sums the terms of a broadcast operand.
// softmax_main: per row of P.M along the axis (P.N inner elements apart): Z = X·(Y − Σ Y·X), X = y.
// layernorm_main: per row of P.K elements: the oracle's formula, G the scale (P.sam = 1) and P.alpha ε.
// Params, the bindings X, Y, G, Z, I0, I1 and FN are generated from src/kernels/backward.ts.

// f'(v) of the unary functions the backward crosses (FN: 1 relu, 2 leaky-relu, 3 tanh, 4 sigmoid,
// 5 gelu (erf form), 6 erf, 7 neg, 8 clip to [P.alpha, P.slope], its bounds included as torch.clamp's).
fn derivative(v: f32) -> f32 {
  switch (FN) {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { return select(P.slope, 1.0, v >= 0.0); }
    case 3u: {
      let e = exp(-2.0 * abs(v));
      let t = (1.0 - e) / (1.0 + e);
      return 1.0 - t * t;
    }
    case 4u: {
      let s = 1.0 / (1.0 + exp(-v));
      return s * (1.0 - s);
    }
    case 5u: { return 0.5 * erfc_fn(-v * 0.70710678118654752) + v * exp(-0.5 * v * v) * 0.39894228040143268; }
    case 6u: { return 1.1283791670955126 * exp(-v * v); }
    case 8u: { return select(0.0, 1.0, v >= P.alpha && v <= P.slope); }
    default: { return -1.0; }
  }
}

@compute @workgroup_size({{WG}})
fn gemm_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  // Batched products (attention's matmuls): matrix t of each operand starts t·xb, t·yb elements in.
  let t = i / (P.M * P.N);
  let e = i % (P.M * P.N);
  let m = e / P.N;
  let c = e % P.N;
  let xo = P.xo + t * P.xb;
  let yo = t * P.yb;
  var acc = 0.0;
  for (var k = 0u; k < P.K; k++) { acc = fma(X[xo + m * P.sam + k * P.sak], Y[yo + k * P.sbk + c * P.sbn], acc); }
  let zi = P.zo + (t * P.M + m) * P.ldz + c;
  var out = P.alpha * acc;
  if (P.acc == 1u) { out = Z[zi] + out; }
  Z[zi] = out;
}

@compute @workgroup_size({{WG}})
fn unary_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  Z[i] = Y[i] * derivative(X[i]);
}

@compute @workgroup_size({{WG}})
fn colsum_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  var acc = 0.0;
  for (var m = 0u; m < P.M; m++) { acc = acc + X[m * P.N + i]; }
  if (P.acc == 1u) { acc = Z[i] + acc; }
  Z[i] = acc;
}

@compute @workgroup_size({{WG}})
fn axpy_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  Z[i] = Z[i] + X[i];
}

@compute @workgroup_size({{WG}})
fn imap_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  var acc = 0.0;
  for (var t = I0[i]; t < I0[i + 1u]; t++) { acc = acc + X[I1[t]]; }
  var out = P.alpha * acc;
  if (P.acc == 1u) { out = Z[i] + out; }
  Z[i] = out;
}

@compute @workgroup_size({{WG}})
fn wmap_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  var acc = 0.0;
  for (var t = I0[i]; t < I0[i + 1u]; t++) { acc = fma(G[t], X[I1[t]], acc); }
  var out = P.alpha * acc;
  if (P.acc == 1u) { out = Z[i] + out; }
  Z[i] = out;
}

// ∂(l op r) of one side (FN: 1 add, 2 sub left, 3 sub right, 4 mul left, 5 mul right, 6 div left, 7 div right).
fn binary_term(l: f32, r: f32) -> f32 {
  switch (FN) {
    case 1u, 2u: { return 1.0; }
    case 3u: { return -1.0; }
    case 4u: { return r; }
    case 5u: { return l; }
    case 6u: { return 1.0 / r; }
    default: { return -l / (r * r); }
  }
}

@compute @workgroup_size({{WG}})
fn bterm_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  Z[i] = G[i] * binary_term(X[I0[i]], Y[I1[i]]);
}

@compute @workgroup_size({{WG}})
fn softmax_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let base = (i / P.N) * P.M * P.N + i % P.N;
  var s = 0.0;
  for (var c = 0u; c < P.M; c++) { let at = base + c * P.N; s = fma(Y[at], X[at], s); }
  for (var c = 0u; c < P.M; c++) { let at = base + c * P.N; Z[at] = X[at] * (Y[at] - s); }
}

@compute @workgroup_size({{WG}})
fn layernorm_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let o = i * P.K;
  let nf = f32(P.K);
  var mean = 0.0;
  for (var j = 0u; j < P.K; j++) { mean = mean + X[o + j]; }
  mean = mean / nf;
  var v = 0.0;
  for (var j = 0u; j < P.K; j++) { let d = X[o + j] - mean; v = fma(d, d, v); }
  let inv = 1.0 / sqrt(v / nf + P.alpha);
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < P.K; j++) {
    let gj = Y[o + j] * select(1.0, G[j], P.sam == 1u);
    sg = sg + gj;
    sgx = fma(gj, (X[o + j] - mean) * inv, sgx);
  }
  for (var j = 0u; j < P.K; j++) {
    let gj = Y[o + j] * select(1.0, G[j], P.sam == 1u);
    let xh = (X[o + j] - mean) * inv;
    Z[o + j] = (inv / nf) * (nf * gj - sg - xh * sgx);
  }
}
