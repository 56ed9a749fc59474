/**
 * The load section's client, run as its own process (`node load-driver.js <json options>`) so it
 * never competes with the server for one event loop: autocannon cycling through profile fetches,
 * single updates and small batches on loopback. Prints one JSON line: autocannon's totals and
 * the statuses seen per kind of request.
 */
import autocannon = require('autocannon');

interface DriverOptions {
  url: string;
  token: string;
  client: string;
  pcId: string;
  seconds: number;
  connections: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as DriverOptions;
if (!/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(options.url)) {
  console.error('load-driver: only a loopback URL may be loaded');
  process.exit(2);
}
const statuses: Record<string, Record<number, number>> = {};
const count = (kind: string) => (status: number) => {
  const seen = (statuses[kind] ??= {});
  seen[status] = (seen[status] ?? 0) + 1;
};
let n = 0;
const { client, pcId } = options;

void (async () => {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 20,
    headers: { authorization: `Bearer ${options.token}` },
    requests: [
      { method: 'GET', path: `/rest/v1/profiles/thirdPartyId/load?client=${client}`, onResponse: count('fetch') },
      {
        method: 'GET',
        setupRequest: (req: Record<string, unknown>) => ({
          ...req,
          path: `/m2/${client}/profile/update?mbox3rdPartyId=load&profile.n=${++n}`,
        }),
        onResponse: count('update'),
      },
      {
        method: 'GET',
        path: `/rest/v1/profiles/${encodeURIComponent(pcId)}?client=${client}`,
        onResponse: count('fetch'),
      },
      {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        setupRequest: (req: Record<string, unknown>) => {
          const k = ++n;
          return {
            ...req,
            path: `/m2/${client}/v2/profile/batchUpdate`,
            body: `thirdPartyId,k\nload-${k % 50},${k}\nload,${k}\n`,
          };
        },
        onResponse: count('batch'),
      },
    ],
  });
  const { errors, timeouts, non2xx, statusCodeStats } = result as unknown as Record<string, unknown>;
  const total = (result as unknown as { requests: { total: number } }).requests.total;
  console.log(JSON.stringify({ total, errors, timeouts, non2xx, statusCodeStats, statuses }));
})();
