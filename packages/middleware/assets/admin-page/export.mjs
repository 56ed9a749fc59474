/**
 * The "Export profiles" card: downloads every profile of the client as CSV or NDJSON (API.md 5),
 * for admin roles. The file is fetched with the page's credentials (the admin key travels as a
 * header, which a plain link cannot send), then handed to the browser as a download.
 */

const NO_EXPORT_RIGHTS =
  'Your role cannot export the profiles: that needs the admin role, a workspace admin role, or sysadmin.';

/** The filename of a `Content-Disposition: attachment; filename="…"` header, or the fallback. */
function filenameOf(header, fallback) {
  const match = /filename="([^"]+)"/.exec(header ?? '');
  return match ? match[1] : fallback;
}

/** Wires the card; `ctx` is the page's shared context (see app.mjs). */
export function setupExport(ctx) {
  const button = document.getElementById('export');
  const format = document.getElementById('export-format');
  const reasonLine = document.getElementById('export-reason');
  /** The server's refusal (403), once it has refused. */
  let refused = null;

  const reason = () => (ctx.state.tokenReason !== null ? NO_EXPORT_RIGHTS : refused);

  function render() {
    const why = reason();
    button.setAttribute('aria-disabled', String(why !== null));
    reasonLine.hidden = why === null;
    reasonLine.textContent = why ?? '';
  }

  async function download() {
    const why = reason();
    if (why !== null) {
      ctx.announce(why, 'error');
      return;
    }
    if (button.getAttribute('aria-busy') === 'true') return;
    const chosen = format.value === 'ndjson' ? 'ndjson' : 'csv';
    button.setAttribute('aria-busy', 'true');
    ctx.announce(`Exporting the profiles as ${chosen.toUpperCase()}…`);
    try {
      const headers = {};
      if (ctx.api.key !== null) headers.authorization = `Bearer ${ctx.api.key}`;
      let res;
      try {
        res = await fetch(new URL(`../profiles/export?format=${chosen}`, ctx.api.base), {
          headers,
          credentials: 'same-origin',
          cache: 'no-store',
          redirect: 'error',
        });
      } catch {
        throw Object.assign(new Error('The server could not be reached; check that it is running, then try again.'), {
          status: 0,
        });
      }
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        const first = body && Array.isArray(body.errors) ? body.errors[0] : undefined;
        const message = typeof first?.message === 'string' ? first.message : `The server answered ${res.status}.`;
        throw Object.assign(new Error(message), { status: res.status });
      }
      // The whole file is held by the browser before it is saved: for very large exports, use the CLI.
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = filenameOf(res.headers.get('content-disposition'), `profiles.${chosen}`);
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      ctx.announce(`Exported the profiles as ${chosen.toUpperCase()} (${blob.size} bytes).`, 'success');
      void ctx.activity.refresh();
    } catch (error) {
      if (error.status === 403) {
        refused = error.message;
        ctx.announce(error.message, 'error');
      } else {
        ctx.fail(error);
      }
    } finally {
      button.removeAttribute('aria-busy');
      render();
    }
  }

  button.addEventListener('click', () => void download());
  return {
    render,
    forget() {
      refused = null;
    },
  };
}
