import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { XbarConfig } from '../config/types.ts';
import { COUNT_NAMES } from '../crossbar/counts.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import { UsageError } from '../errors.ts';
import { writeTextAtomic } from '../io/atomic-write.ts';
import type { EvalResult, VaryValue } from './types.ts';
import type { CostFields } from '../nn/cost.ts';

/** The results file in a sweep folder: one JSON object per line, one line per finished task. */
export const RESULTS_FILE = 'results.jsonl';

/** One line of results.jsonl: one (point, chip) evaluation. */
export interface ResultLine {
  /** The task id (grid.ts taskId). */
  id: string;
  /** The series label: a preset name, or the --config file's name. */
  preset: string;
  /** Varied path → value at this point. */
  point: Record<string, VaryValue>;
  chip: number;
  seed: number;
  accuracy: number;
  correct: number;
  total: number;
  counts: EvalResult['counts'];
  seconds: number;
  adapter: string;
  /** The full resolved config of this point. */
  config: XbarConfig;
  /** Cost per inference (DESIGN.md section 10 names); null when the config has no cost table; absent in lines of older runs. */
  cost?: CostFields | null;
}

// partitionAdds (array.partitions) came after the first sweeps were written: a line without it has none.
const countsShape = Object.fromEntries(COUNT_NAMES.map((k) => [k, k === 'partitionAdds' ? z.number().default(0) : z.number()])) as Record<keyof EventCounts, z.ZodNumber>;
const countsSchema = z.object(countsShape);
const lineSchema = z.object({
  id: z.string().min(1),
  preset: z.string(),
  point: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  chip: z.number().int().min(0),
  seed: z.number(),
  accuracy: z.number(),
  correct: z.number(),
  total: z.number(),
  counts: z.object({
    layers: z.array(countsSchema.extend({ name: z.string() })),
    total: countsSchema,
    vectors: z.number(),
  }),
  seconds: z.number(),
  adapter: z.string(),
  config: z.record(z.string(), z.unknown()),
  cost: z
    .object({ energyPerInference_J: z.number(), latency_s: z.number(), throughput_inferencesPerSecond: z.number().nullable(), area_mm2: z.number(), topsPerWatt: z.number(), topsPerMm2: z.number().nullable() })
    .nullable()
    .optional(),
});

function parseLine(text: string): ResultLine | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  // The parsed object itself is returned (not zod's copy) so every field survives a round trip.
  return lineSchema.safeParse(json).success ? (json as ResultLine) : undefined;
}

/** The readable content of a results file. */
export interface ResultsRead {
  /** Every complete, valid line in file order, later duplicates of an id dropped. */
  lines: ResultLine[];
  /** Length in bytes of the file's good prefix: everything after it is a broken last line. */
  goodBytes: number;
  /** Size of the file in bytes (0 if absent). */
  size: number;
}

/**
 * Reads a results file. A last line that is unterminated or does not parse (a write cut short
 * by a kill) is left out; a bad line anywhere else is a UsageError, since no run of ours can
 * produce one. Blank lines are skipped.
 */
export function readResultsFile(path: string): ResultsRead {
  if (!existsSync(path)) return { lines: [], goodBytes: 0, size: 0 };
  const buf = readFileSync(path);
  const lines: ResultLine[] = [];
  const seen = new Set<string>();
  let pos = 0;
  let lineNo = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    lineNo++;
    if (nl < 0) break; // unterminated: a partial last line
    const text = buf.subarray(pos, nl).toString('utf8');
    if (text.trim() !== '') {
      const line = parseLine(text);
      if (line === undefined) {
        if (nl + 1 >= buf.length) break; // a broken last line
        throw new UsageError(`${path}: line ${lineNo} is not a result line; remove it (or the file) to go on`);
      }
      if (!seen.has(line.id)) {
        seen.add(line.id);
        lines.push(line);
      }
    }
    pos = nl + 1;
  }
  return { lines, goodBytes: pos, size: buf.length };
}

/** Reads DIR/results.jsonl (see readResultsFile). */
export function readResults(dir: string): ResultsRead {
  return readResultsFile(join(dir, RESULTS_FILE));
}

/** Cuts a broken last line off DIR/results.jsonl, so appends start on a line boundary. */
export function repairResults(dir: string): ResultsRead {
  const r = readResults(dir);
  if (r.goodBytes < r.size) truncateSync(join(dir, RESULTS_FILE), r.goodBytes);
  return { ...r, size: r.goodBytes };
}

/**
 * Appends result lines to DIR/results.jsonl. Each line goes out in one write of a complete,
 * `\n`-terminated line followed by fsync, so a kill at any moment leaves at most one partial
 * last line, which readers ignore and the next resume cuts off.
 */
export class ResultsWriter {
  private fd: number | undefined;
  private closed = false;

  /** Appends to DIR/results.jsonl, opened (created if absent) at the first line, so a run that writes none leaves no empty file; call repairResults first. */
  constructor(private readonly dir: string) {}

  /** Appends one line and flushes it to the disk. */
  append(line: ResultLine): void {
    if (this.closed) throw new Error('results writer is closed');
    this.fd ??= openSync(join(this.dir, RESULTS_FILE), 'a');
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    let off = 0;
    // writeSync may write less than asked (rare, for large buffers); finish the line before fsync.
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    fsyncSync(this.fd);
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.closed = true;
  }
}

/** Writes a whole results file atomically (merge). */
export function writeResultsAtomic(dir: string, lines: readonly ResultLine[]): void {
  writeTextAtomic(join(dir, RESULTS_FILE), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

/** Whether DIR/results.jsonl exists and holds anything. */
export function hasResults(dir: string): boolean {
  const p = join(dir, RESULTS_FILE);
  return existsSync(p) && statSync(p).size > 0;
}
