// Cell addressing shared by the programming and device-model kernels: both walk a chip's cells as
// [K*S, pol, ncols] blocks of one column range and need the same counter element per cell, so the
// noise a cell gets never depends on which kernel drew it. P is the kernel's uniform block, whose
// cell-layout fields come from src/kernels/cell-uniforms.ts.

fn cellIndex(gid: vec3<u32>) -> u32 {
  return gid.y * P.stride + gid.x;
}

/** The counter element of cell i of this dispatch (DESIGN.md section 4). */
fn cellElement(i: u32) -> u32 {
  let jl = i % P.ncols;
  let sq = i / P.ncols;
  let ks = sq / P.pol;
  return staticElement(ks / P.S, ks % P.S, sq % P.pol, P.j0 + jl, P.S, P.pol, P.N);
}
