// The markdown tables a suite run prints: every figure as its median with the runs' spread, ratios
// taken between figures of the same run on the same adapter.
import type { ColdResult, BenchRun } from './suite.ts';
import type { KernelResult } from './kernel-cases.ts';
import type { NetworkResult } from './network-cases.ts';
import type { Figure } from './stats.ts';

const ms = (s: number): string => (s * 1e3 >= 100 ? (s * 1e3).toFixed(0) : (s * 1e3).toPrecision(3));
const g = (v: number): string => (v / 1e9).toPrecision(3);
const pct = (f: Figure): string => `±${(50 * f.spread).toFixed(0)}%`;
const x = (v: number): string => `${v.toPrecision(3)}×`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function kernels(run: BenchRun, rs: KernelResult[]): string {
  const src = run.gpuTiming === 'timestamp-query' ? 'GPU time from timestamp-query' : 'wall clock, submit to completion (no timestamp-query on this adapter)';
  const rows = rs.map((r) => [
    r.preset,
    r.dataflow,
    String(r.K),
    String(r.B),
    g(r.cellMacs),
    r.path,
    `${ms(r.xbar.seconds.median)} ${pct(r.xbar.seconds)}`,
    r.general ? `${ms(r.general.seconds.median)} ${pct(r.general.seconds)}` : '',
    r.general ? x(r.general.seconds.median / r.xbar.seconds.median) : '',
    r.float ? `${ms(r.float.seconds.median)} ${pct(r.float.seconds)}` : '',
    `${ms(r.gemm.seconds.median)} ${pct(r.gemm.seconds)}`,
    g(r.cellMacs / r.xbar.seconds.median),
    g(r.macs / r.gemm.seconds.median),
    x(r.rateRatio),
    x(r.timeRatio),
    `${ms(r.compileSeconds.xbar)} / ${ms(r.compileSeconds.gemm)}`,
    r.cpu ? g(r.cpu.cellMacsPerSecond) : '',
    r.cpu ? x(r.cpu.gpuOverCpu) : '',
  ]);
  return [
    `### Crossbar kernel vs f32 GEMM (${src}; read noise σ = ${rs[0]?.readSigma} additive; median of ${run.options.runs} runs ± half their range)`,
    '',
    `Tiling: ${rs[0]?.tiles ?? ''}${run.tuning ? ` (${run.tuning.source === 'cache' ? 'from the tuning cache' : run.tuning.source === 'option' ? 'set by --tiles' : 'tuned in this run'}${Object.keys(run.tuning.timings).length > 0 ? `: ${Object.entries(run.tuning.timings).map(([k, v]) => `${k} ${v.toPrecision(3)} ms`).join(', ')}` : ''})` : ''}.`,
    '',
    table(['preset', 'dataflow', 'K=N', 'B', 'G cell-MACs', 'path', 'xbar ms', 'general ms', 'fast/general', 'f32-sum ms', 'GEMM ms', 'xbar G cell-MAC/s', 'GEMM G MAC/s', 'rate ratio', 'time ratio', 'compile ms xbar/GEMM', 'CPU ref G cell-MAC/s', 'GPU/CPU'], rows),
    '',
    'path: bitplane = packed bit planes (AND + popcount, 32 rows per word), exact = integer sums in the general variant, float = f32 sums (static noise); general ms = the same run forced onto the general variant (bit-identical results); f32-sum ms = the kernel static noise takes, summing f32 currents (not bit-identical). rate ratio = simulated cell-MACs per second over the GEMM\'s MACs per second (target ≥ 0.5 for digital-sa); time ratio = kernel time over GEMM time (target ≤ 2 for analog-sa). Compilation is not in the times.',
  ].join('\n');
}

function networks(run: BenchRun, rs: NetworkResult[]): string {
  const rows = rs.map((r) => [
    r.model,
    r.preset,
    (r.macsPerImage / 1e6).toPrecision(3),
    String(r.images),
    `${r.imagesPerSecond.median.toPrecision(3)} ${pct(r.imagesPerSecond)}`,
    `${ms(r.program.median)} ${pct(r.program)}`,
    r.calibrate.toFixed(2),
    ms(r.firstForwardExtra),
    `${ms(r.compile.seconds)} (${r.compile.pipelines})`,
    r.accuracy === null ? '' : `${(100 * r.accuracy).toFixed(1)}%`,
    r.cpu ? r.cpu.imagesPerSecond.median.toPrecision(3) : '',
    r.cpu ? x(r.cpu.gpuOverCpu) : '',
    r.note ?? '',
  ]);
  return [
    `### Networks (wall clock per forward pass, upload and readback included; median of ${run.options.runs} runs)`,
    '',
    table(['model', 'preset', 'M MACs/image', 'batch', 'images/s', 'program chip ms', 'calibrate s', 'first pass extra ms', 'compile ms (pipelines)', 'accuracy', 'CPU ref images/s', 'GPU/CPU', 'note'], rows),
  ].join('\n');
}

