/**
 * The admin page's HTML: a static shell, filled in by `admin/app.mjs`. Every URL in it is relative
 * to the page (`/:client/target/admin`), so the page works wherever the host mounts the router
 * without trusting the request's path; the strict CSP forbids inline script and style, so there is
 * none here.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** The modules app.mjs imports, fetched at once instead of one import level after another. */
const MODULES = ['api.mjs', 'format.mjs', 'token.mjs', 'activity.mjs', 'retention.mjs', 'export.mjs'];

const LIFETIMES: ReadonlyArray<[seconds: number, label: string]> = [
  [7 * 86_400, '7 days'],
  [30 * 86_400, '30 days'],
  [90 * 86_400, '90 days (default)'],
  [180 * 86_400, '180 days'],
  [365 * 86_400, '365 days'],
];

const GRACES: ReadonlyArray<[seconds: number, label: string]> = [
  [0, 'Stops working at once'],
  [300, 'Keeps working for 5 minutes'],
  [3600, 'Keeps working for 1 hour'],
  [86_400, 'Keeps working for 24 hours'],
];

function options(list: ReadonlyArray<[number, string]>, selected: number): string {
  return list
    .map(([value, label]) => `<option value="${value}"${value === selected ? ' selected' : ''}>${label}</option>`)
    .join('');
}

