// Strided copy: the data movement of the digital path (transpose, concat, unpadding a GEMM result,
// scattering im2col-ordered columns back to NCHW). Invocation i is split into coordinates of an
// iteration shape (row-major strides in P.iter); the source, destination and (copy_bias_main) bias
// are each addressed through their own stride table plus an offset. Grid as in elementwise.wgsl.
// Params and the bindings X, Y, Bias are generated from src/kernels/layout.ts.

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

@compute @workgroup_size({{WG}})
fn copy_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let a = addresses(i);
  Y[a.y] = X[a.x];
}

@compute @workgroup_size({{WG}})
fn copy_bias_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let a = addresses(i);
  Y[a.y] = X[a.x] + Bias[a.z];
}
