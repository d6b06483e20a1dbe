/**
 * Dawn's Node binding completes a mapAsync or onSubmittedWorkDone by polling: from each poll it calls
 * `globalThis.setImmediate(tick)` again (a new native function each time, ProcessEvents inside)
 * until nothing is pending (dawn/node/binding/AsyncRunner.cpp, ScheduleProcessEvents). That is a
 * busy loop holding one CPU core for as long as the GPU works. On a software adapter that core is
 * one the driver's own threads would compute on: on this 2-core machine a LeNet-5 eval spent about
 * as much CPU spinning on the main thread as lavapipe spent running the kernels.
 *
 * `throttleDawnPolling` keeps Dawn's immediate re-polls for the first millisecond of each wait (a fast
 * GPU answers within it, unslowed) and then re-polls on a timer that backs off with the wait: 1 ms at
 * first, then 1/16 of the time waited so far, at most 4 ms. A poll costs the main thread about 0.1 ms
 * (timer wake-up and Dawn's ProcessEvents); at one per millisecond that was ~10% of a core for as long
 * as SwiftShader or lavapipe computed (measured per thread in /proc, about 3× what Chromium's GPU process
 * spends waiting on the same kernel). With the back-off a long wait costs a quarter of that, and a
 * finished wait is seen at most 1/16 of its length (4 ms) late. Only Dawn's ticks are affected:
 * anonymous native functions of no parameters, which is what Napi::Function::New makes and no JS
 * callback is (bound functions are named "bound …", a promise's resolve takes one argument). Results
 * cannot change, only how soon a finished wait is seen.
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
  /** The longest timer delay asked for so far, ms (0 before any). */
  maxDelayMs: number;
}

type Scheduler = (cb: (...a: unknown[]) => void, ...args: unknown[]) => unknown;

/** How a wait is polled once it outlasts the spin window. */
export interface PollTiming {
  /** Dawn's own back-to-back polls for this long after a wait starts, ms. */
  spinMs: number;
  /** Timer delay bounds, ms: the delay is `backoff` × the time waited so far, within [minMs, maxMs]. */
  minMs: number;
  maxMs: number;
  /** Fraction of the time waited so far that the next poll may come late (0: always minMs). */
  backoff: number;
}

/** The throttle's timing on software adapters (see the module comment). */
export const DEFAULT_POLL_TIMING: PollTiming = { spinMs: 1, minMs: 1, maxMs: 4, backoff: 1 / 16 };

/** The next timer delay of a wait that has lasted `waitedMs`: `backoff`·waitedMs in whole ms (timers have ms resolution), clamped to [minMs, maxMs]. */
export function pollDelay(t: PollTiming, waitedMs: number): number {
  return Math.min(t.maxMs, Math.max(t.minMs, Math.floor(waitedMs * t.backoff)));
}

/** What `pollingScheduler` builds on (injectable for tests). */
export interface PollingDeps {
  immediate: Scheduler;
  timer: (cb: () => void, ms: number) => unknown;
  isTick: (f: unknown) => boolean;
  now: () => number;
}

/**
 * A setImmediate that runs ticks (`isTick`) at once for `timing.spinMs` after a wait starts, then on
 * `timer` after `pollDelay`; other callbacks go straight to `immediate`. A tick queued from inside a
 * tick continues its wait; one queued from anywhere else starts a new one.
 */
export function pollingScheduler(deps: PollingDeps, timing: PollTiming, stats: DawnPollStats): Scheduler {
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
    const waited = t - waitStart;
    if (waited < timing.spinMs) {
      stats.immediate++;
      return deps.immediate(run);
    }
    const ms = pollDelay(timing, waited);
    stats.timed++;
    if (ms > stats.maxDelayMs) stats.maxDelayMs = ms;
    return deps.timer(run, ms);
  };
}

/**
 * Replaces globalThis.setImmediate with a pollingScheduler over Dawn's ticks (DEFAULT_POLL_TIMING).
 * Installs once per process; later calls return its statistics. XBARSIM_DAWN_POLL=spin leaves Dawn's
 * busy loop as it is (null); XBARSIM_DAWN_POLL=fixed polls every millisecond without backing off (the
 * throttle before the back-off, to compare).
 */
export function throttleDawnPolling(): DawnPollStats | null {
  const g = globalThis as typeof globalThis & { [INSTALLED]?: DawnPollStats };
  if (g[INSTALLED]) return g[INSTALLED];
  const mode = process.env.XBARSIM_DAWN_POLL;
  if (mode === 'spin') return null;
  const original = g.setImmediate;
  const stats: DawnPollStats = { immediate: 0, timed: 0, maxDelayMs: 0 };
  const wrapped = pollingScheduler(
    { immediate: original as unknown as Scheduler, timer: (cb, ms) => setTimeout(cb, ms), isTick: isDawnTick, now: () => performance.now() },
    mode === 'fixed' ? { ...DEFAULT_POLL_TIMING, maxMs: DEFAULT_POLL_TIMING.minMs } : DEFAULT_POLL_TIMING,
    stats,
  );
  // util.promisify(setImmediate) keeps working.
  (wrapped as unknown as Record<symbol, unknown>)[promisify.custom] = (original as unknown as Record<symbol, unknown>)[promisify.custom];
  g.setImmediate = wrapped as unknown as typeof setImmediate;
  g[INSTALLED] = stats;
  return stats;
}
