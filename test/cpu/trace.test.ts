// XBARSIM_TRACE=1 (src/trace.ts): a phase breakdown on one stderr line at exit, nothing otherwise.
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.ts';

/**
 * Busy until both `ms` of wall time and `ms` of this process's CPU time have passed: a loaded machine
 * stretches wall time, and other threads of the process (GC, a driver's workers left by an earlier
 * suite in the same worker) add CPU time faster than wall time, so neither alone bounds the other.
 */
function spin(ms: number): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  for (;;) {
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 >= ms && performance.now() - t0 >= ms) return x;
    for (let i = 0; i < 1000; i++) x += Math.sqrt(x + 1);
  }
}

async function freshTrace(value: string | undefined): Promise<typeof import('../../src/trace.ts')> {
  const saved = process.env.XBARSIM_TRACE;
  if (value === undefined) delete process.env.XBARSIM_TRACE;
  else process.env.XBARSIM_TRACE = value;
  vi.resetModules();
  try {
    return await import('../../src/trace.ts');
  } finally {
    if (saved === undefined) delete process.env.XBARSIM_TRACE;
    else process.env.XBARSIM_TRACE = saved;
  }
}

const parse = (line: string, name: string): [number, number] => {
  const m = line.match(new RegExp(`(?:\\| |: )${name} ([\\d.]+)/([\\d.]+)`));
  if (!m) throw new Error(`no ${name} in ${line}`);
  return [Number(m[1]), Number(m[2])];
};

describe('trace', () => {
  it('books each interval to the phase that closes it, sums repeated phases, and counts spans apart', async () => {
    const t = await freshTrace('1');
    expect(t.TRACE_ON).toBe(true);
    t.tracePhase('start');
    spin(30);
    t.tracePhase('work');
    t.traceSpan('inner', () => spin(20));
    t.tracePhase('more');
    spin(30);
    t.tracePhase('work');
    const line = t.traceLine()!;
    const [workWall, workCpu] = parse(line, 'work');
    const [moreWall] = parse(line, 'more');
    // Each spin lasts at least its ms of wall and of CPU time; both phases' intervals are in "work".
    expect(workCpu).toBeGreaterThanOrEqual(0.059);
    expect(workWall).toBeGreaterThanOrEqual(0.059);
    expect(moreWall).toBeGreaterThanOrEqual(0.019);
    expect(line).toMatch(/within: inner [\d.]+\/[\d.]+ \(1\)/);
    expect(line.match(/\| work /g)?.length).toBe(1);
  });

  it('is off, one test per call, unless XBARSIM_TRACE is set to something other than 0', async () => {
    for (const v of [undefined, '', '0']) {
      const t = await freshTrace(v);
      expect(t.TRACE_ON).toBe(false);
      t.tracePhase('x');
      expect(t.traceSpan('y', () => 7)).toBe(7);
      expect(t.traceLine()).toBeNull();
    }
  });

  it('xbarsim eval prints the breakdown on stderr at exit, and its stdout is unchanged', () => {
    const args = ['eval', '--model', 'models/mlp.onnx', '--dataset', 'mnist', '--limit', '4', '--preset', 'ideal', '--backend', 'cpu'];
    const on = runCli(args, { XBARSIM_TRACE: '1' });
    const off = runCli(args, { XBARSIM_TRACE: '' });
    expect(on.code).toBe(0);
    expect(off.code).toBe(0);
    const lines = on.ownStderrLines.filter((l) => l.startsWith('xbarsim trace'));
    expect(lines.length).toBe(1);
    for (const phase of ['node', 'modules', 'model', 'data', 'adapter', 'open', 'calibrate', 'program', 'run', 'report', 'teardown', 'exit']) parse(lines[0], phase);
    expect(lines[0]).toMatch(/\| total [\d.]+\/[\d.]+ \(phases/);
    expect(off.ownStderrLines.some((l) => l.startsWith('xbarsim trace'))).toBe(false);
    const speedless = (s: string) => s.replace(/speed: .*/, '');
    expect(speedless(on.stdout)).toBe(speedless(off.stdout));
  }, 120_000);
});
