import { describe, expect, it } from 'vitest';
import { BACKOFF_POLL_TIMING, DEFAULT_POLL_TIMING, isDawnTick, pollDelay, pollingScheduler, type DawnPollStats, type PollingDeps, type PollTiming } from '../../src/gpu/dawn-poll.ts';

describe("Dawn's poll ticks", () => {
  it('are anonymous native functions of no parameters, which no JS callback is', () => {
    // Proxy.revocable's revoke is such a function, as Napi::Function::New's are.
    expect(isDawnTick(Proxy.revocable({}, {}).revoke)).toBe(true);
    let resolve: unknown;
    void new Promise((r) => (resolve = r));
    expect(isDawnTick(resolve)).toBe(false); // a promise's resolve takes one argument
    expect(isDawnTick(() => 1)).toBe(false);
    expect(isDawnTick(function () {})).toBe(false);
    expect(isDawnTick((() => 1).bind(null))).toBe(false); // "bound "
    expect(isDawnTick(Math.max)).toBe(false); // named
    expect(isDawnTick(undefined)).toBe(false);
  });
});

/** A scheduler over fake queues and a fake clock; every function is a "tick" unless `plain` holds it. */
function harness(timing: PollTiming) {
  let clock = 0;
  const immediates: (() => void)[] = [];
  const timers: { ms: number; cb: () => void }[] = [];
  const plain = new Set<unknown>();
  const stats: DawnPollStats = { immediate: 0, timed: 0, maxDelayMs: 0 };
  const deps: PollingDeps = {
    immediate: (cb, ...args) => immediates.push(() => cb(...args)),
    timer: (cb, ms) => timers.push({ ms, cb }),
    isTick: (f) => !plain.has(f),
    now: () => clock,
  };
  const schedule = pollingScheduler(deps, timing, stats);
  return {
    schedule,
    stats,
    immediates,
    timers,
    plain,
    advance: (ms: number) => (clock += ms),
  };
}

describe('pollingScheduler', () => {
  it('runs a wait’s ticks at once for spinMs, then on pollMs timers; a new wait spins again', () => {
    const h = harness({ spinMs: 1, minMs: 1, maxMs: 1, backoff: 0 });
    let polls = 0;
    // Dawn's loop: each tick polls (0.3 ms of clock here) and queues the next until `done`.
    const tick = (done: () => boolean) => {
      const f = () => {
        polls++;
        h.advance(0.3);
        if (!done()) h.schedule(f);
      };
      return f;
    };
    h.schedule(tick(() => polls >= 6));
    while (h.immediates.length + h.timers.length > 0) {
      const next = h.immediates.shift() ?? h.timers.shift()!.cb;
      next();
    }
    // Queued at 0, 0.3, 0.6, 0.9 ms: immediate; at 1.2 and 1.5 ms: timers.
    expect(polls).toBe(6);
    expect(h.stats).toEqual({ immediate: 4, timed: 2, maxDelayMs: 1 });
    // A tick queued from outside a tick (the next mapAsync) starts a new wait: immediate again.
    h.schedule(tick(() => true));
    expect(h.immediates.length).toBe(1);
    expect(h.stats.immediate).toBe(5);
  });

  it('passes other callbacks and their arguments straight to setImmediate, even from inside a tick', () => {
    const h = harness({ spinMs: 1, minMs: 1, maxMs: 1, backoff: 0 });
    const seen: unknown[] = [];
    const user = (a: unknown, b: unknown) => seen.push(a, b);
    h.plain.add(user);
    h.schedule(user, 1, 2);
    const f = () => h.schedule(user, 3, 4);
    h.schedule(f);
    h.advance(5);
    h.immediates.splice(0).forEach((g) => g());
    h.immediates.splice(0).forEach((g) => g());
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(h.timers.length).toBe(0);
  });
});

describe('poll back-off', () => {
  it('waits minMs until backoff·waited exceeds it, then that fraction in whole ms, at most maxMs', () => {
    const t = BACKOFF_POLL_TIMING;
    expect([0, 1, 15.9, 16, 31.9, 32, 48, 64, 100, 1e6].map((w) => pollDelay(t, w))).toEqual([1, 1, 1, 1, 1, 2, 3, 4, 4, 4]);
    expect(pollDelay({ spinMs: 1, minMs: 2, maxMs: 10, backoff: 0.5 }, 1)).toBe(2);
    expect(pollDelay({ spinMs: 1, minMs: 2, maxMs: 10, backoff: 0.5 }, 13)).toBe(6);
  });

  /** Runs one Dawn-like wait that finishes after `gpuMs` on a fake clock (timers advance it); every tick costs `tickMs`. */
  function simulate(timing: PollTiming, gpuMs: number, tickMs = 0.05) {
    const h = harness(timing);
    let polls = 0;
    let seenAt = -1;
    const delays: { at: number; ms: number }[] = [];
    let clock = 0;
    const tick = () => {
      polls++;
      h.advance(tickMs);
      clock += tickMs;
      if (clock >= gpuMs) seenAt = clock;
      else h.schedule(tick);
    };
    h.schedule(tick);
    while (h.immediates.length + h.timers.length > 0) {
      const imm = h.immediates.shift();
      if (imm) {
        imm();
        continue;
      }
      const { ms, cb } = h.timers.shift()!;
      delays.push({ at: clock, ms });
      h.advance(ms);
      clock += ms;
      cb();
    }
    return { polls, late: seenAt - gpuMs, delays, stats: h.stats };
  }

  it('with XBARSIM_DAWN_POLL=backoff polls a long wait a quarter as often as the default 1 ms, and sees it finish at most 4 ms late', () => {
    const fixed = simulate(DEFAULT_POLL_TIMING, 1000);
    const backoff = simulate(BACKOFF_POLL_TIMING, 1000);
    expect(fixed.stats.timed).toBeGreaterThan(900);
    expect(backoff.stats.timed).toBeLessThan(fixed.stats.timed / 3);
    expect(backoff.stats.timed).toBeGreaterThan(200); // 4 ms at most: ≥ 1000/4 polls
    expect(backoff.late).toBeLessThanOrEqual(4);
    // No delay exceeds 1/16 of the time waited when it was set (beyond the 1 ms floor), nor 4 ms.
    for (const d of backoff.delays) {
      expect(d.ms).toBeLessThanOrEqual(4);
      expect(d.ms).toBeLessThanOrEqual(Math.max(1, d.at / 16));
    }
    expect(backoff.delays.map((d) => d.ms)).toContain(4);
    expect(backoff.stats.maxDelayMs).toBe(4);
    expect(fixed.stats.maxDelayMs).toBe(1);
  });

  it('backoff leaves short waits as they were: a 10 ms wait is polled every millisecond, a 0.5 ms one never on a timer', () => {
    const short = simulate(BACKOFF_POLL_TIMING, 10);
    expect(short.delays.every((d) => d.ms === 1)).toBe(true);
    expect(short.late).toBeLessThanOrEqual(1);
    expect(short.polls).toEqual(simulate(DEFAULT_POLL_TIMING, 10).polls);
    expect(simulate(BACKOFF_POLL_TIMING, 0.5).stats.timed).toBe(0);
    expect(simulate(DEFAULT_POLL_TIMING, 0.5).stats.timed).toBe(0);
  });
});
