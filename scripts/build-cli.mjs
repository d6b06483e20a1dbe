#!/usr/bin/env node
// npm run build (also `prepare`, so npm ci / npm install / npm pack run it): bundles the CLI's
// TypeScript, WGSL and pure-JS packages into dist/cli/xbarsim.js with esbuild, so `xbarsim` starts
// without transpiling ~100 modules through tsx or resolving ~200 package files on every run (half
// the module-loading time of an external-packages bundle). Dawn (a native addon) and Vega (large,
// loaded only to draw a report) stay in node_modules. dist/cli/manifest.json records a hash of every
// source file the bundle was built from; bin/xbarsim.js runs the bundle only while they all match,
// else the sources through tsx, so an edited checkout never runs stale code.
//
// Plain JavaScript on purpose: `prepare` must work before anything else is set up. If esbuild cannot
// be loaded (an install without it), the build is skipped with a note and the CLI runs from source.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The bundle sits two folders below the root, as src/cli/main.ts does, so the sources'
// `new URL('../../…', import.meta.url)` references (package.json, models/) resolve the same.
export const OUT_DIR = join(ROOT, 'dist', 'cli');
export const ENTRY = 'src/cli/main.ts';
/** Packages left in node_modules: a native addon, and Vega (large; only `sweep`'s report loads it). */
const EXTERNAL = ['webgpu', 'vega', 'vega-lite'];

/** sha256 of a file's bytes, hex. */
export function fileHash(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** esbuild plugin: `import text from './x.wgsl?raw'` is the file's text, as Vite and bin/wgsl-hooks.js give it. */
const wgslRaw = {
  name: 'wgsl-raw',
  setup(b) {
    b.onResolve({ filter: /\.wgsl\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.replace(/\?raw$/, '')), namespace: 'wgsl-raw' }));
    b.onLoad({ filter: /.*/, namespace: 'wgsl-raw' }, (a) => ({ contents: readFileSync(a.path, 'utf8'), loader: 'text', watchFiles: [a.path] }));
  },
};

/** Every `new URL('<relative>', import.meta.url)` in the bundle must name something that exists. */
function checkRelativeUrls(bundle, file) {
  const bad = [];
  for (const m of bundle.matchAll(/new URL\(\s*["'](\.\.?\/[^"']*)["']\s*,\s*import\.meta\.url\s*\)/g)) {
    if (!existsSync(fileURLToPath(new URL(m[1], pathToFileURL(file))))) bad.push(m[1]);
  }
  if (bad.length) throw new Error(`build: ${relative(ROOT, file)} refers to ${bad.join(', ')}, which do not exist relative to it`);
}

/**
 * Builds the bundle into `outDir` (default dist/cli; it must sit two folders below the root) and
 * swaps it in whole; returns false (with a note on stderr) when esbuild is not installed.
 */
export async function buildCli(outDir = OUT_DIR) {
  if (relative(ROOT, outDir).split(/[\\/]/).length !== 2) throw new Error(`build: ${outDir} must be two folders below ${ROOT}`);
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('xbarsim build: esbuild is not installed; skipped (the CLI runs its TypeScript sources through tsx)\n');
    return false;
  }
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const outfile = join(tmp, 'xbarsim.js');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // Bundled CommonJS packages call require(); give the ES module one.
    banner: { js: "import { createRequire as __xbarsimCreateRequire } from 'node:module'; const require = __xbarsimCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [wgslRaw],
  });
  const inputs = {};
  for (const p of Object.keys(result.metafile.inputs)) {
    const file = p.startsWith('wgsl-raw:') ? relative(ROOT, p.slice('wgsl-raw:'.length)) : p;
    // Bundled packages are the bundle's own copies: it does not depend on node_modules staying put.
    if (file.split(/[\\/]/).includes('node_modules')) continue;
    inputs[file] = fileHash(join(ROOT, file));
  }
  // Inputs that change what the bundle means without being part of it.
  for (const f of ['package.json', 'bin/xbarsim.js', 'scripts/build-cli.mjs']) inputs[f] = fileHash(join(ROOT, f));
  // Checked only where present: an installed package has no lockfile, a checkout that changed its
  // packages (npm install <pkg>) must rebuild to pick them up.
  const optional = {};
  if (existsSync(join(ROOT, 'package-lock.json'))) optional['package-lock.json'] = fileHash(join(ROOT, 'package-lock.json'));
  checkRelativeUrls(readFileSync(outfile, 'utf8'), join(outDir, 'xbarsim.js'));
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify({ entry: ENTRY, esbuild: esbuild.version, inputs, optional }, null, 1)}\n`);
  // Swap the folder in whole, so a concurrent `xbarsim` sees the old build or the new one, never half.
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // --if-possible (the `prepare` hook): a failed build is a warning, not a failed `npm ci`; the CLI
  // then runs from source, which is always correct, only slower to start.
  const lenient = process.argv.includes('--if-possible');
  try {
    if (await buildCli()) process.stderr.write(`xbarsim build: ${relative(ROOT, join(OUT_DIR, 'xbarsim.js'))}\n`);
  } catch (e) {
    process.stderr.write(`xbarsim build: ${lenient ? 'warning: ' : ''}${e instanceof Error ? e.message : String(e)}\n`);
    if (!lenient) process.exit(1);
  }
}
