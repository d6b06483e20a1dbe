import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { mergeSweeps } from '../sweep/run.ts';
import { checkOutDir } from '../sweep/outdir.ts';

/** Flags of `xbarsim merge`. */
export interface MergeFlags {
  out: string;
}

/** Runs `xbarsim merge --out MERGED DIR...`: combines shard folders of one sweep. */
export async function runMergeCommand(dirs: readonly string[], f: MergeFlags): Promise<void> {
  if (dirs.length === 0) throw new UsageError('merge: name at least one sweep folder');
  checkOutDir(f.out);
  const o = await mergeSweeps(dirs, f.out);
  const extra = [
    o.duplicates > 0 ? `${o.duplicates} duplicates dropped` : '',
    o.foreign > 0 ? `${o.foreign} lines of unknown tasks dropped` : '',
  ].filter((s) => s !== '');
  const missing = o.gridTasks - o.results;
  process.stderr.write(
    `xbarsim merge: ${o.results}/${o.gridTasks} evaluations${missing > 0 ? ` (${missing} missing)` : ''}${extra.length > 0 ? `, ${extra.join(', ')}` : ''} -> ${resolve(f.out)}\n`,
  );
}

/** Registers `xbarsim merge` on `program`. */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('combine sweep folders (shards of one sweep) into one, with its summary and report')
    .argument('<dirs...>', 'sweep folders written by xbarsim sweep (e.g. one per --shard)')
    .requiredOption('--out <dir>', 'merged folder (new, or holding the same sweep: its results are kept)')
    .action(async (dirs: string[], opts: MergeFlags) => runMergeCommand(dirs, opts));
}
