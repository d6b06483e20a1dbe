import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';

/**
 * One sub-array of a physical array (DESIGN.md section 13, `array.partitions`): a rectangle of the row
 * block's rows and of the block's packed columns, with its own row drivers (at its first column) and
 * its own sense terminals (after its last row). Only used rows and columns are modelled: a short last
 * row block or a partly filled last array has no idle wire segments (as CrossSim's input-source solvers).
 */
export interface SubArray {
  /** First row within the row block, and how many. */
  row0: number;
  rows: number;
  /** First packed column within the row block (index (j·S + s)·pol + p), and how many. */
  col0: number;
  cols: number;
  /** Which physical array of the block it belongs to. */
  array: number;
}

/** Rows of each horizontal and columns of each vertical partition: ceil(array size / partitions). */
export function partitionSizes(cfg: XbarConfig): { rows: number; cols: number } {
  return {
    rows: Math.ceil(cfg.array.rows / cfg.array.partitions.rows),
    cols: Math.ceil(cfg.array.cols / cfg.array.partitions.cols),
  };
}

/**
 * The sub-arrays of a row block with `Rp` rows and `columns` packed columns (N·S·pol), arrays in
 * order, each array's sub-arrays row-partition-major. Columns are packed flat into arrays of
 * array.cols (DESIGN.md section 3); each array is then cut into partitions.
 */
export function blockSubArrays(cfg: XbarConfig, Rp: number, columns: number): SubArray[] {
  const size = partitionSizes(cfg);
  const out: SubArray[] = [];
  const nArrays = Math.ceil(columns / cfg.array.cols);
  for (let a = 0; a < nArrays; a++) {
    const aCol0 = a * cfg.array.cols;
    const aCols = Math.min(cfg.array.cols, columns - aCol0);
    for (let r0 = 0; r0 < Rp; r0 += size.rows) {
      for (let c0 = 0; c0 < aCols; c0 += size.cols) {
        out.push({ row0: r0, rows: Math.min(size.rows, Rp - r0), col0: aCol0 + c0, cols: Math.min(size.cols, aCols - c0), array: a });
      }
    }
  }
  return out;
}

/** Packed column index (j·S + s)·pol + p of cell plane (s, p) and output j (DESIGN.md section 3's packing order). */
export function packedColumn(g: LayerGeometry, s: number, p: number, j: number): number {
  return (j * g.S + s) * g.pol + p;
}

/** For each packed column of a row block, the index (s·pol + p)·N + j of its current in ProgrammedLayer row order. */
export function packedToPlane(g: LayerGeometry): Int32Array {
  const map = new Int32Array(g.N * g.S * g.pol);
  for (let j = 0; j < g.N; j++) for (let s = 0; s < g.S; s++) for (let p = 0; p < g.pol; p++) map[packedColumn(g, s, p, j)] = (s * g.pol + p) * g.N + j;
  return map;
}
