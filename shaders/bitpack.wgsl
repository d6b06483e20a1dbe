// Input bit planes for the crossbar kernel's bit-plane variant (shaders/xbar-bitplane.wgsl): for every
// vector, pass (X⁺, X⁻) and 32-row word of a row block, P.inBits words holding bit `bit` of each row's
// quantized magnitude. Words start at each row block (a block's last word is zero-padded), so a row
// block's sums never mix rows of the next. Grid as in elementwise.wgsl.
// Params and the bindings xq, bits are generated from src/kernels/bitplane.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.count) { return; }
  let w = i % P.wordsTotal;
  let rp = i / P.wordsTotal;
  let ph = rp % 2u;
  let row = rp / 2u;
  let p = w / P.blockWords;
  let k0 = p * P.blockRows + (w % P.blockWords) * 32u;
  let k1 = min(min(k0 + 32u, (p + 1u) * P.blockRows), P.K);
  var words = array<u32, 32>();
  for (var k = k0; k < k1; k++) {
    let v = xq[row * P.K + k];
    let u = u32(select(max(v, 0), max(-v, 0), ph == 1u));
    for (var bit = 0u; bit < P.inBits; bit++) { words[bit] |= ((u >> bit) & 1u) << (k - k0); }
  }
  for (var bit = 0u; bit < P.inBits; bit++) { bits[((row * 2u + ph) * P.inBits + bit) * P.wordsTotal + w] = words[bit]; }
}
