#!/usr/bin/env node
// The `cpis` command. It runs the bundle that `npm start` and `npm run build` make (dist/cpis.mjs,
// plain Node, quick to start) while it is fresh: none of the files it was built from has changed
// since. Otherwise (no bundle, or sources edited since) it runs the TypeScript sources through tsx,
// as before: never an out-of-date build.
import { pathToFileURL } from 'node:url';
import { freshBundle } from '../tools/build.mjs';

const bundle = freshBundle();
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
