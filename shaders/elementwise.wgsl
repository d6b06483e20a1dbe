// Elementwise ops of the digital (non-crossbar) path: unary activations, numpy-broadcast binary ops,
// per-channel affine, and an in-place row bias. One invocation per output element. The grid is 2-D
// (element i = gid.y * P.stride + gid.x) so any element count fits under
// maxComputeWorkgroupsPerDimension.
//
// OP selects the unary or binary function at compile time (the switch folds away); entry points that
// do not use it are compiled with OP = 0. P.iter holds the row-major strides of the output (to split i
// into coordinates), P.sa and P.sb each operand's element strides (0 along broadcast dims).
// Params, the bindings X, Y, B, S and OP are generated from src/kernels/elementwise.ts.

fn unary_fn(x: f32) -> f32 {
  switch OP {
    case 0u: { return max(x, 0.0); }
    case 1u: { return select(P.alpha * x, x, x >= 0.0); }
    case 2u: {
      // Bounds are flags, not ±Infinity uniforms: WGSL lets implementations assume no infinities.
      var y = x;
      if ((P.flags & 1u) != 0u) { y = max(y, P.lo); }
      if ((P.flags & 2u) != 0u) { y = min(y, P.hi); }
      return y;
    }
    case 3u: {
      // exp of -|x| never overflows, unlike 1/(1+exp(-x)) for very negative x.
      let e = exp(-abs(x));
      return select(e, 1.0, x >= 0.0) / (1.0 + e);
    }
    default: {
      // Own tanh: some drivers' builtin returns NaN for large |x|.
      let e = exp(-2.0 * abs(x));
      return sign(x) * (1.0 - e) / (1.0 + e);
    }
  }
}

fn binary_fn(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    default: { return a / b; }
  }
}

fn flat_index(gid: vec3<u32>) -> u32 {
  return gid.y * P.stride + gid.x;
}

@compute @workgroup_size({{WG}})
fn unary_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= P.n) { return; }
  Y[i] = unary_fn(X[i]);
}

@compute @workgroup_size({{WG}})
fn binary_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= P.n) { return; }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let st = P.iter[d / 4u][d % 4u];
    let q = rem / st;
    rem = rem - q * st;
    ia = ia + q * P.sa[d / 4u][d % 4u];
    ib = ib + q * P.sb[d / 4u][d % 4u];
  }
  Y[i] = binary_fn(X[ia], B[ib]);
}

// y = x * B[c] + S[c], c = (i / inner) % channels.
@compute @workgroup_size({{WG}})
fn affine_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= P.n) { return; }
  let c = (i / P.inner) % P.channels;
  Y[i] = X[i] * B[c] + S[c];
}

// In place: Y[m, c] += B[c] over rows of length `channels`.
@compute @workgroup_size({{WG}})
fn bias_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= P.n) { return; }
  Y[i] = Y[i] + B[i % P.channels];
}
