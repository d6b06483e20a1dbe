import type { XbarConfig } from '../config/types.ts';
import { approxColumnCurrent } from '../circuits/approx.ts';
import { blockSubArrays, packedToPlane, type SubArray } from '../circuits/layout.ts';
import { normalizedWires, type WireParams } from '../circuits/params.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import { RuntimeFailure } from '../errors.ts';
import { notConvergedMessage, recordSolve, type SolveResult, type SolveStats } from '../circuits/stats.ts';

export { newSolveStats, processSolveStats, type SolveResult, type SolveStats } from '../circuits/stats.ts';

/**
 * The resistive network of one array (DESIGN.md section 13), factored once for its cells and wires and
 * then solved for any row voltages. Cells G [rows, cols] are row-major; resistances are in the units of
 * G (params.ts). Topology: row r is driven at its column-0 end through rTerminal then one rRow segment
 * before each cell; column c is held at virtual ground at its row-(rows−1) end through one rCol segment
 * after each cell then rTerminal; cells join row node (r, c) to column node (r, c).
 *
 * Method: block Gauss–Seidel over the two wire families. Given the column-node voltages, each row is a
 * tridiagonal system (its wire, its cells to known voltages), solved exactly (Thomas, factored once per
 * array); then each column likewise given the rows. The nodal matrix is symmetric positive definite, so
 * this converges for any resistances. A wire of zero resistance is one node (or, with a zero terminal
 * too, the source or ground itself). The iteration stops when the largest change ΔI of a column
 * current in a sweep, times max(ρ/(1−ρ), 1) with ρ the ratio of successive largest node changes (the
 * geometric tail bound on the remaining error), is at most tolerance × the largest column current;
 * with either wire family ideal one sweep is exact.
 */
export class ArraySolver {
  private readonly G: Float64Array;
  private readonly rowsFixed: boolean;
  private readonly colsGround: boolean;
  /** Thomas factors of every row and column: inverse pivots and super-diagonal ratios, [rows, cols]. */
  private readonly rowInv: Float64Array;
  private readonly rowCp: Float64Array;
  private readonly colInv: Float64Array;
  private readonly colCp: Float64Array;
  /** Collapsed wires (zero segment resistance, terminal > 0): 1 / (1/rTerminal + Σ G) per row or column. */
  private readonly rowDen: Float64Array;
  private readonly colDen: Float64Array;
  private readonly u: Float64Array;
  private readonly w: Float64Array;
  private readonly dp: Float64Array;

