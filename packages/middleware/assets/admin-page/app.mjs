/**
 * The admin page (Administration > Implementation > Profile API): signs in, then shows and changes
 * the settings through the admin routes of API.md section 3. Plain DOM, no framework, no request
 * to any other origin; the strict CSP of the page allows nothing else.
 */
import { AdminApi } from './api.mjs';
import { setupActivity } from './activity.mjs';
import { setupRetention } from './retention.mjs';
import { setupExport } from './export.mjs';
import { setupToken } from './token.mjs';

/** sessionStorage entry of the admin key: this tab only, gone when it closes; never localStorage. */
const KEY_ENTRY = 'profilegate.adminKey';

/**
 * Shown when HEAD of the token route answers 403. Everyone who may change the setting may also
 * handle the token (API.md 3), so a 403 there means both are out of reach.
 */
const NO_SETTINGS_RIGHTS =
  'Your role cannot change the settings (Require Authentication, profile retention): that needs the admin role, ' +
  'a workspace admin role, or sysadmin.';
const NO_TOKEN_RIGHTS =
  'Your role cannot generate the profile token: that needs the approver, publisher or admin role, ' +
  'a workspace admin role, or sysadmin. Ask an administrator to generate it.';

const $ = (id) => document.getElementById(id);
const dates = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const ctx = {
  api: new AdminApi(new URL('authentication/', document.baseURI)),
  state: {
    /** 'key' (signed in with an admin key) or 'session' (the host app's own session), or null. */
    mode: null,
    settings: null,
    /** null while allowed; otherwise why the actor may not generate the token / change the setting. */
    tokenReason: null,
    settingsReason: null,
  },
  formatDate(iso) {
    const time = Date.parse(iso);
    return Number.isFinite(time) ? dates.format(time) : String(iso);
  },
  announce(message, kind = 'info') {
    const status = $('status');
    status.className = `status is-${kind}`;
    status.textContent = message;
  },
  /** Any failed call: a refused sign-in goes back to the form, anything else is announced. */
  fail(error) {
    if (error?.status === 401 && ctx.state.mode !== null) {
      signOut(
        ctx.state.mode === 'key'
          ? 'Your admin key is no longer accepted. Sign in again.'
          : 'Your session has ended. Sign in again.',
      );
      return;
    }
    ctx.announce(error?.message ?? String(error), 'error');
  },
  render,
};
ctx.activity = setupActivity(ctx);
const tokenCard = setupToken(ctx);
const retentionCard = setupRetention(ctx);
const exportCard = setupExport(ctx);

function readKey() {
  try {
    return sessionStorage.getItem(KEY_ENTRY);
  } catch {
    return null; // storage disabled: the key is then asked for on every load
  }
}

function storeKey(key) {
  try {
    if (key === null) sessionStorage.removeItem(KEY_ENTRY);
    else sessionStorage.setItem(KEY_ENTRY, key);
  } catch {
    // Storage disabled: the page still works until it is reloaded.
  }
}

function render() {
  const { settings, mode, settingsReason } = ctx.state;
  const on = settings?.requireAuthentication === true;
  const toggle = $('require-auth');
  toggle.setAttribute('aria-checked', String(on));
  $('require-auth-text').textContent = on ? 'On' : 'Off';
  toggle.setAttribute('aria-disabled', String(settingsReason !== null));
  $('require-auth-reason').hidden = settingsReason === null;
  $('require-auth-reason').textContent = settingsReason ?? '';
  const warning = $('require-auth-warning');
  warning.hidden = !(on && settings && settings.token === null);
  warning.textContent = warning.hidden
    ? ''
    : 'There is no profile token: every profile request is refused until one is generated.';
  $('who').hidden = mode === null;
  $('who').textContent = mode === 'key' ? 'Signed in (admin key)' : 'Signed in through this site';
  // The host app owns its session: signing out of it is the host's business, not this page's.
  $('sign-out').hidden = mode !== 'key';
  tokenCard.render();
  retentionCard.render();
  exportCard.render();
}

