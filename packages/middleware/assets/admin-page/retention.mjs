/**
 * The "Profile retention" card (API.md 5): how many days a profile is kept after it was last
 * modified, empty for keep forever. Saved through the same settings PUT as the Require
 * Authentication switch, with the same roles.
 */
const $ = (id) => document.getElementById(id);

/** The retention rule of API.md 5, checked here too so a mistake is shown before any request. */
const MAX_DAYS = 3650;

/** `''` → null (keep forever); a whole number 1..3650 → that number; anything else → undefined. */
export function parseRetention(text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return null;
  if (!/^\d+$/.test(trimmed)) return undefined;
  const days = Number(trimmed);
  return days >= 1 && days <= MAX_DAYS ? days : undefined;
}

/** Wires the card; `ctx` is the page's shared context (see app.mjs). */
export function setupRetention(ctx) {
  const form = $('retention-form');
  const input = $('retention-days');
  const save = $('retention-save');
  const error = $('retention-error');
  const reason = $('retention-reason');
  const current = $('retention-current');
  /** The value shown was typed here and not saved yet: a render must not overwrite it. */
  let edited = false;
  let busy = false;

  function showError(message) {
    error.hidden = message === null;
    error.textContent = message ?? '';
    input.setAttribute('aria-invalid', String(message !== null));
  }

  function render() {
    const days = ctx.state.settings?.profileRetentionDays ?? null;
    current.textContent =
      days === null
        ? 'Profiles are kept forever.'
        : `Profiles not modified for ${days} ${days === 1 ? 'day' : 'days'} are deleted.`;
    if (!edited) input.value = days === null ? '' : String(days);
    const denied = ctx.state.settingsReason !== null;
    save.setAttribute('aria-disabled', String(denied));
    reason.hidden = !denied;
    reason.textContent = ctx.state.settingsReason ?? '';
  }

  async function submit(event) {
    event.preventDefault(); // the CSP has form-action 'none': this form never navigates
    if (ctx.state.settingsReason !== null) {
      ctx.announce(ctx.state.settingsReason, 'error');
      return;
    }
    if (busy || !ctx.state.settings) return;
    // A number input reads '' for text it cannot take ("1e", "abc"): that is a mistake, not "forever".
    const days = input.validity.badInput ? undefined : parseRetention(input.value);
    if (days === undefined) {
      showError(`Enter a whole number of days from 1 to ${MAX_DAYS}, or leave it empty to keep profiles forever.`);
      input.focus();
      return;
    }
    showError(null);
    busy = true;
    save.setAttribute('aria-busy', 'true');
    try {
      ctx.state.settings = await ctx.api.putRetention(days);
      edited = false;
      ctx.announce(
        days === null
          ? 'Profiles are now kept forever.'
          : `Profiles not modified for ${days} ${days === 1 ? 'day' : 'days'} will be deleted within an hour after that.`,
        'success',
      );
      void ctx.activity.refresh();
    } catch (failure) {
      if (failure.status === 403) {
        ctx.state.settingsReason = failure.message;
        ctx.announce(failure.message, 'error');
      } else if (failure.status === 400) {
        showError(failure.message);
      } else {
        ctx.fail(failure);
      }
    } finally {
      busy = false;
      save.removeAttribute('aria-busy');
      ctx.render();
    }
  }

  form.addEventListener('submit', (event) => void submit(event));
  input.addEventListener('input', () => {
    edited = true;
    showError(null);
  });

  return {
    render,
    /** Signed out: nothing typed survives. */
    forget() {
      edited = false;
      showError(null);
    },
  };
}