  constructor(
    G: ArrayLike<number>,
    g0: number,
    gStride: number,
    readonly rows: number,
    readonly cols: number,
    private readonly p: WireParams,
  ) {
    const n = rows * cols;
    this.G = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) this.G[r * cols + c] = G[g0 + r * gStride + c];
    this.rowsFixed = p.rRow === 0 && p.rTerminal === 0;
    this.colsGround = p.rCol === 0 && p.rTerminal === 0;
    const rowChain = p.rRow > 0;
    const colChain = p.rCol > 0;
    this.rowInv = new Float64Array(rowChain ? n : 0);
    this.rowCp = new Float64Array(rowChain ? n : 0);
    this.colInv = new Float64Array(colChain ? n : 0);
    this.colCp = new Float64Array(colChain ? n : 0);
    this.rowDen = new Float64Array(!rowChain && !this.rowsFixed ? rows : 0);
    this.colDen = new Float64Array(!colChain && !this.colsGround ? cols : 0);
    this.u = new Float64Array(n);
    this.w = new Float64Array(n);
    this.dp = new Float64Array(Math.max(rows, cols));
    const g = this.G;
    // Thomas pivots as m_i = (coupling to the next node) + h_i, with h_i the node's own conductance plus
    // the previous nodes' equivalent g·h/(g + h): the textbook recursion m_i = diag − g²/m_(i−1)
    // subtracts nearly equal numbers when the wires conduct far better than the cells (f32 loses 1e-3).
    if (rowChain) {
      const gs = 1 / (p.rTerminal + p.rRow);
      const gr = 1 / p.rRow;
      for (let r = 0; r < rows; r++) {
        let h = 0;
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          h = g[i] + (c === 0 ? gs : (gr * h) / (gr + h));
          const next = c === cols - 1 ? 0 : gr;
          const m = next + h;
          this.rowInv[i] = 1 / m;
          this.rowCp[i] = -next / m;
        }
      }
    } else if (!this.rowsFixed) {
      for (let r = 0; r < rows; r++) {
        let d = 1 / p.rTerminal;
        for (let c = 0; c < cols; c++) d += g[r * cols + c];
        this.rowDen[r] = 1 / d;
      }
    }
    if (colChain) {
      const gend = 1 / (p.rCol + p.rTerminal);
      const gc = 1 / p.rCol;
      for (let c = 0; c < cols; c++) {
        let h = 0;
        for (let r = 0; r < rows; r++) {
          const i = r * cols + c;
          h = g[i] + (r === 0 ? 0 : (gc * h) / (gc + h));
          const last = r === rows - 1;
          const m = (last ? gend : gc) + h;
          this.colInv[i] = 1 / m;
          this.colCp[i] = last ? 0 : -gc / m;
        }
      }
    } else if (!this.colsGround) {
      for (let c = 0; c < cols; c++) {
        let d = 1 / p.rTerminal;
        for (let r = 0; r < rows; r++) d += g[r * cols + c];
        this.colDen[c] = 1 / d;
      }
    }
  }

  /** Column currents for row voltages V[v0 .. v0 + rows) into out[o0 .. o0 + cols). */
  solve(V: ArrayLike<number>, v0: number, out: Float64Array, o0: number): SolveResult {
    const { rows, cols, p, G: g, u, w, dp } = this;
    let vMax = 0;
    for (let r = 0; r < rows; r++) vMax = Math.max(vMax, Math.abs(V[v0 + r]));
    if (vMax === 0) {
      out.fill(0, o0, o0 + cols);
      return { iterations: 0, converged: true, error: 0 };
    }
    for (let r = 0; r < rows; r++) u.fill(V[v0 + r], r * cols, (r + 1) * cols);
    w.fill(0);
    const gs = p.rRow > 0 ? 1 / (p.rTerminal + p.rRow) : 1 / p.rTerminal;
    const gr = 1 / p.rRow;
    const gc = 1 / p.rCol;
    const gend = p.rCol > 0 ? 1 / (p.rCol + p.rTerminal) : 1 / p.rTerminal;
    let prev = Infinity;
    let error = Infinity;
    for (let it = 1; it <= p.maxIterations; it++) {
      let delta = 0;
      let dI = 0;
      let maxI = 0;
      if (!this.rowsFixed) {
        for (let r = 0; r < rows; r++) {
          const base = r * cols;
          const vr = V[v0 + r];
          if (p.rRow === 0) {
            let num = gs * vr;
            for (let c = 0; c < cols; c++) num += g[base + c] * w[base + c];
            const x = num * this.rowDen[r];
            for (let c = 0; c < cols; c++) {
              delta = Math.max(delta, Math.abs(x - u[base + c]));
              u[base + c] = x;
            }
            continue;
          }
          const inv = this.rowInv;
          const cpv = this.rowCp;
          let d = (g[base] * w[base] + gs * vr) * inv[base];
          dp[0] = d;
          for (let c = 1; c < cols; c++) {
            d = (g[base + c] * w[base + c] + gr * d) * inv[base + c];
            dp[c] = d;
          }
          let x = d;
          delta = Math.max(delta, Math.abs(x - u[base + cols - 1]));
          u[base + cols - 1] = x;
          for (let c = cols - 2; c >= 0; c--) {
            x = dp[c] - cpv[base + c] * x;
            delta = Math.max(delta, Math.abs(x - u[base + c]));
            u[base + c] = x;
          }
        }
      }
      for (let c = 0; c < cols; c++) {
        if (this.colsGround) {
          let I = 0;
          for (let r = 0; r < rows; r++) I += g[r * cols + c] * u[r * cols + c];
          out[o0 + c] = I;
          continue;
        }
        if (p.rCol === 0) {
          let num = 0;
          for (let r = 0; r < rows; r++) num += g[r * cols + c] * u[r * cols + c];
          const x = num * this.colDen[c];
          for (let r = 0; r < rows; r++) {
            delta = Math.max(delta, Math.abs(x - w[r * cols + c]));
            w[r * cols + c] = x;
          }
          const I = x * gend;
          dI = Math.max(dI, Math.abs(I - out[o0 + c]));
          maxI = Math.max(maxI, Math.abs(I));
          out[o0 + c] = I;
          continue;
        }
        const inv = this.colInv;
        const cpv = this.colCp;
        let d = g[c] * u[c] * inv[c];
        dp[0] = d;
        for (let r = 1; r < rows; r++) {
          const i = r * cols + c;
          d = (g[i] * u[i] + gc * d) * inv[i];
          dp[r] = d;
        }
        let x = d;
        const last = (rows - 1) * cols + c;
        delta = Math.max(delta, Math.abs(x - w[last]));
        w[last] = x;
        const I = x * gend;
        dI = Math.max(dI, Math.abs(I - out[o0 + c]));
        maxI = Math.max(maxI, Math.abs(I));
        out[o0 + c] = I;
        for (let r = rows - 2; r >= 0; r--) {
          const i = r * cols + c;
          x = dp[r] - cpv[i] * x;
          delta = Math.max(delta, Math.abs(x - w[i]));
          w[i] = x;
        }
      }
      // Either family ideal: the other family's line solves are the whole solution.
      if (this.rowsFixed || this.colsGround || delta === 0) return { iterations: it, converged: true, error: 0 };
      const rho = delta / prev;
      prev = delta;
      if (it >= 2 && rho < 1) {
        error = (dI * Math.max(rho / (1 - rho), 1)) / maxI;
        if (error <= p.tolerance) return { iterations: it, converged: true, error };
      }
    }
    return { iterations: p.maxIterations, converged: false, error };
  }
}

