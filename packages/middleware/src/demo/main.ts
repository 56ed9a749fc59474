/**
 * `npm start`: the demo server of API.md section 4, configured by environment variables.
 * Exit codes: 0 after a clean SIGTERM/SIGINT shutdown, 2 for a wrong environment variable,
 * 1 when the server cannot start or stop (both print one line, never a stack trace).
 */
import { DemoConfigError, loadDemoConfig, type DemoStoreConfig } from './config';
import { startDemoServer, type DemoServer } from './server';

/** Starts the demo server from `process.env` and stops it on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadDemoConfig(process.env, process.cwd());
  } catch (error) {
    if (error instanceof DemoConfigError) {
      console.error(`Profilegate demo server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }

  let server: DemoServer;
  try {
    server = await startDemoServer(config, { log: (line) => console.error(line) });
  } catch (error) {
    console.error(`Profilegate demo server could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`Received ${signal} again; exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`Received ${signal}; finishing in-flight requests and closing the database`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(
          `Profilegate demo server did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`,
        );
        process.exit(1);
      },
    );
  };
  // Installed before the URL is printed: whoever waits for that line may signal us at once.
  // `on`, not `once`: a second signal must reach `stop` (to force the exit), not kill the process.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  console.log(
    `Profilegate demo server listening on ${server.url} (clients: ${config.clients.join(', ')}; store: ${describeStore(config.store)})`,
  );
  if (server.adminKeyGenerated !== undefined) {
    // The only time a key is ever printed (API.md 4): the first start, which generated it.
    console.log(`Admin key (shown only this once; saved in ${server.adminKeyFile}): ${server.adminKeyGenerated}`);
  } else if (server.adminKeyFile !== undefined) {
    console.log(`Admin key: see ${server.adminKeyFile}`);
  }
  // The page asks for the admin key itself: its URL never carries one.
  const pages = config.clients.map((client) => `${server.url}/${client}/target/admin`);
  console.log(`Admin page${pages.length > 1 ? 's' : ''}: ${pages.join(', ')}`);
  console.log(`API description: ${server.url}/openapi.json`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Profilegate demo server failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

/** The store for the start-up line, without any password. */
function describeStore(store: DemoStoreConfig): string {
  if (store.kind === 'sqlite') return `sqlite:${store.path}`;
  const url = new URL(store.url);
  return `postgres://${url.host}${url.pathname} (schema ${store.schema})`;
}
