// Output files: checked before any work (where they really go, that they are not an input or each
// other, that their folder takes a new file), then written all or none through temp files and
// renames, so a reader never sees half a file and a failure leaves nothing new behind.
import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

/** An output file named on the command line, checked by checkOutputs. */
export interface OutputFile {
  /** The flag that named it (`--out`, `--counts`), for messages. */
  flag: string;
  /** The path as given. */
  path: string;
  /** How messages name it: `--out Y.npy`, or the path itself. */
  what: string;
  /** Where the bytes go: the path with every symlink and `..` resolved (writes go through links). */
  target: string;
  /** `file`: a new or regular file, replaced atomically; `device`: a character device (/dev/null) written in place, never replaced. */
  kind: 'file' | 'device';
}

/** An input file named on the command line (compared with the outputs). */
export interface InputFile {
  flag: string;
  path: string;
}

/** Symlink hops followed before giving up (Linux's own limit is 40). */
const MAX_LINKS = 40;

function code(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

function reason(e: unknown): string {
  switch (code(e)) {
    case 'ENOENT':
      return 'folder does not exist';
    case 'ENOTDIR':
      return 'a parent path is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function fail(what: string, msg: string): never {
  throw new UsageError(`${what}: ${msg}`.replace(/\s*[\r\n]+\s*/g, ' '));
}

/**
 * The file that writing `path` would really create or replace: symlinks followed (a dangling one
 * to where it points) and the folder resolved physically, as the kernel does, so `a/link/../x`
 * and a second name for the same file compare equal.
 */
function resolveTarget(path: string, what: string): string {
  if (path === '' || path.endsWith('/')) fail(what, 'is a folder, not a file path');
  let p = path;
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if (code(e) !== 'ENOENT') fail(what, `cannot write: ${reason(e)}`);
      let dir: string;
      try {
        dir = realpathSync(dirname(p));
      } catch (e2) {
        fail(what, `cannot write: directory does not exist (${dirname(resolve(p))}${code(e2) === 'ENOENT' ? '' : `: ${reason(e2)}`})`);
      }
      return join(dir, basename(p));
    }
    if (!st.isSymbolicLink()) {
      try {
        return realpathSync(p);
      } catch (e) {
        fail(what, `cannot write: ${reason(e)}`);
      }
    }
    const link = readlinkSync(p);
    // String concatenation, not path.join: `..` after a link must be resolved by the kernel.
    p = isAbsolute(link) ? link : `${dirname(p)}/${link}`;
  }
  fail(what, 'too many levels of symbolic links');
}

/** The (device, inode) of an existing file, to catch hard links; undefined if it does not exist. */
function identity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

let tempCounter = 0;

