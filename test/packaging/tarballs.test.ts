/**
 * The packages as an outside user gets them (issue 17): `npm pack` of every publishable workspace
 * (from the root package.json's `workspaces`), the tarballs installed into fresh apps in a
 * temporary folder, offline from the npm cache where it can. Then: the CLI runs from an app that
 * installed only it and what it depends on, and that app holds no database driver or JWT library;
 * a strict TypeScript consumer (`skipLibCheck: false`) type-checks against the published
 * declarations; the middleware serves real requests in an Express 5 and an Express 4 host app,
 * from CommonJS and from ESM.
 *
 * Its own suite in `npm test` (scripts/run-tests.mjs), left out of the root .mocharc.json: it
 * packs and installs, so it takes a minute or two. Run it alone with
 * `npx tsc -b && npx mocha --no-config --exit 'test/dist/packaging/**\/*.test.js'`.
 * PROFILEGATE_KEEP_TARBALL_APPS=1 keeps the apps and prints where they are.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ROOT,
  npmInstall,
  packWorkspaces,
  packagesInTree,
  publishableWorkspaces,
  readJson,
  run,
  tail,
  typedEntries,
  installPlan,
  nonOptionalNames,
  writeAppManifest,
  type InstallPlan,
  type Manifest,
  type Workspace,
} from './tarball-apps';

const FIXTURES = join(ROOT, 'test', 'packaging', 'fixtures');
const CLI = '@profilegate/cli';
/** What the CLI must not bring along: a native build, a database driver, a JWT library. */
const SERVER_ONLY = ['better-sqlite3', 'pg', 'jsonwebtoken'];

const middlewareDev = readJson<Manifest>(join(ROOT, 'packages', 'middleware', 'package.json')).devDependencies ?? {};
const rootDev = readJson<Manifest>(join(ROOT, 'package.json')).devDependencies ?? {};
/** The Express releases the repo's own tests run on, so the npm cache holds them. */
const EXPRESS_5 = middlewareDev['express'] as string;
const EXPRESS_4 = (middlewareDev['express4'] ?? '').replace(/^npm:/, '');
/** What a TypeScript host app installs beside Express, whatever it uses of Profilegate. */
const CONSUMER_TYPES = {
  '@types/express': middlewareDev['@types/express'] as string,
  '@types/node': rootDev['@types/node'] as string,
};

const seconds = (value: number) => `${value.toFixed(1)} s`;

