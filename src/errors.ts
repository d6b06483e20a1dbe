/** A problem with what the user asked for (flags, files, config): exit code 2, one line, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure while running (device lost, out of memory, shader rejected): exit code 1. */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
}

/** The message of any thrown value, on one line. */
export function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s*\n\s*/g, ' ').trim();
}
