// Test-only entry point: `xbarsim sweep` / `xbarsim merge` exactly as registered for the real
// CLI, with the fake evaluator injected and main.ts's error-to-exit-code mapping, so tests can
// kill and resume real processes without a model, a dataset or a GPU.
// Run: node --import ./bin/register.js test/helpers/sweep-child.ts sweep ...
// Env: XBARSIM_FAKE_SLEEP_MS (per evaluation), XBARSIM_FAKE_IMAGES (images per evaluation).
import { Command, CommanderError } from 'commander';
import { registerSweepCommands } from '../../src/cli/sweep.ts';
import { UsageError, messageOf } from '../../src/errors.ts';
import { FakeEvaluator } from './fake-evaluator.ts';

const program = new Command('xbarsim')
  .exitOverride()
  .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
registerSweepCommands(program, async () => {
  return new FakeEvaluator({
    sleepMs: Number(process.env.XBARSIM_FAKE_SLEEP_MS ?? '0'),
    images: Number(process.env.XBARSIM_FAKE_IMAGES ?? '50'),
  });
});
for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });

try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
  process.exitCode = 0;
} catch (e) {
  if (e instanceof CommanderError && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code)) {
    process.exitCode = 0;
  } else if (e instanceof CommanderError) {
    process.stderr.write(`xbarsim: ${e.message.replace(/^error: /, '').split('\n')[0]}\n`);
    process.exitCode = 2;
  } else if (e instanceof UsageError) {
    process.stderr.write(`xbarsim: ${messageOf(e)}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`xbarsim: error: ${messageOf(e)}\n`);
    process.exitCode = 1;
  }
}