/** One solve of one array (ArraySolver, factored and solved once): column currents into out[o0 ..]. */
export function solveArray(
  G: ArrayLike<number>,
  g0: number,
  gStride: number,
  rows: number,
  cols: number,
  V: ArrayLike<number>,
  v0: number,
  p: WireParams,
  out: Float64Array,
  o0: number,
): SolveResult {
  return new ArraySolver(G, g0, gStride, rows, cols, p).solve(V, v0, out, o0);
}

/** One sub-array of a layer's row block, and where its column currents go. */
interface PreparedSubArray extends SubArray {
  /** Cells [rows, cols] row-major (approx), or the effective conductances M (solve, superposed). */
  G: Float64Array;
  /** For each of its columns, the index of that current in ProgrammedLayer row order ((s·pol + p)·N + j). */
  target: Int32Array;
  /** The factored network (solve, literal). */
  solver: ArraySolver | null;
}

/** How LayerCircuit evaluates `solve`: per read (literal) or by superposition of unit-drive solves. */
export type SolveStrategy = 'superposed' | 'literal';

/**
 * A layer's arrays as circuits (DESIGN.md section 13): for each row block and input cycle, the column
 * currents of `circuit.model` replace the ideal ΣV·G. `approx` applies aihwkit's closed form per column
 * and read. `solve`: the network is linear in the row voltages, so its currents are I_c = Σ_r M[r, c]·V_r
 * with M[r, ·] the currents of a unit drive on row r alone: `superposed` solves the rows' unit drives
 * once per chip (to circuit.tolerance each) and every read is then one product with M, the same currents
 * as solving each read (`literal`, kept as that check) up to the solver's tolerance. Horizontal
 * partitions of a column add their currents (the periphery sums them before the ADC).
 */
export class LayerCircuit {
  private readonly blocks: PreparedSubArray[][];
  private readonly wires: WireParams;
  private readonly subOut: Float64Array;

