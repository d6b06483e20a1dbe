// The crossbar kernel's register-only variant (CPU drivers): every invocation decodes its own input
// levels straight from xq. The body is shaders/xbar.wgsl, the launch shaders/xbar-unstaged.wgsl.

fn levelsAt(xIndex: u32, tileIndex: u32, t: u32, ph: u32) -> vec2<f32> {
  let u = magnitude(xq[xIndex], ph);
  var sq = 0.0;
  if (READ == 2u) { sq = levelSq(u, t); }
  return vec2<f32>(level(u, t), sq);
}

fn exactDots(rows: array<u32, TM>, su: array<u32, TM>, ph: u32, p: u32, k0: u32, k1: u32, cb: vec2<u32>, plane: u32, colc: u32) -> array<vec4<i32>, TM> {
  return exactDotsLoop(rows, ph, k0, k1, cb, plane, colc);
}
