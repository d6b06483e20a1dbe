// Whether the precompiled CLI (dist/cli, scripts/build-cli.mjs) may run: it must exist and every
// source file it was built from must still hash the same. Hashes rather than mtimes: npm's tarballs
// reset mtimes, git checkouts rewrite them. Hashing the ~100 inputs costs about a millisecond.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The bundle's file URL when it is fresh for the sources under `root`, else null. */
export function builtEntry(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  if (!manifest || typeof manifest.inputs !== 'object' || manifest.inputs === null) return null;
  const same = (file, hash, required) => {
    let bytes;
    try {
      bytes = readFileSync(join(root, file));
    } catch {
      return !required;
    }
    return createHash('sha256').update(bytes).digest('hex') === hash;
  };
  for (const [file, hash] of Object.entries(manifest.inputs)) if (!same(file, hash, true)) return null;
  // Optional inputs (the lockfile) count only where the file exists: an installed package has none.
  for (const [file, hash] of Object.entries(manifest.optional ?? {})) if (!same(file, hash, false)) return null;
  return pathToFileURL(join(root, 'dist', 'cli', 'xbarsim.js')).href;
}
