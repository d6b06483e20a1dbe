// Kernels that move, pick or make elements (src/ir/ops-tensor.ts): Gather with constant indices, GatherElements, embedding lookup,
// Pad, Resize and ConvTranspose's col2im. One invocation per output element i = gid.y·stride + gid.x,
// split into coordinates of the output (P.iter: its row-major strides, batch first) where a kernel
// needs them. Params, the bindings X, Y, T, I and the constants are generated from src/kernels/tensor.ts.

fn at(t: array<vec4<u32>, 2>, d: u32) -> u32 { return t[d / 4u][d % 4u]; }
fn at_i(t: array<vec4<i32>, 2>, d: u32) -> i32 { return t[d / 4u][d % 4u]; }
fn geo(k: u32) -> u32 { return P.geo[k / 4u][k % 4u]; }

// The element an index value picks along an axis of `len` (negative ones from the end), or −1 for a
// value that is not an integer in [−len, len) (src/reference/tensor-ops.ts lookupRow).
fn pick(v: f32, len: u32) -> i32 {
  let n = f32(len);
  if (!(v >= -n && v < n && v == floor(v))) { return -1; }
  return i32(select(v, v + n, v < 0.0));
}

// Embedding lookup: Y[j, c] = T[row(X[j]), c] for table T [P.Lin rows, P.inner], X the f32 index values
// (P.J of them); a value that is not an integer in [−Lin, Lin) gives NaN (src/reference/tensor-ops.ts lookupRow).
@compute @workgroup_size({{WG}})
fn lookup_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let c = i % P.inner;
  let r = pick(X[i / P.inner], P.Lin);
  if (r < 0) {
    Y[i] = bitcast<f32>(0x7fc00000u | (P.n & 0u));
    return;
  }
  Y[i] = T[u32(r) * P.inner + c];
}

// GatherElements: output element i, at coordinates c of the indices' dims (P.iter: their strides,
// batch first, P.rank of them), reads X at c with axis P.J's coordinate the index T[i] (X's strides
// P.src, P.Lin long on that axis); an index that picks no element gives NaN, as lookup_main.
@compute @workgroup_size({{WG}})
fn take_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let p = pick(T[i], P.Lin);
  if (p < 0) {
    Y[i] = bitcast<f32>(0x7fc00000u | (P.n & 0u));
    return;
  }
  let r = u32(p);
  var rem = i;
  var off = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let s = at(P.iter, d);
    let c = rem / s;
    rem = rem % s;
    off += select(c, r, d == P.J) * at(P.src, d);
  }
  Y[i] = X[off];
}

// Gather along the middle of [outer, Lin, inner] with I's J indices: Y[o, j, k] = X[o, I[j], k].
@compute @workgroup_size({{WG}})
fn gather_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let k = i % P.inner;
  let j = (i / P.inner) % P.J;
  let o = i / (P.inner * P.J);
  Y[i] = X[(o * P.Lin + I[j]) * P.inner + k];
}

// Where output index s (already shifted by the begin pad) reads along an axis of length len, or −1
// for the constant value. MODE: 0 constant, 1 reflect (numpy: the edge is not repeated), 2 edge, 3 wrap.
fn pad_source(s: i32, len: i32) -> i32 {
  if (s >= 0 && s < len) { return s; }
  switch MODE {
    case 0u: { return -1; }
    case 1u: {
      if (len == 1) { return 0; }
      let p = 2 * (len - 1);
      let m = ((s % p) + p) % p;
      return select(p - m, m, m < len);
    }
    case 2u: { return clamp(s, 0, len - 1); }
    default: { return ((s % len) + len) % len; }
  }
}

// Pad: per axis d the source coordinate of c[d] − P.pads[d] in an axis of P.dims[d], read at P.src[d].
@compute @workgroup_size({{WG}})
fn pad_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  var rem = i;
  var src = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let q = rem / at(P.iter, d);
    rem = rem - q * at(P.iter, d);
    let s = pad_source(i32(q) - at_i(P.pads, d), i32(at(P.dims, d)));
    if (s < 0) {
      Y[i] = P.value;
      return;
    }
    src = src + u32(s) * at(P.src, d);
  }
  Y[i] = X[src];
}

// Resize: output coordinate c[d] reads P.taps[d] (input index, weight) pairs at
// T[2·(P.toff[d] + c[d]·P.taps[d] + t)], computed on the host from ONNX's coordinate transforms; an
// index below 0 means outside tf_crop_and_resize's crop (the output is P.value). The output is the
// sum over every combination of one tap per axis of the weights' product times the input there.
@compute @workgroup_size({{WG}})
fn resize_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  var rem = i;
  var first: array<u32, 8>;
  var combos = 1u;
  for (var d = 0u; d < P.rank; d++) {
    let q = rem / at(P.iter, d);
    rem = rem - q * at(P.iter, d);
    first[d] = at(P.toff, d) + q * at(P.taps, d);
    if (T[2u * first[d]] < 0.0) {
      Y[i] = P.value;
      return;
    }
    combos = combos * at(P.taps, d);
  }
  var acc = 0.0;
  for (var k = 0u; k < combos; k++) {
    var r = k;
    var w = 1.0;
    var src = 0u;
    for (var d = P.rank; d > 0u; d--) {
      let t = r % at(P.taps, d - 1u);
      r = r / at(P.taps, d - 1u);
      let e = 2u * (first[d - 1u] + t);
      w = w * T[e + 1u];
      src = src + u32(T[e]) * at(P.src, d - 1u);
    }
    if (w != 0.0) { acc = acc + w * X[src]; }
  }
  Y[i] = acc;
}

// col2im: Y[b, c, oh, ow] = T[c] + Σ over kernel taps (ki, kj) that land there of
// X[b, h·W + w, (c·kh + ki)·kw + kj], oh = h·sh − ph + ki·dh (and likewise ow). P.geo holds
// C, OH, OW, H, W, kh, kw, sh, sw, ph, pw, dh, dw.
@compute @workgroup_size({{WG}})
fn col2im_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let C = geo(0u); let OH = geo(1u); let OW = geo(2u);
  let H = geo(3u); let W = geo(4u); let kh = geo(5u); let kw = geo(6u);
  let sh = geo(7u); let sw = geo(8u); let ph = geo(9u); let pw = geo(10u);
  let dh = geo(11u); let dw = geo(12u);
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let c = (i / (OW * OH)) % C;
  let b = i / (OW * OH * C);
  let cols = C * kh * kw;
  var acc = 0.0;
  for (var ki = 0u; ki < kh; ki++) {
    let th = i32(oh + ph) - i32(ki * dh);
    if (th < 0 || th % i32(sh) != 0) { continue; }
    let h = u32(th) / sh;
    if (h >= H) { continue; }
    for (var kj = 0u; kj < kw; kj++) {
      let tw = i32(ow + pw) - i32(kj * dw);
      if (tw < 0 || tw % i32(sw) != 0) { continue; }
      let w = u32(tw) / sw;
      if (w >= W) { continue; }
      acc = acc + X[((b * H + h) * W + w) * cols + (c * kh + ki) * kw + kj];
    }
  }
  Y[i] = acc + T[c];
}
