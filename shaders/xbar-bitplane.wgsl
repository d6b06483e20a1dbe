// The crossbar kernel's bit-plane variant (EXACT only: conductances at exact levels, src/kernels/bitplane.ts).
// Every integer sum of the general variants is formed 32 rows at a time with AND + countOneBits:
//   xq holds packed input bits [rows, 2 passes, P.inBits, P.wordsTotal] (shaders/bitpack.wgsl): bit r of
//      word p·P.blockWords + w is bit `bit` of row k = p·blockRows + 32·w + r of the pass's magnitudes;
//   R holds packed digit planes [P.wordsTotal, NPL, WBITS, N4] (vec4 of u32): bit r of bit plane j is
//      bit j of e + P.eOff (offset so that signed differences are non-negative) at the same row.
// Σ u·e = Σ_i Σ_j 2^(i+j)·popcount(x_i & w_j) − eOff·Σ u, with u32 sums that wrap as the general
// variants' i32 sums do; Σ u comes from the row statistics as in every variant. The body is
// shaders/xbar.wgsl, the launch shaders/xbar-unstaged.wgsl (no barriers).

// Only the float path reads levels, and this variant always runs EXACT.
fn levelsAt(xIndex: u32, tileIndex: u32, t: u32, ph: u32) -> vec2<f32> {
  return vec2<f32>(0.0);
}

fn inputWord(row: u32, ph: u32, bit: u32, w: u32) -> u32 {
  return bitcast<u32>(xq[((row * 2u + ph) * P.inBits + bit) * P.wordsTotal + w]);
}

fn exactDots(rows: array<u32, TM>, su: array<u32, TM>, ph: u32, p: u32, k0: u32, k1: u32, cb: vec2<u32>, plane: u32, colc: u32) -> array<vec4<i32>, TM> {
  var acc = array<vec4<u32>, TM>();
  for (var wi = 0u; wi < P.blockWords; wi++) {
    let w = p * P.blockWords + wi;
    for (var i = 0u; i < cb.y; i++) {
      var xv = array<u32, TM>();
      var any = 0u;
      for (var m = 0u; m < TM; m++) {
        xv[m] = inputWord(rows[m], ph, cb.x + i, w);
        any |= xv[m];
      }
      // Zero input bits (sparse activations, high bits of small values) cost one load.
      if (any == 0u) { continue; }
      let wb = ((w * NPL + plane) * WBITS) * P.N4 + colc;
      for (var j = 0u; j < WBITS; j++) {
        let wv = bitcast<vec4<u32>>(R[wb + j * P.N4]);
        for (var m = 0u; m < TM; m++) { acc[m] += countOneBits(vec4<u32>(xv[m]) & wv) << vec4<u32>(i + j); }
      }
    }
  }
  var d = array<vec4<i32>, TM>();
  for (var m = 0u; m < TM; m++) { d[m] = bitcast<vec4<i32>>(acc[m] - vec4<u32>(P.eOff * su[m])); }
  return d;
}
