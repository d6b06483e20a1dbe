// Plain f32 GEMM C[M,N] = A[M,K] * B[K,N], register-blocked: each invocation owns {{TM}} rows x 4
// columns (one vec4). The baseline every crossbar kernel's speed is measured against.
struct Params { M: u32, N4: u32, K: u32, pad: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let row0 = gid.y * {{TM}}u;
  if (col4 >= P.N4 || row0 >= P.M) { return; }
  var acc: array<vec4<f32>, {{TM}}>;
  var rows: array<u32, {{TM}}>;
  for (var m = 0u; m < {{TM}}u; m++) { rows[m] = min(row0 + m, P.M - 1u) * P.K; }
  for (var k = 0u; k < P.K; k++) {
    let b = B[k * P.N4 + col4];
    for (var m = 0u; m < {{TM}}u; m++) {
      acc[m] = fma(vec4<f32>(A[rows[m] + k]), b, acc[m]);
    }
  }
  for (var m = 0u; m < {{TM}}u; m++) {
    if (row0 + m < P.M) { C[(row0 + m) * P.N4 + col4] = acc[m]; }
  }
}
