/**
 * Start-up and phase timing for `XBARSIM_TRACE=1` (issue 16 item 6): where a cold command spends its
 * time. Each `tracePhase(name)` closes the interval since the previous mark and books it to `name`;
 * `traceSpan` adds time spent inside a call (pipeline compilation) to a counter that cuts across
 * phases. Wall time and process CPU time (process.cpuUsage: every thread, Dawn's and the software
 * driver's included) are both kept, because on a shared machine only CPU time compares across runs.
 * Off unless the variable is set: then every call is one boolean test. Browser-safe (no process there).
 */

interface Mark {
  wall: number;
  cpu: number;
}

interface Span {
  wall: number;
  cpu: number;
  calls: number;
}

interface ProcessLike {
  env: Record<string, string | undefined>;
  cpuUsage(): { user: number; system: number };
}

const proc = (globalThis as { process?: ProcessLike }).process;

/** Whether tracing is on (XBARSIM_TRACE set to anything but empty or 0). */
export const TRACE_ON = proc !== undefined && proc.env.XBARSIM_TRACE !== undefined && proc.env.XBARSIM_TRACE !== '' && proc.env.XBARSIM_TRACE !== '0';

function now(): Mark {
  const u = proc!.cpuUsage();
  return { wall: performance.now() / 1000, cpu: (u.user + u.system) / 1e6 };
}

/** Where bin/xbarsim.js started (set there before it imports anything), else the process start. */
function bootMark(): Mark {
  const b = (globalThis as { __xbarsimBoot?: Mark }).__xbarsimBoot;
  return b ?? { wall: 0, cpu: 0 };
}

const phases: [string, Mark][] = [];
const spans = new Map<string, Span>();
let last: Mark | null = null;

/** Closes the interval since the previous mark (or the bin's start) and books it to `name`. */
export function tracePhase(name: string): void {
  if (!TRACE_ON) return;
  const t = now();
  if (last === null) {
    const boot = bootMark();
    // Node's own start-up, before the bin ran a line of ours.
    if (boot.wall > 0) phases.push(['node', { ...boot }]);
    last = boot;
  }
  const d = { wall: t.wall - last.wall, cpu: t.cpu - last.cpu };
  const prev = phases.find(([n]) => n === name);
  if (prev) {
    prev[1].wall += d.wall;
    prev[1].cpu += d.cpu;
  } else phases.push([name, d]);
  last = t;
}

/** Runs `f`, adding its time to the cross-phase counter `name` (e.g. pipeline compilation). */
export function traceSpan<R>(name: string, f: () => R): R {
  if (!TRACE_ON) return f();
  const t0 = now();
  try {
    return f();
  } finally {
    const t1 = now();
    const s = spans.get(name) ?? { wall: 0, cpu: 0, calls: 0 };
    s.wall += t1.wall - t0.wall;
    s.cpu += t1.cpu - t0.cpu;
    s.calls++;
    spans.set(name, s);
  }
}

const fmt = (name: string, m: { wall: number; cpu: number }): string => `${name} ${m.wall.toFixed(3)}/${m.cpu.toFixed(3)}`;

/** The one-line breakdown, `wall/cpu` seconds per phase, or null when tracing is off. */
export function traceLine(): string | null {
  if (!TRACE_ON) return null;
  const t = now();
  const total = phases.reduce((a, [, m]) => ({ wall: a.wall + m.wall, cpu: a.cpu + m.cpu }), { wall: 0, cpu: 0 });
  const parts = phases.map(([n, m]) => fmt(n, m));
  const within = [...spans].map(([n, s]) => `${fmt(n, s)} (${s.calls})`);
  return `xbarsim trace (wall/cpu s): ${parts.join(' | ')} | total ${fmt('', { wall: t.wall, cpu: t.cpu }).trim()} (phases ${total.wall.toFixed(3)}/${total.cpu.toFixed(3)})${within.length ? ` | within: ${within.join(', ')}` : ''}`;
}