  constructor(
    layer: ProgrammedLayer,
    private readonly cfg: XbarConfig,
    private readonly stats: SolveStats,
    /** Names the layer in a non-convergence report. */
    private readonly where: string,
    private readonly strategy: SolveStrategy = 'superposed',
  ) {
    const g = layer.geom;
    const columns = g.N * g.S * g.pol;
    const toPlane = packedToPlane(g);
    this.wires = normalizedWires(cfg);
    let maxCols = 1;
    const unit = new Float64Array(cfg.array.rows);
    this.blocks = g.blocks.map((b, p) =>
      blockSubArrays(cfg, b.rows, columns).map((sa) => {
        maxCols = Math.max(maxCols, sa.cols);
        const cells = new Float64Array(sa.rows * sa.cols);
        const target = new Int32Array(sa.cols);
        for (let c = 0; c < sa.cols; c++) target[c] = toPlane[sa.col0 + c];
        for (let r = 0; r < sa.rows; r++) {
          const row = (b.start + sa.row0 + r) * columns;
          for (let c = 0; c < sa.cols; c++) cells[r * sa.cols + c] = layer.G[row + target[c]];
        }
        if (cfg.circuit.model === 'approx') return { ...sa, G: cells, target, solver: null };
        const solver = new ArraySolver(cells, 0, sa.cols, sa.rows, sa.cols, this.wires);
        if (strategy === 'literal') return { ...sa, G: cells, target, solver };
        const M = new Float64Array(sa.rows * sa.cols);
        for (let r = 0; r < sa.rows; r++) {
          unit[r] = 1;
          this.check(solver.solve(unit, 0, M, r * sa.cols), p, sa);
          unit[r] = 0;
        }
        return { ...sa, G: M, target, solver: null };
      }),
    );
    this.subOut = new Float64Array(maxCols);
  }

  private check(r: SolveResult, p: number, sa: SubArray): void {
    recordSolve(this.stats, r);
    if (r.converged) return;
    throw new RuntimeFailure(notConvergedMessage(this.where, p, sa, r, this.cfg.circuit.tolerance, this.wires.maxIterations));
  }

  /**
   * Column currents of row block p at row voltages V (indexed by the layer's row k; the block starts
   * at row `start`) into `cur` (ProgrammedLayer row order, zeroed here). Throws a RuntimeFailure naming
   * the array when a solve does not reach circuit.tolerance within circuit.maxIterations.
   */
  currents(p: number, start: number, V: Float64Array, cur: Float64Array): void {
    cur.fill(0);
    const out = this.subOut;
    const blk = this.blocks[p];
    for (let a = 0; a < blk.length; a++) {
      const sa = blk[a];
      const v0 = start + sa.row0;
      if (this.cfg.circuit.model === 'approx') {
        for (let c = 0; c < sa.cols; c++) out[c] = approxColumnCurrent(sa.G, c, sa.cols, V, v0, sa.rows, this.wires.rCol);
      } else if (sa.solver) {
        this.check(sa.solver.solve(V, v0, out, 0), p, sa);
      } else {
        out.fill(0, 0, sa.cols);
        for (let r = 0; r < sa.rows; r++) {
          const v = V[v0 + r];
          if (v === 0) continue;
          const row = r * sa.cols;
          for (let c = 0; c < sa.cols; c++) out[c] += v * sa.G[row + c];
        }
      }
      for (let c = 0; c < sa.cols; c++) cur[sa.target[c]] += out[c];
    }
  }
}

/** Each chip's circuits, built once per (cells, circuit config) and reused by every batch that reads the chip. */
const circuitCache = new WeakMap<ArrayLike<number>, Map<string, LayerCircuit>>();

/** The LayerCircuit of a chip's cells under `cfg`, from the cache when this chip was read before. */
export function layerCircuit(layer: ProgrammedLayer, cfg: XbarConfig, stats: SolveStats, where: string): LayerCircuit {
  const key = JSON.stringify([cfg.circuit, cfg.array, normalizedWires(cfg).rRow, cfg.device, cfg.noise.device.model]);
  let byKey = circuitCache.get(layer.G);
  if (!byKey) circuitCache.set(layer.G, (byKey = new Map()));
  let c = byKey.get(key);
  if (!c) byKey.set(key, (c = new LayerCircuit(layer, cfg, stats, where)));
  return c;
}
