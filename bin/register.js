// Lets Node run the TypeScript sources directly: tsx for .ts, a text hook for .wgsl.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./wgsl-hooks.js', import.meta.url);
