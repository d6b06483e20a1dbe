// Per-vector input statistics of the crossbar kernel, once per vector, pass and row block here instead
// of once per output column there (each invocation of the crossbar kernel owns only 4 columns):
// - P.TK > 0 (additive read noise, DESIGN.md section 4): per cycle, Σ_k V_t[k]² (bit-serial) or
//   Σ_k Σ_t 4^(t·b)·V_t[k]² (analog accumulation over cycles), stored as f32 bits at i·TK + t;
// - P.SC > 0 (exact levels, src/kernels/bitplane.ts): per cycle c < SC the integer Σ_k of that cycle's
//   input bits (u >> c·bitStep) & (2^bitCount − 1), then Σ_k u, at P.sumBase + i·(SC + 1) + c. Integer
//   sums do not depend on the order, so every variant reads the same ones.
// i = (row · 2 + pass) · nBlocks + block. Params and the bindings xq, stats are generated from
// src/kernels/quantize.ts.

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
    stats[i * P.TK + t] = bitcast<u32>(s);
  }
  if (P.SC == 0u) { return; }
  let bmask = select((1u << P.bitCount) - 1u, 0xffffffffu, P.bitCount >= 32u);
  for (var c = 0u; c <= P.SC; c++) {
    var s = 0u;
    for (var k = k0; k < k1; k++) {
      let v = xq[row * P.K + k];
      let u = u32(select(max(v, 0), max(-v, 0), ph == 1u));
      s += select((u >> (c * P.bitStep)) & bmask, u, c == P.SC);
    }
    stats[P.sumBase + i * (P.SC + 1u) + c] = s;
  }
}