/** The page for one client code (already validated against the router's clients). */
export function adminPageHtml(client: string): string {
  const c = escapeHtml(client);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Profile API settings · ${c} · Profilegate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="admin/admin.css">
<script type="module" src="admin/app.mjs"></script>
${MODULES.map((name) => `<link rel="modulepreload" href="admin/${name}">`).join('\n')}
</head>
<body>
<a class="skip" href="#main">Skip to the settings</a>
<header class="topbar">
  <span class="brand" aria-hidden="true"><span class="brand-mark"></span>Profilegate</span>
  <nav aria-label="Breadcrumb" class="crumbs">
    <ol><li>Administration</li><li>Implementation</li><li aria-current="page">Profile API</li></ol>
  </nav>
  <div class="account">
    <span class="client">Client <strong>${c}</strong></span>
    <span id="who" class="who" hidden></span>
    <button type="button" id="sign-out" class="quiet" hidden>Sign out</button>
  </div>
</header>
<main id="main" tabindex="-1">
  <h1>Profile API</h1>
  <p class="lead">Who may update and read the profiles of client <strong>${c}</strong>, and the token they must send.</p>
  <div id="status" class="status" role="status" aria-live="polite"></div>
  <noscript><p class="notice error">This page needs JavaScript. The same settings are available through the admin API (API.md section 3).</p></noscript>

  <section id="sign-in" class="card narrow" aria-labelledby="sign-in-title" hidden>
    <h2 id="sign-in-title">Sign in</h2>
    <form id="sign-in-form" novalidate>
      <label for="admin-key">Admin key</label>
      <input id="admin-key" name="admin-key" type="password" autocomplete="off" spellcheck="false" required aria-describedby="admin-key-help sign-in-error">
      <p id="admin-key-help" class="help">Kept in this browser tab only (session storage) and sent only to this server. Closing the tab forgets it.</p>
      <p id="sign-in-error" class="field-error" hidden></p>
      <button type="submit" class="primary" id="sign-in-button">Sign in</button>
    </form>
  </section>

  <div id="settings" hidden>
    <section class="card" aria-labelledby="auth-title">
      <h2 id="auth-title">Authentication</h2>
      <div class="row">
        <div class="row-text">
          <label for="require-auth" class="row-label">Require Authentication</label>
          <p id="require-auth-help" class="help">When on, every Profile API request (bulk update, single update, fetch) must send <code>Authorization: Bearer &lt;profile token&gt;</code>. When off, the profile routes are open to anyone who can reach them.</p>
          <p id="require-auth-warning" class="notice warning" hidden></p>
          <p id="require-auth-reason" class="reason" hidden></p>
        </div>
        <button type="button" id="require-auth" class="switch" role="switch" aria-checked="false" aria-describedby="require-auth-help require-auth-reason">
          <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
          <span class="switch-text" id="require-auth-text" aria-hidden="true">Off</span>
        </button>
      </div>
    </section>

    <section class="card" aria-labelledby="retention-title">
      <h2 id="retention-title">Profile retention</h2>
      <p id="retention-current" class="row-label"></p>
      <form id="retention-form" novalidate>
        <label for="retention-days">Delete profiles not modified for (days)</label>
        <div class="copy-row">
          <input id="retention-days" name="retention-days" type="number" min="1" max="3650" step="1" inputmode="numeric" autocomplete="off" placeholder="Keep forever" aria-describedby="retention-help retention-error retention-reason">
          <button type="submit" id="retention-save" class="secondary" aria-describedby="retention-reason">Save retention</button>
        </div>
        <p id="retention-help" class="help">Empty keeps profiles forever (the default). With a number of days from 1 to 3650, the server deletes each profile within an hour after it has gone that long without a change; a deleted profile cannot be brought back.</p>
        <p id="retention-error" class="field-error" hidden></p>
        <p id="retention-reason" class="reason" hidden></p>
      </form>
    </section>

    <section class="card" aria-labelledby="token-title">
      <h2 id="token-title">Profile Authentication Token</h2>
      <p id="expires-in" class="countdown">No token</p>
      <dl class="facts">
        <div><dt>Token</dt><dd id="token-masked">None</dd></div>
        <div><dt>Expires on</dt><dd id="expires-at">–</dd></div>
        <div><dt>Generated by</dt><dd id="created-by">–</dd></div>
        <div><dt>Generated on</dt><dd id="created-at">–</dd></div>
        <div id="replaced-row" hidden><dt>Replaced, still working</dt><dd id="replaced-tokens">–</dd></div>
      </dl>

      <div id="new-token" class="new-token" hidden>
        <label for="new-token-value">New token: copy it now, it is shown only once</label>
        <div class="copy-row">
          <input id="new-token-value" type="text" readonly spellcheck="false" autocomplete="off" aria-describedby="new-token-help">
          <button type="button" id="copy-token" class="secondary">Copy</button>
        </div>
        <p id="new-token-help" class="help">Put it where your scripts read it: <code>profilegate token replace --new - &lt;files&gt;</code> (the token on standard input) replaces the old one in your files, and in VS Code <strong>Profilegate: Update Stored Token…</strong> does the same for the workspace. Next time, <code>profilegate token generate --update &lt;files&gt;</code> or <strong>Profilegate: Generate New Profile Authentication Token</strong> rotates and updates in one step. Once you close this box the page shows only its first and last characters.</p>
        <button type="button" id="hide-token" class="secondary">I have copied it</button>
      </div>

      <p id="generate-warning" class="notice warning">Generating a new token makes the current one stop working: scripts that use it will fail with 401 until they use the new token.</p>
      <div class="actions">
        <button type="button" id="generate" class="primary" aria-describedby="generate-warning generate-reason">Generate New Profile Authentication Token</button>
      </div>
      <p id="generate-reason" class="reason" hidden></p>
    </section>

    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">Export profiles</h2>
      <p id="export-help" class="help">Downloads every profile of client <strong>${c}</strong>. A CSV file posted back as a batch (<code>text/csv</code>, v2) restores the attributes; NDJSON holds each profile as the fetch route answers it.</p>
      <div class="field">
        <label for="export-format">Format</label>
        <select id="export-format"><option value="csv" selected>CSV</option><option value="ndjson">NDJSON</option></select>
      </div>
      <div class="actions">
        <button type="button" id="export" class="secondary" aria-describedby="export-help export-reason">Export</button>
      </div>
      <p id="export-reason" class="reason" hidden></p>
    </section>

    <section class="card" aria-labelledby="activity-title">
      <div class="card-head">
        <h2 id="activity-title">Recent activity</h2>
        <button type="button" id="refresh-activity" class="quiet">Refresh</button>
      </div>
      <p id="activity-empty" class="help" hidden>Nothing yet: token and setting changes will be listed here.</p>
      <ol id="activity" class="activity" aria-labelledby="activity-title" hidden></ol>
    </section>
  </div>
</main>

<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <h2 id="confirm-title">Generate a new profile token?</h2>
  <p id="confirm-text" class="notice warning">Scripts that use the current token will fail with 401 once it stops working. Update them with the new token, which is shown once.</p>
  <div class="field">
    <label for="lifetime">New token valid for</label>
    <select id="lifetime">${options(LIFETIMES, 90 * 86_400)}</select>
  </div>
  <div class="field" id="grace-field">
    <label for="grace">Current token</label>
    <select id="grace">${options(GRACES, 0)}</select>
  </div>
  <div class="dialog-actions">
    <button type="button" id="confirm-cancel" class="secondary" autofocus>Cancel</button>
    <button type="button" id="confirm-generate" class="danger">Generate new token</button>
  </div>
</dialog>
</body>
</html>
`;
}
