/**
 * Dawn's Node binding completes a mapAsync or onSubmittedWorkDone by polling: from each poll it calls
 * `globalThis.setImmediate(tick)` again (a new native function each time, ProcessEvents inside)
 * until nothing is pending (dawn/node/binding/AsyncRunner.cpp, ScheduleProcessEvents). That is a
 * busy loop holding one CPU core for as long as the GPU works. On a software adapter that core is
 * one the driver's own threads would compute on: on this 2-core machine a LeNet-5 eval spent about
 * as much CPU spinning on the main thread as lavapipe spent running the kernels.
 *
 * `throttleDawnPolling` keeps Dawn's immediate re-polls for the first millisecond of each wait (a fast
 * GPU answers within it, unslowed) and then re-polls every millisecond on a timer. Only Dawn's ticks are
 * affected: anonymous native functions of no parameters, which is what Napi::Function::New makes and
 * no JS callback is (bound functions are named "bound …", a promise's resolve takes one argument).
 * Results cannot change, only how soon a finished wait is seen.
 */
import { promisify } from 'node:util';

const INSTALLED = Symbol.for('xbarsim.dawnPolling');

/** Whether `f` looks like one of Dawn's poll ticks: an anonymous native function of no parameters (a promise's resolve has one). */
export function isDawnTick(f: unknown): boolean {
  return typeof f === 'function' && f.name === '' && f.length === 0 && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(f));
}

/** Statistics of the installed throttle (for tests and the trace). */
export interface DawnPollStats {
  /** Dawn ticks run at once (within the spin window). */
  immediate: number;
  /** Dawn ticks deferred to a timer. */
  timed: number;
}

type Scheduler = (cb: (...a: unknown[]) => void, ...args: unknown[]) => unknown;

/** What `pollingScheduler` builds on (injectable for tests). */
export interface PollingDeps {
  immediate: Scheduler;
  timer: (cb: () => void, ms: number) => unknown;
  isTick: (f: unknown) => boolean;
  now: () => number;
}

/**
 * A setImmediate that runs ticks (`isTick`) at once for `spinMs` after a wait starts, then after
 * `pollMs` on `timer`; other callbacks go straight to `immediate`. A tick queued from inside a tick
 * continues its wait; one queued from anywhere else starts a new one.
 */
export function pollingScheduler(deps: PollingDeps, spinMs: number, pollMs: number, stats: DawnPollStats): Scheduler {
  let inTick = false;
  let waitStart = 0;
  return function (this: unknown, cb, ...args) {
    if (!deps.isTick(cb)) return deps.immediate.call(this, cb, ...args);
    const t = deps.now();
    if (!inTick) waitStart = t;
    const run = (): void => {
      inTick = true;
      try {
        cb();
      } finally {
        inTick = false;
      }
    };
    if (t - waitStart < spinMs) {
      stats.immediate++;
      return deps.immediate(run);
    }
    stats.timed++;
    return deps.timer(run, pollMs);
  };
}

/**
 * Replaces globalThis.setImmediate with a pollingScheduler over Dawn's ticks (1 ms of immediate
 * polls, then one every millisecond). Installs once per process; later calls return its statistics.
 * XBARSIM_DAWN_POLL=spin leaves Dawn's busy loop as it is (null).
 */
export function throttleDawnPolling(): DawnPollStats | null {
  const g = globalThis as typeof globalThis & { [INSTALLED]?: DawnPollStats };
  if (g[INSTALLED]) return g[INSTALLED];
  if (process.env.XBARSIM_DAWN_POLL === 'spin') return null;
  const original = g.setImmediate;
  const stats: DawnPollStats = { immediate: 0, timed: 0 };
  const wrapped = pollingScheduler(
    { immediate: original as unknown as Scheduler, timer: (cb, ms) => setTimeout(cb, ms), isTick: isDawnTick, now: () => performance.now() },
    1,
    1,
    stats,
  );
  // util.promisify(setImmediate) keeps working.
  (wrapped as unknown as Record<symbol, unknown>)[promisify.custom] = (original as unknown as Record<symbol, unknown>)[promisify.custom];
  g.setImmediate = wrapped as unknown as typeof setImmediate;
  g[INSTALLED] = stats;
  return stats;
}
