// Elementwise ops of the digital (non-crossbar) path: unary activations, numpy-broadcast binary ops,
// per-channel affine, and an in-place row bias. One invocation per output element. The grid is 2-D
// (element i = gid.y * P.stride + gid.x) so any element count fits under
// maxComputeWorkgroupsPerDimension.
//
// OP selects the unary or binary function at compile time (the switch folds away); entry points that
// do not use it are compiled with OP = 0. P.iter holds the row-major strides of the output (to split i
// into coordinates), P.sa and P.sb each operand's element strides (0 along broadcast dims).
// where_main reads three operands (X, B and the condition S, through P.sa, P.sb, P.sc).
// Params, the bindings X, Y, B, S and OP are generated from src/kernels/elementwise.ts.

// Own tanh: some drivers' builtin returns NaN for large |x|.
fn tanh_fn(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// ln(1 + e) for e in [0, 1]: log(1 + e) alone returns 0 once 1 + e rounds to 1 (Goldberg's correction).
fn log1p_fn(e: f32) -> f32 {
  let u = 1.0 + e;
  if (u == 1.0) { return e; }
  return log(u) * e / (u - 1.0);
}

// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): no overflow, no loss for very negative x.
fn softplus_fn(x: f32) -> f32 {
  return max(x, 0.0) + log1p_fn(exp(-abs(x)));
}

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
    case 4u: { return tanh_fn(x); }
    // gelu = x·Φ(x), Φ(x) = erfc(-x/√2)/2.
    case 5u: { return x * 0.5 * erfc_fn(-x * 0.7071067811865476); }
    case 6u: { return 0.5 * x * (1.0 + tanh_fn(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
    case 7u: { return clamp(P.alpha * x + P.beta, 0.0, 1.0); }
    case 8u: { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); }
    case 9u: { return exp(x); }
    case 10u: { return log(x); }
    case 11u: { return -x; }
    case 12u: { return abs(x); }
    case 13u: { return 1.0 / x; }
    case 14u: { return sqrt(x); }
    case 15u: { return erf_fn(x); }
    // exp of min(x, 0): the branch not taken must not overflow (WGSL may assume no infinities).
    case 16u: { return select(P.alpha * (exp(min(x, 0.0)) - 1.0), x, x >= 0.0); }
    case 17u: { return max(x, 0.0) + min(0.0, P.alpha * (exp(min(x, 0.0) / P.alpha) - 1.0)); }
    case 18u: { return P.beta * select(P.alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case 19u: { return softplus_fn(x); }
    case 20u: { return x / (1.0 + abs(x)); }
    case 21u: { return x * tanh_fn(softplus_fn(x)); }
    case 22u: { return sign(x); }
    case 23u: { return trunc(x); }
    case 24u: { return select(0.0, 1.0, x != 0.0); }
    case 25u: { return select(0.0, 1.0, x == 0.0); }
    case 26u: { return sin(reduced_angle(x)); }
    case 27u: { return cos(reduced_angle(x)); }
    case 28u: { return floor(x); }
    case 29u: { return ceil(x); }
    // WGSL's round is ONNX's: halves to even.
    case 30u: { return round(x); }
    // From the bits: WGSL lets implementations assume no NaN or infinity in float arithmetic.
    case 31u: { return select(0.0, 1.0, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u); }
    case 32u: { return select(0.0, 1.0, (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u); }
    // tan has period π, so the 2π reduction serves; the quotient keeps WGSL's bounded sin and cos.
    case 33u: { let r = reduced_angle(x); return sin(r) / cos(r); }
    // WGSL leaves these indeterminate outside their domains; ONNX (numpy) gives NaN.
    // Through atan2 with (1 − x)(1 + x), exact where 1 − x² would cancel near ±1 (llvmpipe's asin is
    // off by 3e-4 there); acos(x) = 2·atan(√((1 − x)/(1 + x))) keeps its accuracy near 1 as well.
    case 34u: { return select(atan2(x, sqrt((1.0 - x) * (1.0 + x))), nan_f32(), abs(x) > 1.0); }
    case 35u: { return select(2.0 * atan2(sqrt(1.0 - x), sqrt(1.0 + x)), nan_f32(), abs(x) > 1.0); }
    case 36u: { return atan(x); }
    case 37u: { let e = exp(abs(x)); return sign(x) * 0.5 * (e - 1.0 / e); }
    case 38u: { let e = exp(abs(x)); return 0.5 * (e + 1.0 / e); }
    case 39u: { return sign(x) * asinh_abs(abs(x)); }
    case 40u: { return acosh_fn(x); }
    case 41u: { return atanh_fn(x); }
    case 42u: { return select(0.0, x, x > P.alpha); }
    default: { return select(select(0.0, x - P.beta, x > P.alpha), x + P.beta, x < -P.alpha); }
  }
}

// The inverse hyperbolic functions through log1p_fn, which keeps their relative accuracy near 0
// (log(1 + a) would round it away); past 2^12, a² + 1 is a² in f32 and a² would overflow by 2^64,
// so they use ln(2a) = ln(a) + ln 2 there.
fn asinh_abs(a: f32) -> f32 {
  if (a > 4096.0) { return log(a) + 0.6931471805599453; }
  return log1p_fn(a + a * a / (1.0 + sqrt(1.0 + a * a)));
}

fn acosh_fn(x: f32) -> f32 {
  if (x < 1.0) { return nan_f32(); }
  if (x > 4096.0) { return log(x) + 0.6931471805599453; }
  let t = x - 1.0;
  return log1p_fn(t + sqrt(t * (x + 1.0)));
}

// atanh(x) = ½·ln((1 + a)/(1 − a)) = ½·log1p(2a/(1 − a)), signed; ±∞ at ±1 and NaN beyond.
fn atanh_fn(x: f32) -> f32 {
  let a = abs(x);
  if (a > 1.0) { return nan_f32(); }
  if (a == 1.0) { return sign(x) * inf_f32(); }
  return sign(x) * 0.5 * log1p_fn(2.0 * a / (1.0 - a));
}

// x − 2π·k into [−π, π] before sin/cos, whose accuracy WGSL bounds there only (Fourier features
// reach |x| of thousands). Cody–Waite: 2π = 6.28125 (8 bits, so k·6.28125 is exact for |k| < 2^16)
// + 0.0019353072 (the rest in f32), so the reduction's error stays near k·1e-10.
fn reduced_angle(x: f32) -> f32 {
  let k = round(x * 0.15915494);
  return (x - k * 6.28125) - k * 0.0019353072;
}

// NaN and +Infinity as runtime values: WGSL rejects a constant expression that evaluates to either.
fn nan_f32() -> f32 { return bitcast<f32>(0x7fc00000u | (P.n & 0u)); }
fn inf_f32() -> f32 { return bitcast<f32>(0x7f800000u | (P.n & 0u)); }

// Tested on the bits: implementations may assume no NaNs and fold v != v away.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// a^b with numpy's signs: integer exponents by repeated squaring (exact on integers, defined for
// a < 0), others as exp2(b·log2(a)), NaN for a < 0. WGSL's pow leaves a ≤ 0 undefined.
fn pow_fn(a: f32, b: f32) -> f32 {
  if (b == trunc(b) && abs(b) <= 1024.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if (e == 0u) { break; }
      if ((e & 1u) != 0u) { r = r * base; }
      base = base * base;
      e = e >> 1u;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (a < 0.0) { return nan_f32(); }
  if (a == 0.0) { return select(inf_f32(), 0.0, b > 0.0); }
  return exp2(b * log2(a));
}


fn binary_fn(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return pow_fn(a, b); }
    // NaN in either operand gives NaN, as numpy's maximum and minimum.
    case 5u: { return select(max(a, b), nan_f32(), is_nan(a) || is_nan(b)); }
    case 6u: { return select(min(a, b), nan_f32(), is_nan(a) || is_nan(b)); }
    case 7u: { return select(0.0, 1.0, a == b); }
    case 8u: { return select(0.0, 1.0, a < b); }
    default: { return select(0.0, 1.0, a > b); }
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

// Where: Y = S[ic] != 0 ? X[ia] : B[ib], the condition read through P.sc.
@compute @workgroup_size({{WG}})
fn where_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= P.n) { return; }
  var rem = i;
  var a = vec3<u32>(0u, 0u, 0u);
  for (var d = 0u; d < P.rank; d++) {
    let st = P.iter[d / 4u][d % 4u];
    let q = rem / st;
    rem = rem - q * st;
    a = a + q * vec3<u32>(P.sa[d / 4u][d % 4u], P.sb[d / 4u][d % 4u], P.sc[d / 4u][d % 4u]);
  }
  Y[i] = select(B[a.y], X[a.x], S[a.z] != 0.0);
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
