// Input side of additive read noise (DESIGN.md section 4): for each vector, row block and cycle,
// Σ_k V_t[k]² (bit-serial) or Σ_k Σ_t 4^(t·b)·V_t[k]² (analog accumulation over cycles), per pass.
// Computed once per vector here instead of once per output column in the crossbar kernel.
// Params and the bindings xq, stats ([rows, 2 passes, nBlocks, TK]) are generated from
// src/kernels/quantize.ts; P.TK is the cycles kept separate: Tfull (digital-sa) or 1 (collapsed).

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.rows * 2u * P.nBlocks) { return; }
  let p = i % P.nBlocks;
  let ph = (i / P.nBlocks) % 2u;
  let row = i / (2u * P.nBlocks);
  let k0 = p * P.blockRows;
  let k1 = min(P.K, k0 + P.blockRows);
  let mask = (1u << P.dacBits) - 1u;
  for (var t = 0u; t < P.TK; t++) {
    var s = 0.0;
    for (var k = k0; k < k1; k++) {
      let v = xq[row * P.K + k];
      let u = u32(select(max(v, 0), max(-v, 0), ph == 1u));
      if (P.TK == 1u) {
        for (var c = 0u; c < P.Tfull; c++) {
          let d = f32((u >> (c * P.dacBits)) & mask) * P.invVm;
          let w = f32(1u << (c * P.dacBits));
          s += w * w * d * d;
        }
      } else {
        let d = f32((u >> (t * P.dacBits)) & mask) * P.invVm;
        s += d * d;
      }
    }
    stats[i * P.TK + t] = s;
  }
}
