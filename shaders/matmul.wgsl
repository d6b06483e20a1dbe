// Batched matrix product of two activations (ONNX MatMul with broadcast batch dims): one invocation
// per output element (l, m, n) of [lead, M, N]; lead index l splits into coordinates (P.iter, its
// row-major strides) that address each operand's matrix by its element strides (P.sa, P.sb; 0 along
// broadcast dims). f32 accumulation with fma. Grid as in elementwise.wgsl.
// Params and the bindings A, Bm, C are generated from src/kernels/matmul.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let n = i % P.N;
  let m = (i / P.N) % P.M;
  var rem = i / (P.N * P.M);
  var ao = 0u;
  var bo = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let st = P.iter[d / 4u][d % 4u];
    let q = rem / st;
    rem = rem - q * st;
    ao = ao + q * P.sa[d / 4u][d % 4u];
    bo = bo + q * P.sb[d / 4u][d % 4u];
  }
  ao = ao + m * P.K;
  bo = bo + n;
  var acc = 0.0;
  for (var k = 0u; k < P.K; k++) { acc = fma(A[ao + k], Bm[bo + k * P.N], acc); }
  C[i] = acc;
}