/** A fresh temp name beside `target`; `.tmp-` marks it as ours. */
function tempName(target: string): string {
  tempCounter++;
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${tempCounter}`);
}

/**
 * Why the folder `dir` cannot take a new file, or null if it can: proved by creating and removing
 * one, since access() answers for root as if every permission bit were set, and misses ACLs.
 */
export function folderRefusal(dir: string): string | null {
  const tmp = tempName(join(dir, 'probe'));
  try {
    closeSync(openSync(tmp, 'wx'));
  } catch (e) {
    return reason(e);
  }
  unlinkSync(tmp);
  return null;
}

function probeFolder(target: string, what: string): void {
  const why = folderRefusal(dirname(target));
  if (why !== null) fail(what, `cannot write in folder ${dirname(target)}: ${why}`);
}

/** Checks one output path before any work; see checkOutputs. */
export function checkOutput(flag: string, path: string): OutputFile {
  const what = flag === '' ? path : `${flag} ${path}`;
  const target = resolveTarget(path, what);
  let st: Stats | undefined;
  try {
    st = statSync(target);
  } catch (e) {
    if (code(e) !== 'ENOENT') fail(what, `cannot write: ${reason(e)}`);
  }
  if (st?.isDirectory()) fail(what, 'is a folder');
  if (st?.isCharacterDevice()) {
    try {
      closeSync(openSync(target, 'r+'));
    } catch (e) {
      fail(what, `cannot write: ${reason(e)}`);
    }
    return { flag, path, what, target, kind: 'device' };
  }
  if (st !== undefined && !st.isFile()) fail(what, 'is not a regular file (a FIFO, socket or block device); give a file path');
  if (st !== undefined) {
    try {
      closeSync(openSync(target, 'r+'));
    } catch (e) {
      fail(what, `file is not writable: ${reason(e)}`);
    }
  }
  probeFolder(target, what);
  return { flag, path, what, target, kind: 'file' };
}

/**
 * Checks every output before any work: each must resolve (through symlinks and `..`) to a new or
 * regular file, or a character device such as /dev/null, in a folder that takes a new file; none
 * may be an input or another output (same resolved path or same inode). Throws a one-line
 * UsageError naming the flags; creates nothing.
 */
export function checkOutputs(outputs: readonly InputFile[], inputs: readonly InputFile[]): OutputFile[] {
  const checked = outputs.map((o) => checkOutput(o.flag, o.path));
  const inputIds = inputs.map((i) => {
    let real: string | undefined;
    try {
      real = realpathSync(i.path);
    } catch {
      real = undefined; // a missing input is reported when it is read
    }
    return { ...i, real, id: identity(i.path) };
  });
  checked.forEach((o, k) => {
    if (o.kind === 'device') return; // /dev/null twice, or as an input, destroys nothing
    const id = identity(o.target);
    for (const i of inputIds) {
      if (i.real === o.target || (id !== undefined && id === i.id)) {
        fail(o.what, `is the same file as ${i.flag} ${i.path}; writing it would destroy the input (choose another path)`);
      }
    }
    for (const other of checked.slice(0, k)) {
      if (other.target === o.target || (id !== undefined && id === identity(other.target))) {
        fail(o.what, `is the same file as ${other.what}; give each output its own path`);
      }
    }
  });
  return checked;
}

/** A file to write and its bytes. */
export interface PendingWrite {
  out: OutputFile;
  data: Uint8Array | string;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Writes every file or none: each goes to a temp file beside its target first (flushed to the
 * disk, with the replaced file's permissions); only when all are written are they renamed into
 * place, so a failure (a full disk) leaves nothing new. Devices are written last, in place.
 * Failures are one-line UsageErrors naming the flag.
 */
export function writeOutputs(files: readonly PendingWrite[]): void {
  const staged: { tmp: string; out: OutputFile }[] = [];
  try {
    for (const { out, data } of files) {
      if (out.kind === 'device') continue;
      const tmp = tempName(out.target);
      let fd: number | undefined;
      try {
        fd = openSync(tmp, 'wx');
        staged.push({ tmp, out });
        try {
          fchmodSync(fd, statSync(out.target).mode & 0o7777);
        } catch {
          // a new file keeps the default permissions
        }
        writeAll(fd, toBytes(data));
        fsyncSync(fd);
      } catch (e) {
        fail(out.what, `cannot write: ${reason(e)}`);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    for (const s of staged) {
      // A non-regular file may have appeared meanwhile: rename must never replace one.
      const st = existsSync(s.out.target) ? lstatSync(s.out.target) : undefined;
      if (st !== undefined && !st.isFile()) fail(s.out.what, 'is no longer a regular file; not replaced');
    }
    for (const s of staged.splice(0)) {
      try {
        renameSync(s.tmp, s.out.target);
      } catch (e) {
        staged.push(s);
        fail(s.out.what, `cannot write: ${reason(e)}`);
      }
    }
  } finally {
    for (const s of staged) {
      try {
        unlinkSync(s.tmp);
      } catch {
        // never created, or already renamed
      }
    }
  }
  for (const { out, data } of files) {
    if (out.kind !== 'device') continue;
    let fd: number | undefined;
    try {
      fd = openSync(out.target, 'w');
      writeAll(fd, toBytes(data));
    } catch (e) {
      fail(out.what, `cannot write: ${reason(e)}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/**
 * Writes text to `path` through a temp file and a rename, so readers never see a half-written
 * file; a symlink is written through, and a folder or non-regular file is never replaced.
 */
export function writeTextAtomic(path: string, text: string, what = path): void {
  writeFileAtomic(path, text, what);
}

/** writeTextAtomic for bytes; failures are one-line UsageErrors starting with `what`. */
export function writeFileAtomic(path: string, data: Uint8Array | string, what = path): void {
  const target = resolveTarget(path, what);
  let st: Stats | undefined;
  try {
    st = statSync(target);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) fail(what, 'cannot write: is a directory');
  const kind = st?.isCharacterDevice() === true ? 'device' : 'file';
  if (st !== undefined && !st.isFile() && kind !== 'device') fail(what, 'is not a regular file (a FIFO, socket or block device); not replaced');
  writeOutputs([{ out: { flag: '', path, what, target, kind }, data }]);
}
