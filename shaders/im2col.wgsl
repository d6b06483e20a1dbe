// im2col for one convolution group (DESIGN.md section 6): cols[row, col] with rows (b, oh, ow) and
// columns (ci, ki, kj) over the group's input channels, zero outside the input. One invocation per
// element of cols (grid as in elementwise.wgsl); P.b0 offsets the batch so a batch can be cut into
// chunks that fit the binding limit.
struct Params {
  n: u32, stride: u32, kc: u32, plane: u32,
  OW: u32, H: u32, W: u32, cin: u32,
  chan0: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, dh: u32, dw: u32, b0: u32,
  pt: i32, pl: i32, p0: u32, p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let col = i % P.kc;
  let row = i / P.kc;
  let b = P.b0 + row / P.plane;
  let p = row % P.plane;
  let oh = p / P.OW;
  let ow = p % P.OW;
  let kj = col % P.kw;
  let t = col / P.kw;
  let ki = t % P.kh;
  let ci = t / P.kh;
  let ih = i32(oh * P.sh + ki * P.dh) - P.pt;
  let iw = i32(ow * P.sw + kj * P.dw) - P.pl;
  var v = 0.0;
  if (ih >= 0 && ih < i32(P.H) && iw >= 0 && iw < i32(P.W)) {
    v = X[((b * P.cin + P.chan0 + ci) * P.H + u32(ih)) * P.W + u32(iw)];
  }
  Y[i] = v;
}