describe('tarballs: every publishable workspace packed and installed into fresh apps', function () {
  const keep = process.env['PROFILEGATE_KEEP_TARBALL_APPS'] === '1';
  const started = performance.now();
  let work: string;
  let workspaces: Workspace[];
  let tarballs: Map<string, string>;

  before(async function () {
    this.timeout(60_000);
    work = mkdtempSync(join(tmpdir(), 'profilegate-tarballs-'));
    workspaces = publishableWorkspaces();
    const packing = performance.now();
    tarballs = await packWorkspaces(workspaces, join(work, 'tarballs'));
    console.log(`      packed ${[...tarballs.keys()].join(', ')} in ${seconds((performance.now() - packing) / 1000)}`);
  });

  after(function () {
    console.log(`      tarball suite: ${seconds((performance.now() - started) / 1000)} in all`);
    if (!work) return;
    if (keep) console.log(`      apps kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  /** A new app folder whose package.json wants the workspaces of `plan` (as tarballs) and `registry`. */
  function newApp(name: string, plan: InstallPlan, registry: Record<string, string> = {}): string {
    const app = join(work, name);
    mkdirSync(app);
    const specs = (list: readonly Workspace[]) =>
      Object.fromEntries(list.map((w) => [w.manifest.name, `file:${tarballs.get(w.manifest.name)}`]));
    writeAppManifest(app, name, { ...specs(plan.required), ...registry }, specs(plan.optional));
    return app;
  }

  const names = (plan: InstallPlan) =>
    [...plan.required.map((w) => w.manifest.name), ...plan.optional.map((w) => `${w.manifest.name} (optional)`)].join(
      ', ',
    );

  describe('the CLI, from an app that installed only its tarball and what it depends on', function () {
    let app: string;
    let version: string;

    before(async function () {
      this.timeout(600_000);
      const plan = installPlan([CLI], workspaces);
      assert.equal(plan.required[0]?.manifest.name, CLI, `${CLI} is not a publishable workspace`);
      version = plan.required[0].manifest.version;
      app = newApp('cli-app', plan);
      const installed = await npmInstall(app);
      console.log(
        `      CLI tarball install: ${seconds(installed.seconds)} (npm install ${installed.mode} of ` +
          `${names(plan)}; ${installed.summary})`,
      );
    });

    it('`npx profilegate --help` exits 0 and lists the commands', async function () {
      const help = await run('npx', ['--offline', 'profilegate', '--help'], app);
      assert.equal(help.code, 0, tail(help.stderr));
      assert.match(help.stdout, /^Usage: profilegate /m);
      for (const command of ['token', 'settings', 'batch', 'audit'])
        assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    });

    it('`profilegate --version` exits 0 and prints the package version', async function () {
      const shown = await run(join(app, 'node_modules', '.bin', 'profilegate'), ['--version'], app);
      assert.equal(shown.code, 0, tail(shown.stderr));
      assert.equal(shown.stdout.trim(), version);
    });

    it(`holds no ${SERVER_ONLY.join(', ')} in its installed dependency tree`, async function () {
      this.timeout(60_000);
      const listed = await run('npm', ['ls', '--all', '--json'], app);
      assert.ok(listed.stdout, tail(listed.stderr));
      const installed = packagesInTree(JSON.parse(listed.stdout));
      const unwanted = SERVER_ONLY.filter((name) => installed.has(name));
      const why = await Promise.all(unwanted.map((name) => run('npm', ['explain', name], app)));
      assert.deepEqual(
        unwanted.map((name) => installed.get(name)),
        [],
        `the CLI's install holds server packages:\n${why.map((w) => w.stdout.trim()).join('\n\n')}`,
      );
    });
  });

  describe('a host app with every tarball', function () {
    let app: string;

    before(async function () {
      this.timeout(600_000);
      const plan = installPlan(nonOptionalNames(workspaces), workspaces);
      const registry = { express: EXPRESS_5, ...CONSUMER_TYPES };
      app = newApp('host-app', plan, registry);
      for (const fixture of ['exercise.cjs', 'host.cjs', 'host.mjs'])
        copyFileSync(join(FIXTURES, fixture), join(app, fixture));
      const installed = await npmInstall(app);
      console.log(
        `      host app install: ${seconds(installed.seconds)} (npm install ${installed.mode} of ${names(plan)}, ` +
          `${Object.entries(registry)
            .map(([name, version]) => `${name}@${version}`)
            .join(', ')}; ${installed.summary})`,
      );
    });

    /** Runs one host script in the app and returns the JSON line it printed. */
    async function host(script: string): Promise<HostResult> {
      const ran = await run(process.execPath, [script], app);
      assert.equal(ran.code, 0, `node ${script} failed:\n${tail(ran.stderr)}`);
      return JSON.parse(ran.stdout) as HostResult;
    }

    function assertServed(result: HostResult, major: number): void {
      const { module: _module, express, ...checks } = result;
      assert.equal(Number(express.split('.')[0]), major, `the app runs express ${express}`);
      assert.deepEqual(checks, {
        openapi: { status: 200, version: '3.1.0' },
        token: { status: 201, issued: true },
        batch: { status: 200, success: true, batchStatus: 'complete' },
        profile: { status: 200, city: 'Oslo, Norway' },
        hostRoute: { withToken: 200, without: 401 },
      });
    }

    it('type-checks a strict TypeScript consumer of the public API (skipLibCheck: false, node16)', async function () {
      this.timeout(120_000);
      const entries = typedEntries(workspaces);
      console.log(`      entries: ${entries.join(', ')}`);
      writeStrictConsumer(app, entries);
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const checked = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], app);
      assert.equal(checked.code, 0, `tsc found errors in the published declarations:\n${tail(checked.stdout, 40)}`);
    });

    describe(`on Express 5 (express@${EXPRESS_5})`, function () {
      it('serves real requests from a CommonJS host (require)', async function () {
        assertServed(await host('host.cjs'), 5);
      });

      it('serves real requests from an ES module host (import)', async function () {
        assertServed(await host('host.mjs'), 5);
      });
    });

    describe(`on Express 4 (${EXPRESS_4}, installed over Express 5: the peer dependency follows the host)`, function () {
      before(async function () {
        this.timeout(300_000);
        const installed = await npmInstall(app, [EXPRESS_4]);
        console.log(`      ${EXPRESS_4} install: ${seconds(installed.seconds)} (${installed.mode})`);
      });

      it('serves real requests from a CommonJS host (require)', async function () {
        assertServed(await host('host.cjs'), 4);
      });

      it('serves real requests from an ES module host (import)', async function () {
        assertServed(await host('host.mjs'), 4);
      });
    });
  });
});

/** What host.cjs and host.mjs print (fixtures/exercise.cjs). */
interface HostResult {
  module: string;
  express: string;
  [check: string]: unknown;
}

/**
 * A consumer as strict as TypeScript gets: every public entry imported whole (so every declaration
 * it reaches is checked), once from CommonJS and once from an ES module, and the router mounted
 * in the app's own Express types.
 */
function writeStrictConsumer(app: string, entries: readonly string[]): void {
  const compilerOptions = {
    strict: true,
    skipLibCheck: false,
    module: 'node16',
    moduleResolution: 'node16',
    target: 'ES2022',
    esModuleInterop: true,
    noEmit: true,
    types: ['node'],
  };
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['consumer.ts', 'consumer.mts'] }, null, 2),
  );
  const imports = entries.map((entry, index) => `import * as entry${index} from '${entry}';`);
  const source = [
    ...imports,
    `import express from 'express';`,
    `import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';`,
    `import { adminKeyAuthenticator, profileApi } from '@profilegate/middleware';`,
    ``,
    `export const entries = [${entries.map((_, index) => `entry${index}`).join(', ')}];`,
    `const store: Store = new MemoryStore();`,
    `const app = express();`,
    `app.use(`,
    `  profileApi({`,
    `    clients: ['acme'],`,
    `    store,`,
    `    signingKeys: new KeyRing([generateSigningKey(0)]),`,
    `    authenticateAdmin: adminKeyAuthenticator([{ key: 'k'.repeat(40), role: 'admin' }]),`,
    `  }),`,
    `);`,
    `export { app };`,
    ``,
  ].join('\n');
  writeFileSync(join(app, 'consumer.ts'), source);
  writeFileSync(join(app, 'consumer.mts'), source);
}
