// The launch of the crossbar kernel's variants without barriers (CPU drivers such as lavapipe and
// SwiftShader, which vectorize across invocations and pay dearly for barriers): the register-only
// variant (shaders/xbar-registers.wgsl) and the bit-plane one (shaders/xbar-bitplane.wgsl). One k-tile
// spans the whole row block, nothing is staged, and an invocation past the edges leaves at once.
// The body is shaders/xbar.wgsl; the variant's own file adds levelsAt and exactDots.

fn passCount(anyNeg: bool, inRange: bool, li: u32) -> u32 {
  return select(1u, 2u, anyNeg);
}

fn tileDepth(k0: u32, k1: u32) -> u32 {
  return k1 - k0;
}

fn stageTile(kt: u32, k1: u32, t: u32, ph: u32, wgRow: u32, li: u32) {}

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  if (gid.x >= P.N4 || gid.y * TM >= P.rows) { return; }
  vmm(gid, lid, li, wid);
}
