/** dist/cli: where `npm run build` writes the bundle. */
export const OUT_DIR: string;
export const ENTRY: string;
/** sha256 of a file's bytes, hex. */
export function fileHash(path: string): string;
/** Builds the CLI bundle into `outDir` (two folders below the root); false when esbuild is not installed. */
export function buildCli(outDir?: string): Promise<boolean>;
