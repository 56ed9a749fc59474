/**
 * The "Profile Authentication Token" card: the countdown, who generated the token and when, the
 * Generate button with its confirmation dialog, and the new token, shown once with a copy button.
 * The page never reads the current token: only a token generated here is ever in its memory, and
 * only until "I have copied it" (or leaving the page).
 */
import { formatExpiresIn, maskToken } from './format.mjs';

const $ = (id) => document.getElementById(id);

/** Wires the card; `ctx` is the page's shared context (see app.mjs). */
export function setupToken(ctx) {
  const generate = $('generate');
  const dialog = $('confirm');
  const panel = $('new-token');
  const input = $('new-token-value');
  const expires = $('expires-in');
  const reason = $('generate-reason');
  /** The masked form of the token generated in this tab, while it is still the current one. */
  let generated = null;
  let busy = false;

  function token() {
    return ctx.state.settings?.token ?? null;
  }

  function tick() {
    const current = token();
    let text = 'No token: generate one to let scripts call the Profile API while Require Authentication is on.';
    let expired = false;
    if (current) {
      const left = Date.parse(current.expiresAt) - (Date.now() + ctx.api.skewMs);
      text = formatExpiresIn(left);
      expired = left <= 0;
    }
    // Only on change: rewriting the same text every second would be wasted work.
    if (expires.textContent !== text) expires.textContent = text;
    expires.classList.toggle('is-expired', expired);
    expires.classList.toggle('is-empty', !current);
  }

  function render() {
    const current = token();
    const mine = current && generated && generated.createdAt === current.createdAt;
    const masked = $('token-masked');
    if (!current) masked.textContent = 'None';
    else masked.textContent = mine ? generated.masked : 'Hidden (shown only once, when generated)';
    masked.classList.toggle('is-masked', Boolean(mine));
    $('expires-at').textContent = current ? ctx.formatDate(current.expiresAt) : '–';
    $('created-by').textContent = current ? current.createdBy : '–';
    $('created-at').textContent = current ? ctx.formatDate(current.createdAt) : '–';
    // A token replaced with a grace period still works until its end (API.md 3.1): say so.
    const replaced = ctx.state.settings?.replacedTokens ?? [];
    $('replaced-row').hidden = replaced.length === 0;
    $('replaced-tokens').textContent = replaced
      .map((r) => `${r.token ?? `${r.jtiPrefix}…`} until ${ctx.formatDate(r.worksUntil)}`)
      .join('; ');
    const denied = ctx.state.tokenReason !== null;
    generate.setAttribute('aria-disabled', String(denied));
    reason.hidden = !denied;
    reason.textContent = denied ? ctx.state.tokenReason : '';
    tick();
  }

  function hideToken(say) {
    input.value = '';
    panel.hidden = true;
    if (say) {
      ctx.announce('The new token is hidden now; only its first and last characters are shown.');
      generate.focus();
    }
  }

  async function run() {
    busy = true;
    generate.setAttribute('aria-busy', 'true');
    try {
      const body = await ctx.api.generateToken(Number($('lifetime').value), Number($('grace').value));
      ctx.state.settings = {
        ...ctx.state.settings,
        token: { createdAt: body.createdAt, expiresAt: body.expiresAt, createdBy: body.createdBy },
      };
      // The settings also list the token just replaced, when it keeps working for a grace period.
      ctx.state.settings = await ctx.api.settings().catch(() => ctx.state.settings);
      generated = { createdAt: body.createdAt, masked: maskToken(body.accessToken) };
      input.value = body.accessToken;
      panel.hidden = false;
      ctx.render();
      input.focus();
      input.select();
      ctx.announce('A new profile token was generated. Copy it now: it is shown only once.', 'success');
      void ctx.activity.refresh();
    } catch (error) {
      if (error.status === 403) {
        ctx.state.tokenReason = error.message;
        ctx.render();
        ctx.announce(error.message, 'error');
        generate.focus();
      } else {
        ctx.fail(error);
        if (!generate.closest('[hidden]')) generate.focus();
      }
    } finally {
      busy = false;
      generate.removeAttribute('aria-busy');
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(input.value);
      ctx.announce('Token copied to the clipboard.', 'success');
      return;
    } catch {
      // No Clipboard API here (e.g. plain http to a host other than localhost): select it instead.
    }
    input.focus();
    input.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    ctx.announce(
      copied ? 'Token copied to the clipboard.' : 'The token is selected: press Ctrl+C (⌘C on a Mac) to copy it.',
      copied ? 'success' : 'info',
    );
  }

  generate.addEventListener('click', () => {
    if (busy) return;
    if (ctx.state.tokenReason !== null) {
      ctx.announce(ctx.state.tokenReason, 'error');
      return;
    }
    // With no current token nothing can break, and there is nothing to keep working for a while.
    const current = token() !== null;
    $('confirm-text').textContent = current
      ? 'Scripts that use the current token will fail with 401 once it stops working. Update them with the new token, which is shown once.'
      : 'There is no current token, so no script stops working. The new token is shown once: copy it when it appears.';
    $('grace-field').hidden = !current;
    if (!current) $('grace').value = '0';
    dialog.returnValue = '';
    dialog.showModal();
  });
  $('confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
  $('confirm-generate').addEventListener('click', () => dialog.close('confirm'));
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'confirm') void run();
    else generate.focus();
  });
  $('copy-token').addEventListener('click', () => void copy());
  $('hide-token').addEventListener('click', () => hideToken(true));
  setInterval(tick, 1000);

  return {
    render,
    /** Forgets the generated token (sign-out). */
    forget() {
      generated = null;
      hideToken(false);
    },
  };
}
