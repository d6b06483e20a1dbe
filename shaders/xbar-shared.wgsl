// The crossbar kernel's shared-memory variant (real GPUs): the input levels of KT rows of every vector
// of the workgroup are decoded once per workgroup into shared memory instead of once per invocation.
// Every invocation, edge ones included, reaches every barrier: the pass count and all loop bounds
// around barriers are workgroup-uniform. The body is shaders/xbar.wgsl.

const TILE_SQ: u32 = select(1u, KT * ROWS_WG, READ == 2u);
var<workgroup> tileLv: array<f32, KT * ROWS_WG>;
var<workgroup> tileSq: array<f32, TILE_SQ>;
var<workgroup> wgNegA: atomic<u32>;
var<workgroup> wgNeg: u32;

// The X⁻ pass runs for the whole workgroup if any of its vectors needs it (barriers stay uniform).
fn passCount(anyNeg: bool, inRange: bool, li: u32) -> u32 {
  if (anyNeg && inRange) { atomicOr(&wgNegA, 1u); }
  workgroupBarrier();
  if (li == 0u) { wgNeg = atomicLoad(&wgNegA); }
  return select(1u, 2u, workgroupUniformLoad(&wgNeg) != 0u);
}

fn tileDepth(k0: u32, k1: u32) -> u32 {
  return KT;
}

// Rows [kt, kt + KT) of the row block ending at k1, at cycle t of pass ph, for the workgroup's vectors.
fn stageTile(kt: u32, k1: u32, t: u32, ph: u32, wgRow: u32, li: u32) {
  workgroupBarrier();
  // A loop bound that depends on the invocation would make the barrier below non-uniform.
  for (var j = 0u; j < (KT * ROWS_WG + WG_SIZE - 1u) / WG_SIZE; j++) {
    let i = li + j * WG_SIZE;
    if (i < KT * ROWS_WG) {
      let kk = i % KT;
      let row = min(wgRow * ROWS_WG + i / KT, P.rows - 1u);
      var v = 0.0;
      var v2 = 0.0;
      if (kt + kk < k1) {
        let u = magnitude(xq[(P.rowStart + row) * P.K + kt + kk], ph);
        v = level(u, t);
        if (READ == 2u) { v2 = levelSq(u, t); }
      }
      tileLv[i] = v;
      if (READ == 2u) { tileSq[i] = v2; }
    }
  }
  workgroupBarrier();
}

fn levelsAt(xIndex: u32, tileIndex: u32, t: u32, ph: u32) -> vec2<f32> {
  var sq = 0.0;
  if (READ == 2u) { sq = tileSq[tileIndex]; }
  return vec2<f32>(tileLv[tileIndex], sq);
}

// EXACT reads its integer inputs straight from xq (no staging, so no barriers inside the row loop).
fn exactDots(rows: array<u32, TM>, su: array<u32, TM>, ph: u32, p: u32, k0: u32, k1: u32, cb: vec2<u32>, plane: u32, colc: u32) -> array<vec4<i32>, TM> {
  return exactDotsLoop(rows, ph, k0, k1, cb, plane, colc);
}

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  vmm(gid, lid, li, wid);
}
