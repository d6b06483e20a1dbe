// Kernels that compute across a sample's elements, one invocation per output line or element (the
// lines are short in the networks xbarsim runs: channels, tokens, feature vectors). f32 arithmetic;
// the CPU oracle (src/reference/math-ops.ts) accumulates in f64. Grid as in elementwise.wgsl.
// Params, the bindings X, Y, Sc, Bi and the constants are generated from src/kernels/reduce.ts.
//
// reduce_main: output o splits into coordinates of the kept dims (P.kiter row-major, P.ksrc their
// input strides), reduced element r into coordinates of the reduced dims (P.riter, P.rsrc); OP is
// 0 sum, 1 mean, 2 max, 3 min, 4 prod.

fn table_offset(i: u32, rank: u32, it: array<vec4<u32>, 2>, src: array<vec4<u32>, 2>) -> u32 {
  var rem = i;
  var a = 0u;
  for (var d = 0u; d < rank; d++) {
    let st = it[d / 4u][d % 4u];
    let q = rem / st;
    rem = rem - q * st;
    a = a + q * src[d / 4u][d % 4u];
  }
  return a;
}

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size({{WG}})
fn reduce_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.y * P.stride + gid.x;
  if (o >= P.lines) { return; }
  let base = table_offset(o, P.krank, P.kiter, P.ksrc);
  var acc = X[base + table_offset(0u, P.rrank, P.riter, P.rsrc)];
  for (var r = 1u; r < P.L; r++) {
    let v = X[base + table_offset(r, P.rrank, P.riter, P.rsrc)];
    switch OP {
      case 0u, 1u: { acc = acc + v; }
      // NaN propagates, as numpy's max and min.
      case 2u: { acc = select(max(acc, v), v, is_nan(v) || is_nan(acc)); }
      case 3u: { acc = select(min(acc, v), v, is_nan(v) || is_nan(acc)); }
      default: { acc = acc * v; }
    }
  }
  if (OP == 1u) { acc = acc / f32(P.L); }
  Y[o] = acc;
}

// ArgMax along L of [outer, L, inner]: the first largest index, or the last with LAST.
@compute @workgroup_size({{WG}})
fn argmax_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * P.stride + gid.x;
  if (t >= P.lines) { return; }
  let j = t % P.inner;
  let base = (t / P.inner) * P.L * P.inner + j;
  var best = 0u;
  var m = X[base];
  for (var k = 1u; k < P.L; k++) {
    let v = X[base + k * P.inner];
    if (v > m || (LAST && v == m)) { best = k; m = v; }
  }
  Y[t] = f32(best);
}

// CumSum along L of [outer, L, inner]: running sums from the start (from the end with REVERSE),
// each element's own value included, or with EXCLUSIVE only those before it.
@compute @workgroup_size({{WG}})
fn cumsum_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * P.stride + gid.x;
  if (t >= P.lines) { return; }
  let j = t % P.inner;
  let base = (t / P.inner) * P.L * P.inner + j;
  var acc = 0.0;
  for (var i = 0u; i < P.L; i++) {
    let at = base + select(i, P.L - 1u - i, REVERSE) * P.inner;
    let v = X[at];
    if (EXCLUSIVE) { Y[at] = acc; }
    acc = acc + v;
    if (!EXCLUSIVE) { Y[at] = acc; }
  }
}

// TopK along L of [outer, L, inner] into [outer, k = P.lo, inner]: element t counts the elements of
// its line that rank before it (larger, or smaller without LARGEST; NaN above every number; ties to
// the lower index) and, ranked below k, writes its value (its index with INDICES) at that rank.
fn topk_before(va: f32, a: u32, vb: f32, b: u32) -> bool {
  let na = is_nan(va);
  let nb = is_nan(vb);
  if (na || nb) {
    if (na && nb) { return a < b; }
    return select(nb, na, LARGEST);
  }
  if (va == vb) { return a < b; }
  return select((va < vb), (va > vb), LARGEST);
}

@compute @workgroup_size({{WG}})
fn topk_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * P.stride + gid.x;
  if (t >= P.lines) { return; }
  let j = t % P.inner;
  let i = (t / P.inner) % P.L;
  let o = t / (P.inner * P.L);
  let base = o * P.L * P.inner + j;
  let v = X[t];
  var rank = 0u;
  for (var m = 0u; m < P.L; m++) {
    if (topk_before(X[base + m * P.inner], m, v, i)) { rank = rank + 1u; }
  }
  if (rank < P.lo) { Y[(o * P.lo + rank) * P.inner + j] = select(v, f32(i), INDICES); }
}

// Normalization of consecutive groups of L elements (layer norm: a sample's trailing axes; instance
// norm: one channel's plane): (x − mean)/sqrt(var + eps)·Sc + Bi, var the population variance by
// two passes. Sc and Bi are indexed by the element's place in the group (P.chan = 0) or by the
// group's channel, group % P.chan.
@compute @workgroup_size({{WG}})
fn norm_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.y * P.stride + gid.x;
  if (g >= P.lines) { return; }
  let base = g * P.L;
  var mean = 0.0;
  for (var k = 0u; k < P.L; k++) { mean = mean + X[base + k]; }
  mean = mean / f32(P.L);
  var v = 0.0;
  for (var k = 0u; k < P.L; k++) {
    let d = X[base + k] - mean;
    v = v + d * d;
  }
  let inv = 1.0 / sqrt(v / f32(P.L) + P.eps);
  for (var k = 0u; k < P.L; k++) {
    var c = k;
    if (P.chan != 0u) { c = g % P.chan; }
    Y[base + k] = (X[base + k] - mean) * inv * Sc[c] + Bi[c];
  }
}

// LRN across channels of [outer, L = C, inner]: y = x / (bias + alpha/size · Σ x²)^beta over the
// channels [c − lo, c + hi] ∩ [0, C).
@compute @workgroup_size({{WG}})
fn lrn_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let j = i % P.inner;
  let c = (i / P.inner) % P.L;
  let base = (i / (P.inner * P.L)) * P.L * P.inner + j;
  let first = select(0u, c - P.lo, c >= P.lo);
  let last = min(P.L - 1u, c + P.hi);
  var sq = 0.0;
  for (var k = first; k <= last; k++) {
    let v = X[base + k * P.inner];
    sq = sq + v * v;
  }
  Y[i] = X[i] / pow(P.bias + P.alpha * sq, P.beta);
}
