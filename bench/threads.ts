// CPU seconds of a process's threads from /proc (Linux), grouped by role: the main thread, the
// software driver's worker threads, everything else. On a shared machine wall time follows the load;
// CPU seconds per run follow the work, so they show whether two runners do the same work.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds by role: `main` (thread id = pid), `driver` (SwiftShader's marl workers Thread<N>, lavapipe's llvmpipe-N), `other`. */
export interface ThreadCpu {
  main: number;
  driver: number;
  other: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux ABI Node runs on

/** The driver worker thread names: SwiftShader (marl's "Thread<N>") and lavapipe ("llvmpipe-N"). */
function isDriverThread(comm: string): boolean {
  return /^Thread<\d+>$/.test(comm) || /^llvmpipe-\d+$/.test(comm);
}

/** Reads the CPU seconds (user + system) of every thread of `pid` now. */
export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = { main: 0, driver: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let comm: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after "(comm) ": state is field 3, utime 14 and stime 15 (proc(5)).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
    if (tid === String(pid)) out.main += seconds;
    else if (isDriverThread(comm)) out.driver += seconds;
    else out.other += seconds;
  }
  return out;
}

/** (b − a) / n per role. */
export function cpuPerRun(a: ThreadCpu, b: ThreadCpu, n: number): ThreadCpu {
  return { main: (b.main - a.main) / n, driver: (b.driver - a.driver) / n, other: (b.other - a.other) / n };
}
