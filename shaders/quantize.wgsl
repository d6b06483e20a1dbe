// Input quantization of DESIGN.md section 3 for the crossbar kernel: xq = sign(x)·clamp(round(|x|/sx), 0, Qx),
// once per layer run (not once per output column), and the per-vector flag "needs the X⁻ pass",
// counting flagged vectors for the event counts.
struct Params {
  count: u32,     // rows · K elements
  K: u32,
  rowStart: u32,  // first row read from the input buffer
  pad0: u32,
  invSx: f32,
  Qx: f32,
  pad1: f32,
  pad2: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xq: array<i32>;
@group(0) @binding(3) var<storage, read_write> negFlags: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> negCount: array<atomic<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * {{ROWSTRIDE}}u;
  if (i >= P.count) { return; }
  let v = x[P.rowStart * P.K + i];
  let q = i32(clamp(round(abs(v) * P.invSx), 0.0, P.Qx));
  if (v < 0.0 && q > 0) {
    xq[i] = -q;
    // First negative entry of its vector: flag it and count the vector once.
    if (atomicOr(&negFlags[i / P.K], 1u) == 0u) { atomicAdd(&negCount[0], 1u); }
  } else {
    xq[i] = q;
  }
}
