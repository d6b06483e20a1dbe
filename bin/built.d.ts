/** The precompiled CLI's file URL when it is fresh for the sources under `root`, else null. */
export function builtEntry(root: string): string | null;
