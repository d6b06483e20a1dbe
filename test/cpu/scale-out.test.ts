// examples/ (issue 16 item 7): the shard and merge scripts that the Slurm array job and the
// Kubernetes Indexed Job run, exercised as those schedulers run them: three shard processes at the
// same time (Slurm's and Kubernetes' index variables), each into its own folder, then the merge,
// which must give the unsharded run's lines and summary. The real CLI and evaluator, on the CPU
// reference (six processes at once would only fight over one software GPU).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerSweepCommands } from '../../src/cli/sweep.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { BIN } from '../helpers/cli.ts';
import { comparableResults } from '../helpers/sweep-results.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { mlpModel } from '../helpers/onnx-models.ts';
import { randomArray } from '../helpers/random.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const XBARSIM = `${process.execPath} ${BIN}`;
const RUN_SHARD = join(ROOT, 'examples/run-shard.sh');
const MERGE = join(ROOT, 'examples/merge-shards.sh');

interface Done {
  code: number | null;
  stderr: string;
}

function sh(script: string, args: string[], env: Record<string, string>): Promise<Done> {
  return new Promise((res) => {
    const child = spawn('sh', [script, ...args], { cwd: ROOT, env: { ...process.env, XBARSIM, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stderr }));
  });
}

describe('examples/: shards as cluster array tasks, then the merge', () => {
  const dir = tempDir();
  const model = join(dir, 'mlp.onnx');
  writeFileSync(model, mlpModel().bytes);
  const X = writeNpy(dir, 'X.npy', [40, 12], randomArray(480, 5, 0, 1));
  const y = join(dir, 'y.npy');
  writeFileSync(y, encodeNpy([40], '<f4', Float32Array.from({ length: 40 }, (_, i) => (i * 7) % 10)));
  const cfg = join(dir, 'cfg.json');
  writeFileSync(cfg, JSON.stringify({ calibration: { samples: 16 }, noise: { read: { sigma: 0.02 } } }));
  // 2 presets × 3 sigmas × 2 chips = 12 evaluations, 4 per shard.
  const sweep = ['--model', model, '--inputs', X, '--labels', y, '--preset', 'isaac', '--preset', 'neural-pim', '--config', cfg, '--vary', 'noise.programming.sigma=0,0.05,0.1', '--chips', '2', '--backend', 'cpu'];
  const whole = join(dir, 'whole');

  it('three Slurm array tasks and three Kubernetes Indexed Job pods at once, each merged, equal the unsharded run', async () => {
    const slurm = join(dir, 'slurm');
    const k8s = join(dir, 'k8s');
    const runs = await Promise.all([
      // Slurm: --array=1-3 sets SLURM_ARRAY_TASK_ID, _MIN and _COUNT.
      ...[1, 2, 3].map((i) => sh(RUN_SHARD, [slurm, ...sweep], { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' })),
      // Kubernetes: an Indexed Job sets JOB_COMPLETION_INDEX from 0; the manifest sets SHARD_COUNT.
      ...[0, 1, 2].map((k) => sh(RUN_SHARD, [k8s, ...sweep], { JOB_COMPLETION_INDEX: String(k), SHARD_COUNT: '3' })),
    ]);
    runs.forEach((r, i) => expect(r.code, `shard process ${i}: ${r.stderr}`).toBe(0));
    for (const d of [slurm, k8s]) expect(readdirSync(d).sort()).toEqual(['shard-1', 'shard-2', 'shard-3']);
    const ref = spawnSync(process.execPath, [BIN, 'sweep', ...sweep, '--out', whole], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect(ref.status, ref.stderr).toBe(0);
    for (const d of [slurm, k8s]) {
      const m = await sh(MERGE, [d], {});
      expect(m.code, m.stderr).toBe(0);
      expect(m.stderr).toContain('12/12 evaluations');
      expect(comparableResults(join(d, 'merged'))).toEqual(comparableResults(whole));
      expect(readFileSync(join(d, 'merged', 'summary.csv'), 'utf8')).toBe(readFileSync(join(whole, 'summary.csv'), 'utf8'));
    }
  }, 600_000);

  it('a requeued shard resumes its folder instead of failing', async () => {
    const r = await sh(RUN_SHARD, [join(dir, 'slurm'), ...sweep], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' });
    expect(r.code, r.stderr).toBe(0);
    expect(comparableResults(join(dir, 'slurm', 'shard-2'))).toHaveLength(4);
  }, 300_000);

  it('without an index or a count the script says what to set, exit 2', async () => {
    const none = await sh(RUN_SHARD, [join(dir, 'x'), ...sweep], { SLURM_ARRAY_TASK_ID: '', JOB_COMPLETION_INDEX: '', SHARD_INDEX: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no shard index: set SHARD_INDEX/);
    const noCount = await sh(RUN_SHARD, [join(dir, 'x'), ...sweep], { JOB_COMPLETION_INDEX: '0', SHARD_COUNT: '' });
    expect(noCount.code).toBe(2);
    expect(noCount.stderr).toMatch(/no shard count/);
  });
});

/** The sweep flags a job file passes to run-shard.sh, and its shard count. */
function slurmJob(): { flags: string[]; shards: number } {
  const text = readFileSync(join(ROOT, 'examples/slurm/sweep.sbatch'), 'utf8');
  const array = /^#SBATCH --array=1-(\d+)\s*$/m.exec(text);
  const call = /^exec examples\/run-shard\.sh "\$RESULTS" ((?:.*\\\n)*.*)$/m.exec(text);
  expect(array && call, 'sweep.sbatch: an --array=1-N line and an exec examples/run-shard.sh call').toBeTruthy();
  return { flags: call![1].replace(/\\\n/g, ' ').trim().split(/\s+/), shards: Number(array![1]) };
}

function kubernetesJob(): { flags: string[]; shards: number } {
  const text = readFileSync(join(ROOT, 'examples/kubernetes/sweep-job.yaml'), 'utf8');
  const completions = /^\s+completions: (\d+)/m.exec(text);
  const count = /- name: SHARD_COUNT\s+value: "(\d+)"/.exec(text);
  const command = /command:\n((?:\s+- .*\n)+)/.exec(text);
  expect(completions && count && command, 'sweep-job.yaml: completions, SHARD_COUNT and a command list').toBeTruthy();
  expect(Number(count![1]), 'SHARD_COUNT must equal completions').toBe(Number(completions![1]));
  const items = command![1].trim().split('\n').map((l) => l.trim().replace(/^- /, '').replace(/^"(.*)"$/, '$1'));
  expect(items.slice(0, 2)).toEqual(['examples/run-shard.sh', '/results']);
  return { flags: items.slice(2), shards: Number(completions![1]) };
}

/** Checks `flags` as `xbarsim sweep` would, without running anything (the evaluator is never made). */
async function plans(flags: string[]): Promise<boolean> {
  class Planned extends Error {}
  const program = new Command('xbarsim').exitOverride();
  registerSweepCommands(program, async () => {
    throw new Planned();
  });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  const err = process.stderr.write;
  process.stderr.write = () => true;
  try {
    await program.parseAsync(['sweep', ...flags, '--shard', '1/8', '--out', join(tempDir(), 'plan')], { from: 'user' });
  } catch (e) {
    if (e instanceof Planned) return true;
    throw e;
  } finally {
    process.stderr.write = err;
  }
  return false;
}

describe('examples/: the job files run the scripts with a valid sweep', () => {
  it('Slurm: an array of N tasks, each run-shard.sh with valid sweep flags; merge after it', async () => {
    const job = slurmJob();
    expect(job.shards).toBeGreaterThan(1);
    expect(await plans(job.flags)).toBe(true);
    expect(readFileSync(join(ROOT, 'examples/slurm/merge.sbatch'), 'utf8')).toMatch(/^exec examples\/merge-shards\.sh /m);
    expect(readFileSync(join(ROOT, 'examples/slurm/submit.sh'), 'utf8')).toMatch(/--dependency="afterok:/);
  });

  it('Kubernetes: an Indexed Job whose SHARD_COUNT is its completions, the same sweep as Slurm; a merge Job', async () => {
    const job = kubernetesJob();
    expect(readFileSync(join(ROOT, 'examples/kubernetes/sweep-job.yaml'), 'utf8')).toMatch(/completionMode: Indexed/);
    expect(job.flags).toEqual(slurmJob().flags);
    expect(await plans(job.flags)).toBe(true);
    expect(readFileSync(join(ROOT, 'examples/kubernetes/merge-job.yaml'), 'utf8')).toMatch(/command: \[examples\/merge-shards\.sh, \/results\]/);
  });
});
