// Input quantization of DESIGN.md section 3 for the crossbar kernel: xq = sign(x)·clamp(round(|x|/sx), 0, Qx),
// once per layer run (not once per output column), and the per-vector flag "needs the X⁻ pass",
// counting flagged vectors for the event counts. Element i of this run is x[P.x_shift + i] of the
// input's binding (a window of a larger buffer). Grid as in elementwise.wgsl.
// DECODE also writes each pass's magnitudes as f32 integers, mags [rows, 2, K] (the crossbar kernel's
// exact general variant then multiplies them as loaded, src/kernels/xbar-kernel.ts exactDecoded).
// Params, the bindings x, xq, negFlags, negCount, mags and DECODE are generated from src/kernels/quantize.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.count) { return; }
  let v = x[P.x_shift + i];
  let q = i32(clamp(round(abs(v) * P.invSx), 0.0, P.Qx));
  if (v < 0.0 && q > 0) {
    xq[i] = -q;
    // First negative entry of its vector: flag it and count the vector once.
    if (atomicOr(&negFlags[i / P.K], 1u) == 0u) { atomicAdd(&negCount[0], 1u); }
  } else {
    xq[i] = q;
  }
  if (DECODE) {
    let k = i % P.K;
    let o = (i - k) * 2u + k;
    let m = f32(q);
    mags[o] = select(m, 0.0, v < 0.0);
    mags[o + P.K] = select(0.0, m, v < 0.0);
  }
}
