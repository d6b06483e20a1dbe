/**
 * The leading uniforms of every kernel that walks a chip's cells (program.ts's programming and
 * device.ts's device models): the cell layout and the noise counter's key, in one order for both shaders.
 */
export const CELL_UNIFORMS = {
  cells: 'u32',
  stride: 'u32',
  K: 'u32',
  N: 'u32',
  ncols: 'u32',
  n4: 'u32',
  j0: 'u32',
  S: 'u32',
  pol: 'u32',
  cellBits: 'u32',
  seed: 'u32',
  chip: 'u32',
  layer: 'u32',
} as const;
