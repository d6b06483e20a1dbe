import { existsSync, lstatSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { folderRefusal } from '../io/atomic-write.ts';
import { SWEEP_FILE } from './definition.ts';
import { LOCK_DIR, LOCK_OWNER } from './lock.ts';
import { ACCURACY_SVG, REPORT_FILE } from './report.ts';
import { RESULTS_FILE } from './results.ts';
import { SUMMARY_FILE } from './summary.ts';

/** Every regular file a sweep or merge writes in its folder. */
export const SWEEP_OUTPUTS: readonly string[] = [SWEEP_FILE, RESULTS_FILE, SUMMARY_FILE, REPORT_FILE, ACCURACY_SVG];

/** A temp file of ours (io/atomic-write.ts `.<name>.tmp-<pid>-<n>`, or the older `<name>.tmp-<pid>`), left by a killed write. */
function isOurTemp(name: string): boolean {
  const m = /^\.?(.+?)\.tmp-\d+(-\d+)?$/.exec(name);
  return m !== null && (SWEEP_OUTPUTS.includes(m[1]) || m[1] === LOCK_OWNER);
}

/**
 * Files the system itself drops into any folder (Finder, Explorer, NFS's silly renames of files
 * replaced while open): never a sweep's name, so never overwritten, and no sign the folder is someone's.
 */
function isSystemFile(name: string): boolean {
  return name === '.DS_Store' || name === 'Thumbs.db' || name === 'desktop.ini' || /^\.nfs[0-9a-fA-F]+$/.test(name);
}

function writable(path: string): boolean {
  return folderRefusal(path) === null;
}

function kindOf(path: string): string {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a file';
  return 'a special file';
}

/**
 * Checks that an existing folder holds only what a sweep writes: its files (as regular files,
 * never symlinks that would send a write elsewhere), its lock, and temp files of killed writes.
 * Anything else means the folder is someone's, and a sweep would overwrite their report.html or
 * summary.csv: a one-line UsageError.
 */
export function checkSweepFolder(dir: string, flag = '--out'): void {
  const foreign: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === LOCK_DIR) {
      if (kindOf(path) !== 'a folder') throw new UsageError(`${flag} ${dir}: ${name} is ${kindOf(path)}, not a sweep lock; choose another folder`);
      continue;
    }
    if (SWEEP_OUTPUTS.includes(name) || name === LOCK_OWNER || isOurTemp(name)) {
      const kind = kindOf(path);
      if (kind !== 'a file') throw new UsageError(`${flag} ${dir}: ${name} is ${kind}; a sweep writes only plain files there (choose another folder)`);
      continue;
    }
    if (!isSystemFile(name)) foreign.push(name);
  }
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
    throw new UsageError(`${flag} ${dir}: holds files a sweep did not write (${shown}); choose an empty or new folder`);
  }
}

/** Removes temp files that killed writes left in a sweep folder (call with the folder's lock held). */
export function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) if (isOurTemp(name)) rmSync(join(dir, name), { force: true });
}

/**
 * Checks that `dir` can be a sweep output folder without creating anything: an existing
 * writable folder holding only a sweep's files, or a new name in an existing writable folder
 * (parents are not created, so a typo does not grow a tree of folders).
 */
export function checkOutDir(dir: string, flag = '--out'): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new UsageError(`${flag} ${dir}: is a file, not a folder`);
    if (!writable(abs)) throw new UsageError(`${flag} ${dir}: folder is not writable`);
    checkSweepFolder(abs, flag);
    return;
  }
  const parent = dirname(abs);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`${flag} ${dir}: folder ${parent} does not exist`);
  if (!writable(parent)) throw new UsageError(`${flag} ${dir}: cannot create it, folder ${parent} is not writable`);
}

/**
 * Refuses an input file that is one of the files the sweep writes into `dir` (e.g. `--config
 * DIR/sweep.json`): writing the sweep would replace it.
 */
export function checkInputsOutsideOutputs(dir: string, inputs: readonly { flag: string; path: string }[], flag = '--out'): void {
  let realDir: string;
  try {
    realDir = realpathSync(dir);
  } catch {
    return; // a new folder holds no input
  }
  for (const i of inputs) {
    let real: string;
    try {
      real = realpathSync(i.path);
    } catch {
      continue;
    }
    if (dirname(real) === realDir && (SWEEP_OUTPUTS.includes(basename(real)) || basename(real) === LOCK_OWNER)) {
      throw new UsageError(`${i.flag} ${i.path}: is a file that ${flag} ${dir} is written with; writing the sweep would replace it (copy it elsewhere first)`);
    }
  }
}
