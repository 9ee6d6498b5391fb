/**
 * `npm run build`: bundles our own TypeScript (src/, from the CLI's entry) into dist/cpis.mjs, so the
 * service starts under plain Node instead of transpiling through tsx's loader hooks at every start.
 * Packages stay external (PGlite, nhsuk-frontend, oidc-provider and others load files relative to
 * themselves), but for a few pure-JavaScript ones (BUNDLED). Plain JavaScript, so it runs without tsx.
 *
 * dist/cpis.inputs.json lists the files the bundle was built from and when the build began. The bundle
 * is fresh while none of them has changed since: `npm start`'s prestart (`--if-stale`) rebuilds only
 * when it is not, and bin/cpis.mjs runs the bundle only when it is (the sources through tsx otherwise).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const BUNDLE = join(DIST, 'cpis.mjs');
const INPUTS = join(DIST, 'cpis.inputs.json');

/**
 * Pure-JavaScript packages of many small files, bundled in with our code (with what they import that
 * is not a dependency of ours): Node loads each file of a package separately. kysely and typebox took
 * about 200 ms of every start; @fastify/swagger loads yaml, 75 ms, while routes are registered.
 */
const BUNDLED = ['kysely', 'typebox', '@fastify/swagger'];

/** Besides the sources: what else makes a different bundle. */
const BUILD_INPUTS = [
  'package.json',
  // The versions of what the bundled packages import (yaml, for one) are only here.
  'package-lock.json',
  'tools/build.mjs',
  'node_modules/esbuild/package.json',
  ...BUNDLED.map((name) => `node_modules/${name}/package.json`),
];

/** The bundle's path if it is fresh (none of its inputs changed since its build began), else null. */
export function freshBundle() {
  try {
    const { startedAt, inputs } = JSON.parse(readFileSync(INPUTS, 'utf8'));
    if (typeof startedAt !== 'number' || !Array.isArray(inputs) || inputs.length === 0) return null;
    if (statSync(BUNDLE).mtimeMs < startedAt) return null;
    for (const input of inputs) if (statSync(join(ROOT, input)).mtimeMs >= startedAt) return null;
    return BUNDLE;
  } catch {
    return null; // no bundle, or an input gone
  }
}

/**
 * A module that finds files next to itself (`import.meta.url`) must still find them from dist/: its
 * `import.meta.url` becomes its source file's URL, reckoned from the bundle's own location.
 */
const sourceLocation = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(DIST, args.path).split('\\').join('/');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
        ),
        loader: 'ts',
      };
    });
  },
};

export async function buildBundle() {
  const startedAt = Date.now();
  const { build } = await import('esbuild');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => !BUNDLED.includes(name))
    .flatMap((name) => [name, `${name}/*`]);
  // Until the new bundle is complete, it is not fresh.
  await rm(INPUTS, { force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/main.ts'],
    outfile: BUNDLE,
    bundle: true,
    external,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Error types are logged by constructor name; bundling must not rename classes.
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceLocation],
    banner: {
      js: [
        '// Built by tools/build.mjs from src/ (npm run build); not edited by hand, not in git.',
        // The CommonJS packages bundled in (BUNDLED) require Node's own modules.
        "import { createRequire as __bundleCreateRequire } from 'node:module';",
        'const require = __bundleCreateRequire(import.meta.url);',
      ].join('\n'),
    },
  });
  const inputs = [
    ...Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/')),
    ...BUILD_INPUTS,
  ];
  await writeFile(INPUTS, `${JSON.stringify({ startedAt, inputs }, null, 1)}\n`);
  return { ms: Date.now() - startedAt, inputs: inputs.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!(process.argv.includes('--if-stale') && freshBundle())) {
    try {
      await buildBundle();
    } catch (err) {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    }
  }
}
