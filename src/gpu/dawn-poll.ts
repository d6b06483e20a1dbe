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
 *
 * Why not poll less often: a poll costs the main thread about 0.05–0.1 ms, so the 1 ms timer takes
 * ~5–10% of a core. A back-off (BACKOFF_POLL_TIMING: 1/16 of the time waited, at most 4 ms) cuts a long
 * wait's polls to a quarter, yet on this shared 2-core machine at load ~12 it made SwiftShader's kernel
 * slower in GPU time (npm run bench:gap, K256/B256 isaac: 5.67 s against 3.08 s with the 1 ms poll and
 * 2.87 s in Chromium over 3 alternating pairs; 4.21 against 3.48 and 3.65 s in a later pair), at equal
 * worker CPU seconds per run (1.60 s): the workers did the same work with less of the machine. The likely cause is the kernel's group scheduling (autogroups):
 * a thread of the process waking every millisecond brings the process's group to the CPU ahead of
 * other groups, and its driver threads run in the slices that follow; Chromium's GPU process has
 * threads at nice −8, and setting them to 0 (bench:gap --same-priority) slowed the browser's run
 * to Node's. XBARSIM_DAWN_POLL=backoff selects the back-off, for an otherwise idle machine.
 */
import { promisify } from 'node:util';
import { UsageError } from '../errors.ts';

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

/** The throttle's timing on software adapters: 1 ms of Dawn's spin, then a poll every millisecond (see the module comment). */
export const DEFAULT_POLL_TIMING: PollTiming = { spinMs: 1, minMs: 1, maxMs: 1, backoff: 0 };

/** XBARSIM_DAWN_POLL=backoff: 1 ms, then 1/16 of the time waited so far, at most 4 ms (a quarter of the polls on a long wait, seen at most 4 ms late). */
export const BACKOFF_POLL_TIMING: PollTiming = { spinMs: 1, minMs: 1, maxMs: 4, backoff: 1 / 16 };

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
 * Replaces globalThis.setImmediate with a pollingScheduler over Dawn's ticks (DEFAULT_POLL_TIMING, or
 * BACKOFF_POLL_TIMING with XBARSIM_DAWN_POLL=backoff). Installs once per process; later calls return
 * its statistics. XBARSIM_DAWN_POLL=spin leaves Dawn's busy loop as it is (null).
 */
export function throttleDawnPolling(): DawnPollStats | null {
  const g = globalThis as typeof globalThis & { [INSTALLED]?: DawnPollStats };
  if (g[INSTALLED]) return g[INSTALLED];
  const mode = process.env.XBARSIM_DAWN_POLL;
  if (mode !== undefined && mode !== '' && mode !== 'spin' && mode !== 'backoff') {
    throw new UsageError(`XBARSIM_DAWN_POLL=${mode}: one of spin, backoff (unset: Dawn's queue polled every millisecond)`);
  }
  if (mode === 'spin') return null;
  const original = g.setImmediate;
  const stats: DawnPollStats = { immediate: 0, timed: 0, maxDelayMs: 0 };
  const wrapped = pollingScheduler(
    { immediate: original as unknown as Scheduler, timer: (cb, ms) => setTimeout(cb, ms), isTick: isDawnTick, now: () => performance.now() },
    mode === 'backoff' ? BACKOFF_POLL_TIMING : DEFAULT_POLL_TIMING,
    stats,
  );
  // util.promisify(setImmediate) keeps working.
  (wrapped as unknown as Record<symbol, unknown>)[promisify.custom] = (original as unknown as Record<symbol, unknown>)[promisify.custom];
  g.setImmediate = wrapped as unknown as typeof setImmediate;
  g[INSTALLED] = stats;
  return stats;
}
