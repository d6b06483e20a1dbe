// Strided copy: the data movement of the digital path (transpose, concat, unpadding a GEMM result,
// scattering im2col-ordered columns back to NCHW). Invocation i is split into coordinates of an
// iteration shape (row-major strides in P.iter); the source, destination and (copy_bias_main) bias
// are each addressed through their own stride table plus an offset. Grid as in elementwise.wgsl.
// Params, the bindings X, Y, Bias and the constants WG, RUN are generated from src/kernels/layout.ts.

// (source index, destination index, bias index) of element i.
fn addresses(i: u32) -> vec3<u32> {
  var rem = i;
  var a = vec3<u32>(P.src_off, P.dst_off, P.bias_off);
  for (var d = 0u; d < P.rank; d++) {
    let st = P.iter[d / 4u][d % 4u];
    let q = rem / st;
    rem = rem - q * st;
    a = a + q * vec3<u32>(P.src[d / 4u][d % 4u], P.dst[d / 4u][d % 4u], P.bias[d / 4u][d % 4u]);
  }
  return a;
}

// Invocation i copies a run of up to RUN consecutive elements of the innermost iteration dim (P.inner
// elements, P.runs runs a row): the coordinates are divided out once per run, not per element, as
// CPU drivers have no vector integer division. P.n counts runs; P.last holds the innermost dim's
// (source, destination, bias) strides.
fn runStart(i: u32) -> vec2<u32> {
  let e0 = (i % P.runs) * RUN;
  return vec2<u32>((i / P.runs) * P.inner + e0, min(RUN, P.inner - e0));
}

@compute @workgroup_size({{WG}})
fn copy_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let r = runStart(i);
  var a = addresses(r.x);
  for (var e = 0u; e < r.y; e++) {
    Y[a.y] = X[a.x];
    a += P.last[0].xyz;
  }
}

@compute @workgroup_size({{WG}})
fn copy_bias_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let r = runStart(i);
  var a = addresses(r.x);
  for (var e = 0u; e < r.y; e++) {
    Y[a.y] = X[a.x] + Bias[a.z];
    a += P.last[0].xyz;
  }
}
