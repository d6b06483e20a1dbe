// Plain f32 GEMM C = A[M,K] * B[K,N], register-blocked: each invocation owns TM rows x 4 columns (one
// vec4). The baseline every crossbar kernel's speed is measured against, and the --digital layers.
// B is one column block of P.N4 vec4 columns; C rows are P.c_stride vec4 wide and this dispatch's
// (row 0, first column) is C[P.c_shift], A's row 0 is A[P.a_shift]: matrices larger than one storage
// binding are multiplied in row windows and column blocks.
// Params and the bindings A, B, C are generated from src/kernels/gemm.ts.

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let row0 = gid.y * TM;
  if (col4 >= P.N4 || row0 >= P.M) { return; }
  var acc: array<vec4<f32>, TM>;
  var rows: array<u32, TM>;
  for (var m = 0u; m < TM; m++) { rows[m] = P.a_shift + min(row0 + m, P.M - 1u) * P.K; }
  for (var k = 0u; k < P.K; k++) {
    let b = B[k * P.N4 + col4];
    for (var m = 0u; m < TM; m++) {
      acc[m] = fma(vec4<f32>(A[rows[m] + k]), b, acc[m]);
    }
  }
  for (var m = 0u; m < TM; m++) {
    if (row0 + m < P.M) { C[P.c_shift + (row0 + m) * P.c_stride + col4] = acc[m]; }
  }
}