/** Asks for the actor's rights without changing anything, then shows the settings. */
async function enter(mode, settings) {
  ctx.state.mode = mode;
  ctx.state.settings = settings;
  ctx.state.tokenReason = null;
  ctx.state.settingsReason = null;
  try {
    const rights = await ctx.api.tokenRights();
    if (!rights.allowed) {
      ctx.state.tokenReason = NO_TOKEN_RIGHTS;
      ctx.state.settingsReason = NO_SETTINGS_RIGHTS;
    }
  } catch (error) {
    ctx.fail(error);
  }
  $('sign-in').hidden = true;
  $('settings').hidden = false;
  render();
  await ctx.activity.refresh();
}

function showSignIn(error) {
  $('settings').hidden = true;
  $('sign-in').hidden = false;
  const field = $('sign-in-error');
  field.hidden = !error;
  field.textContent = error ?? '';
  $('admin-key').setAttribute('aria-invalid', String(Boolean(error)));
  render();
}

function signOut(message) {
  storeKey(null);
  ctx.api.key = null;
  ctx.state.mode = null;
  ctx.state.settings = null;
  tokenCard.forget();
  retentionCard.forget();
  exportCard.forget();
  ctx.activity.clear();
  showSignIn();
  ctx.announce(message, message.startsWith('Signed out') ? 'info' : 'error');
  $('admin-key').focus();
}

async function signIn(event) {
  event.preventDefault(); // the CSP has form-action 'none': this form never navigates
  const input = $('admin-key');
  const button = $('sign-in-button');
  const key = input.value.trim();
  if (key === '') {
    showSignIn('Enter your admin key.');
    input.focus();
    return;
  }
  button.setAttribute('aria-busy', 'true');
  ctx.api.key = key;
  try {
    const settings = await ctx.api.settings();
    storeKey(key);
    input.value = '';
    ctx.announce('Signed in.', 'success');
    await enter('key', settings);
    $('main').focus();
  } catch (error) {
    ctx.api.key = null;
    showSignIn(
      error.status === 401
        ? 'That admin key was not accepted. Check it (keys are case-sensitive) and try again.'
        : error.message,
    );
    input.focus();
  } finally {
    button.removeAttribute('aria-busy');
  }
}

async function toggleRequireAuthentication() {
  const toggle = $('require-auth');
  if (ctx.state.settingsReason !== null) {
    ctx.announce(ctx.state.settingsReason, 'error');
    return;
  }
  if (toggle.getAttribute('aria-busy') === 'true' || !ctx.state.settings) return;
  const next = !ctx.state.settings.requireAuthentication;
  toggle.setAttribute('aria-busy', 'true');
  try {
    ctx.state.settings = await ctx.api.putSettings(next);
    ctx.announce(
      next
        ? 'Require Authentication is on: profile requests must now send the profile token.'
        : 'Require Authentication is off: profile requests no longer need a token.',
      'success',
    );
    void ctx.activity.refresh();
  } catch (error) {
    if (error.status === 403) {
      // An approver or publisher: may handle the token, not this setting. Only the server knows.
      ctx.state.settingsReason = error.message;
      ctx.announce(error.message, 'error');
    } else {
      ctx.fail(error);
    }
  } finally {
    toggle.removeAttribute('aria-busy');
    render();
  }
}

async function start() {
  $('sign-in-form').addEventListener('submit', (event) => void signIn(event));
  $('require-auth').addEventListener('click', () => void toggleRequireAuthentication());
  $('sign-out').addEventListener('click', () => signOut('Signed out. The admin key was removed from this tab.'));

  const saved = readKey();
  if (saved) {
    ctx.api.key = saved;
    try {
      await enter('key', await ctx.api.settings());
      return;
    } catch (error) {
      ctx.api.key = null;
      if (error.status !== 401) {
        showSignIn();
        ctx.announce(error.message, 'error');
        return;
      }
      storeKey(null);
      showSignIn('Your saved admin key is no longer accepted. Sign in again.');
      return;
    }
  }
  // No key: the host app's own session (a cookie its authenticateAdmin reads) may already do.
  try {
    await enter('session', await ctx.api.settings());
  } catch (error) {
    showSignIn();
    if (error.status !== 401) ctx.announce(error.message, 'error');
  }
}

void start();
