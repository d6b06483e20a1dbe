// The crossbar kernel's register-only variant (CPU drivers such as lavapipe and SwiftShader, which
// vectorize across invocations and pay dearly for barriers): every invocation decodes its own input
// levels straight from xq, one k-tile spans the whole row block, and with no barriers an invocation
// past the edges leaves at once. The body is shaders/xbar.wgsl.

fn passCount(anyNeg: bool, inRange: bool, li: u32) -> u32 {
  return select(1u, 2u, anyNeg);
}

fn tileDepth(k0: u32, k1: u32) -> u32 {
  return k1 - k0;
}

fn stageTile(kt: u32, k1: u32, t: u32, ph: u32, wgRow: u32, li: u32) {}

fn levelsAt(xIndex: u32, tileIndex: u32, t: u32, ph: u32) -> vec2<f32> {
  let u = magnitude(xq[xIndex], ph);
  var sq = 0.0;
  if (READ == 2u) { sq = levelSq(u, t); }
  return vec2<f32>(level(u, t), sq);
}

fn exactInput(row: u32, ph: u32, p: u32, k0: u32, k1: u32, cb: vec2<u32>) -> u32 {
  return exactInputLoop(row, ph, k0, k1, cb);
}

fn exactDots(rows: array<u32, TM>, su: array<u32, TM>, ph: u32, p: u32, k0: u32, k1: u32, cb: vec2<u32>, plane: u32, colc: u32) -> array<vec4<i32>, TM> {
  return exactDotsLoop(rows, ph, k0, k1, cb, plane, colc);
}

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  if (gid.x >= P.N4 || gid.y * TM >= P.rows) { return; }
  vmm(gid, lid, li, wid);
}
