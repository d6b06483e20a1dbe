// The exclusive lock on a sweep folder, held for a whole `sweep` (or `merge`) run, so two runs never
// evaluate the same tasks twice or interleave their lines. proper-lockfile makes the lock (an atomic
// mkdir, kept fresh by a heartbeat, so a lock whose holder died on another machine of a cluster goes
// stale after STALE_MS); beside it a small JSON file names the holder, so a refusal can name its pid
// and a holder killed on this machine (SIGKILL, an out-of-memory kill) is taken over at once rather
// than after STALE_MS.
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { RuntimeFailure, UsageError, messageOf } from '../errors.ts';
import { writeTextAtomic } from '../io/atomic-write.ts';

/**
 * proper-lockfile, loaded on first use: loading it hooks process signals (signal-exit, to remove
 * locks on any exit), which only the commands that lock should carry.
 */
function lockSync(...args: Parameters<typeof import('proper-lockfile').lockSync>): () => void {
  const mod = createRequire(import.meta.url)('proper-lockfile') as typeof import('proper-lockfile');
  return mod.lockSync(...args);
}

/** The lock itself (a folder, proper-lockfile's). */
export const LOCK_DIR = '.xbarsim.lock';
/** Who holds the lock: `{ pid, host, start }`. */
export const LOCK_OWNER = '.xbarsim.lock.json';

/** A lock not refreshed for this long belongs to a dead run (the heartbeat refreshes it every UPDATE_MS). */
const STALE_MS = 60_000;
const UPDATE_MS = 10_000;

interface Owner {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22), to tell a reused pid apart; null where /proc is missing. */
  start: string | null;
}

/** A held lock. */
export interface SweepLock {
  /** Throws a RuntimeFailure if the lock was lost (another run took it over): nothing more may be written. */
  assertHeld(): void;
  /** Releases the lock (idempotent). */
  release(): void;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) is parenthesized and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readOwner(dir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, LOCK_OWNER), 'utf8')) as Partial<Owner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return undefined;
    return { pid: o.pid, host: o.host, start: typeof o.start === 'string' ? o.start : null };
  } catch {
    return undefined;
  }
}

/** Whether the owner's process still runs: true, false, or undefined when it runs on another machine. */
function ownerAlive(o: Owner): boolean | undefined {
  if (o.host !== hostname()) return undefined;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    // EPERM: it exists but is not ours to signal.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(o.pid);
  return o.start === null || start === null || start === o.start;
}

function lockExists(dir: string): boolean {
  try {
    return statSync(join(dir, LOCK_DIR)).isDirectory();
  } catch {
    return false;
  }
}

function describe(o: Owner | undefined): string {
  if (o === undefined) return 'another xbarsim run';
  return o.host === hostname() ? `xbarsim pid ${o.pid}` : `xbarsim pid ${o.pid} on ${o.host}`;
}

function lockedError(dir: string, flag: string, o: Owner | undefined): UsageError {
  return new UsageError(`${flag} ${dir}: in use by ${describe(o)} (one run per sweep folder at a time; wait for it to finish, or give each run its own folder)`);
}

/**
 * Throws the one-line "in use" UsageError if a live run holds `dir`'s lock; checks only, takes
 * nothing (a cheap early refusal before the model and the device are opened).
 */
export function refuseIfLocked(dir: string, flag = '--out'): void {
  if (!lockExists(dir)) return;
  // A holder that has just made the lock may not have written its owner file yet: wait for it as acquireSweepLock does, so the refusal can name its pid.
  const o = awaitOwner(dir, 300);
  const alive = o === undefined ? undefined : ownerAlive(o);
  if (alive === false) return; // a dead holder: acquireSweepLock takes it over
  if (alive === true) throw lockedError(dir, flag, o); // alive here, however long since its heartbeat (a busy CPU run)
  let fresh = true;
  try {
    fresh = statSync(join(dir, LOCK_DIR)).mtimeMs >= Date.now() - STALE_MS;
  } catch {
    return;
  }
  if (fresh) throw lockedError(dir, flag, o);
}

/** Waits up to `ms` for a holder that has just made the lock to write its owner file. */
function awaitOwner(dir: string, ms: number): Owner | undefined {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let t = 0; t < ms; t += 10) {
    const o = readOwner(dir);
    if (o !== undefined) return o;
    Atomics.wait(cell, 0, 0, 10);
  }
  return readOwner(dir);
}

/**
 * Takes the exclusive lock on the existing folder `dir` for this process; throws a one-line
 * UsageError naming the holder's pid if another live run has it. Released on release(), and by
 * proper-lockfile on any exit of this process; a killed holder's lock is taken over.
 */
export function acquireSweepLock(dir: string, flag = '--out'): SweepLock {
  const lockPath = join(dir, LOCK_DIR);
  const previous = lockExists(dir) ? readOwner(dir) : undefined;
  const alive = previous === undefined ? undefined : ownerAlive(previous);
  // A live holder on this machine keeps the lock even if its heartbeat is late (an event loop
  // busy with a long CPU batch): only a lock from another machine is judged by its age.
  if (alive === true) throw lockedError(dir, flag, previous);
  if (alive === false) {
    // Dead on this machine: make its lock look stale, so proper-lockfile's own takeover (remove,
    // then an exclusive mkdir) decides between runs starting now.
    try {
      utimesSync(lockPath, 0, 0);
    } catch {
      // already gone
    }
  }
  let compromised: Error | null = null;
  let release: () => void;
  try {
    release = lockSync(dir, {
      realpath: false,
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: UPDATE_MS,
      onCompromised: (e: Error) => {
        compromised = e;
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw lockedError(dir, flag, awaitOwner(dir, 300));
    throw new UsageError(`${flag} ${dir}: cannot lock the folder: ${messageOf(e)}`);
  }
  const me: Owner = { pid: process.pid, host: hostname(), start: processStart(process.pid) };
  try {
    writeTextAtomic(join(dir, LOCK_OWNER), `${JSON.stringify(me)}\n`);
  } catch (e) {
    release();
    throw e;
  }
  let released = false;
  const removeOwner = (): void => {
    const o = readOwner(dir);
    if (o?.pid === me.pid && o.host === me.host) rmSync(join(dir, LOCK_OWNER), { force: true });
  };
  process.once('exit', removeOwner);
  return {
    assertHeld(): void {
      if (compromised !== null) throw new RuntimeFailure(`${dir}: lost the sweep folder's lock (${messageOf(compromised)}); stopped writing`);
    },
    release(): void {
      if (released) return;
      released = true;
      process.off('exit', removeOwner);
      removeOwner();
      try {
        release();
      } catch {
        // compromised or already released: nothing of ours is left to remove
      }
    },
  };
}