function colds(run: BenchRun, rs: ColdResult[]): string {
  const rows = rs.map((r) => [
    r.id,
    `${r.model} ${r.preset}${r.readSigma > 0 ? ` + read σ ${r.readSigma}` : ''}`,
    String(r.images),
    `${r.seconds.median.toFixed(2)} ${pct(r.seconds)}`,
    `${r.seconds.min.toFixed(2)} – ${r.seconds.max.toFixed(2)}`,
    r.imagesPerSecond.median.toPrecision(3),
    r.cpuSeconds ? r.cpuSeconds.median.toFixed(2) : '',
  ]);
  const what = run.runner === 'node' ? 'a fresh `xbarsim eval` process, start to exit' : 'a fresh page, navigation to the last result';
  const traces = rs.filter((r) => r.trace).map((r) => `- ${r.id}: ${r.trace!.replace(/^xbarsim trace /, '')}`);
  return [
    `### Cold eval (${what}, start-up included; median of ${run.options.runs} after one warm-up)`,
    '',
    table(['case', 'what', 'images', 'seconds', 'range', 'images/s', 'CPU s (all threads)'], rows),
    ...(traces.length ? ['', 'Phases of the last run (XBARSIM_TRACE):', ...traces] : []),
  ].join('\n');
}

/** Issue 16's targets, each a ratio of figures of this one run on this one adapter. */
function targets(k: KernelResult[], c: ColdResult[]): string {
  const rows: string[][] = [];
  for (const r of k.filter((r) => r.dataflow === 'digital-sa' && r.B > 1)) {
    rows.push([`digital-sa (${r.preset}) K=N=${r.K} B=${r.B}: cell-MAC rate / GEMM MAC rate`, '≥ 0.5', x(r.rateRatio), r.rateRatio >= 0.5 ? 'met' : 'not met']);
  }
  for (const r of k.filter((r) => r.dataflow === 'analog-sa' && r.B > 1)) {
    rows.push([`analog-sa (${r.preset}) K=N=${r.K} B=${r.B}: kernel time / GEMM time`, '≤ 2', x(r.timeRatio), r.timeRatio <= 2 ? 'met' : 'not met']);
  }
  for (const r of c.filter((r) => r.id.startsWith('eval/'))) {
    const v = r.imagesPerSecond.median;
    // The target is defined at 256 images; a smaller batch (--quick) pays start-up over fewer images.
    const status = r.images !== 256 ? 'target is at 256 images' : v >= 100 ? 'met' : 'not met';
    rows.push([`whole eval, ${r.model} ${r.preset} + read σ ${r.readSigma}, ${r.images} images, start-up included: images/s`, '≥ 100', v.toPrecision(3), status]);
  }
  for (const r of c.filter((r) => r.id === 'cold/lenet5/ideal/100')) {
    rows.push(['cold `eval --model models/lenet5.onnx --dataset mnist --limit 100`: seconds', '< 2', r.seconds.median.toFixed(2), r.seconds.median < 2 ? 'met' : 'not met']);
  }
  return rows.length ? ['### Targets (issue 16)', '', table(['target', 'goal', 'this run', ''], rows)].join('\n') : '';
}

/** The run's tables in markdown, with the adapter and versions first. */
export function markdownReport(run: BenchRun): string {
  const out = [
    `## xbarsim bench (${run.runner}${run.options.quick ? ', --quick' : ''}) ${run.startedAt}`,
    '',
    `adapter: ${run.adapter.line} [${run.adapter.source}]`,
    `versions: ${Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
  ];
  const k = run.cases.filter((c): c is KernelResult & { id: string } => c.kind === 'kernel');
  const n = run.cases.filter((c): c is NetworkResult & { id: string } => c.kind === 'network');
  const c = run.cases.filter((r): r is ColdResult & { id: string } => r.kind === 'cold');
  if (k.length) out.push(kernels(run, k), '');
  if (n.length) out.push(networks(run, n), '');
  if (c.length) out.push(colds(run, c), '');
  const t = targets(k, c);
  if (t) out.push(t, '');
  for (const sk of run.skipped) out.push(`skipped ${sk.id}: ${sk.reason}`);
  return out.join('\n');
}
