// Numerically stable softmax (or, with LOG, log-softmax) along one axis: the tensor is viewed as [outer, L, inner] and each
// invocation owns one line (o, j), reading X[o·L·inner + k·inner + j] for k < L, so neighbouring
// invocations touch neighbouring addresses when inner > 1. Grid as in elementwise.wgsl.
// Params and the bindings X, Y are generated from src/kernels/softmax.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * P.stride + gid.x;
  if (t >= P.lines) { return; }
  let j = t % P.inner;
  let o = t / P.inner;
  let base = o * P.L * P.inner + j;
  var m = X[base];
  for (var k = 1u; k < P.L; k++) { m = max(m, X[base + k * P.inner]); }
  var sum = 0.0;
  for (var k = 0u; k < P.L; k++) { sum = sum + exp(X[base + k * P.inner] - m); }
  // LOG: log-softmax, x − m − log Σ exp(x − m), which stays finite where softmax underflows.
  let lse = log(sum);
  for (var k = 0u; k < P.L; k++) {
    let idx = base + k * P.inner;
    if (LOG) { Y[idx] = X[idx] - m - lse; } else { Y[idx] = exp(X[idx] - m) / sum; }
  }
}
