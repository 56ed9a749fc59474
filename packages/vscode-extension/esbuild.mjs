// `npm run build`: bundles src/extension.ts and the part of core it uses into dist/extension.js
// (CommonJS, Node 20, `vscode` left to the extension host). tsc type-checks; this only bundles.
// Core is taken from its TypeScript sources, so the bundle never holds a stale core build.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const coreClient = join(here, '..', 'core', 'src', 'client.ts');
const production = process.argv.includes('--production');

/** `@profilegate/core/client` resolves to core's sources, never to its driver-loading main entry. */
const coreFromSource = {
  name: 'core-from-source',
  setup(build) {
    build.onResolve({ filter: /^@profilegate\/core(\/.*)?$/ }, (args) => {
      if (args.path !== '@profilegate/core/client') {
        return {
          errors: [
            { text: `Import ${args.path} pulls database drivers into the bundle; import @profilegate/core/client` },
          ],
        };
      }
      return { path: coreClient };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Core's optional native prefilter is not bundled: the extension scans files in JavaScript.
  external: ['vscode', '@profilegate/native-scan'],
  sourcemap: true,
  sourcesContent: false,
  minify: production,
  metafile: true,
  logLevel: 'warning',
  plugins: [coreFromSource],
});

// The bundle must hold our code and core only: a package from node_modules would mean a
// dependency (maybe a native one) slipped in through core's client entry.
const foreign = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules'));
if (foreign.length > 0) {
  console.error(`dist/extension.js would bundle packages from node_modules: ${foreign.join(', ')}`);
  process.exit(1);
}
const bytes = result.metafile.outputs['dist/extension.js']?.bytes ?? 0;
console.log(
  `dist/extension.js: ${(bytes / 1024).toFixed(1)} KiB from ${Object.keys(result.metafile.inputs).length} modules`,
);
