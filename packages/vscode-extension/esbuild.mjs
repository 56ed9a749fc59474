// `npm run build`: bundles src/extension.ts and the part of @profilegate/client it uses into
// dist/extension.js (CommonJS, Node 20, `vscode` left to the extension host). tsc type-checks;
// this only bundles. The client is taken from its TypeScript sources, so the bundle never holds a
// stale client build.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const clientEntry = join(here, '..', 'client', 'src', 'index.ts');
const production = process.argv.includes('--production');

/** `@profilegate/client` resolves to its sources; core (the server, with its drivers) is refused. */
const clientFromSource = {
  name: 'client-from-source',
  setup(build) {
    build.onResolve({ filter: /^@profilegate\/client$/ }, () => ({ path: clientEntry }));
    build.onResolve({ filter: /^@profilegate\/core(\/.*)?$/ }, (args) => ({
      errors: [
        {
          text: `Import ${args.path} pulls the server and its database drivers into the bundle; import @profilegate/client`,
        },
      ],
    }));
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
  // The client's optional native prefilter is not bundled: the extension scans files in JavaScript.
  external: ['vscode', '@profilegate/native-scan'],
  sourcemap: true,
  sourcesContent: false,
  minify: production,
  metafile: true,
  logLevel: 'warning',
  plugins: [clientFromSource],
});

// The bundle must hold our code and the client only: a package from node_modules would mean a
// dependency (maybe a native one) slipped in through the client.
const foreign = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules'));
if (foreign.length > 0) {
  console.error(`dist/extension.js would bundle packages from node_modules: ${foreign.join(', ')}`);
  process.exit(1);
}
const bytes = result.metafile.outputs['dist/extension.js']?.bytes ?? 0;
console.log(
  `dist/extension.js: ${(bytes / 1024).toFixed(1)} KiB from ${Object.keys(result.metafile.inputs).length} modules`,
);
