import cliProgress from 'cli-progress';

/** Receives sweep progress: how many of this run's tasks are done. */
export interface SweepProgress {
  /** `total` tasks in this shard, `done` of them already in the results (resume). */
  start(total: number, done: number): void;
  /** `done` tasks finished so far (resumed ones included); `label` names the task just finished. */
  tick(done: number, label: string): void;
  stop(): void;
}

/** Progress that shows nothing (tests, library use). */
export const silentProgress: SweepProgress = { start() {}, tick() {}, stop() {} };

/** `3m10s`, `1h02m`, `45s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Plain progress lines for logs (not a terminal): one line at start, then one after a task when
 * at least `everyMs` passed since the last line, and one at the end. The ETA is this run's mean
 * time per task times the tasks left.
 */
export class LineProgress implements SweepProgress {
  private total = 0;
  private startDone = 0;
  private t0 = 0;
  private last = 0;
  private done = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly everyMs = 5000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Prints the starting line. */
  start(total: number, done: number): void {
    this.total = total;
    this.startDone = done;
    this.done = done;
    this.t0 = this.now();
    this.last = this.t0;
    const already = done > 0 ? `, ${done} already done` : '';
    this.write(`sweep: ${total} tasks${already}`);
  }

  /** Prints a line if enough time passed, or if this was the last task. */
  tick(done: number, label: string): void {
    this.done = done;
    const t = this.now();
    if (done < this.total && t - this.last < this.everyMs) return;
    this.last = t;
    const ran = done - this.startDone;
    const eta = ran > 0 ? ((t - this.t0) / 1000 / ran) * (this.total - done) : NaN;
    this.write(`sweep: ${done}/${this.total} tasks, eta ${formatDuration(eta)} (last: ${label})`);
  }

  /** Nothing to clean up. */
  stop(): void {}
}

/** A terminal progress bar with ETA (cli-progress). */
export class BarProgress implements SweepProgress {
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'sweep |{bar}| {value}/{total} tasks | {percentage}% | eta {eta_formatted} | {task}',
        hideCursor: true,
        etaBuffer: 20,
        etaAsynchronousUpdate: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** Draws the bar. */
  start(total: number, done: number): void {
    this.bar.start(total, done, { task: done > 0 ? `resumed, ${done} done` : '' });
    this.started = true;
  }

  /** Advances the bar. */
  tick(done: number, label: string): void {
    this.bar.update(done, { task: label });
  }

  /** Finishes the bar (leaving its last state on screen). */
  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

/** A bar on a terminal, plain periodic lines otherwise. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  if (stream.isTTY) return new BarProgress(stream);
  return new LineProgress((line) => stream.write(`${line}\n`));
}
