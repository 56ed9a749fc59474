/** The "Recent activity" card: the newest audit events (API.md 3.3), newest first, as text nodes only. */
import { describeActor, describeAuditEvent } from './format.mjs';

/** How many events the card shows. */
export const ACTIVITY_LIMIT = 20;

function line(className, ...children) {
  const p = document.createElement('p');
  p.className = className;
  p.append(...children);
  return p;
}

function item(event, formatDate) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.dateTime = event.at;
  time.textContent = formatDate(event.at);
  li.append(
    line('activity-what', describeAuditEvent(event, formatDate)),
    line('activity-meta', time, ` · ${describeActor(event.actor)}`),
  );
  return li;
}

/** Wires the card; `ctx` is the page's shared context (see app.mjs). */
export function setupActivity(ctx) {
  const list = document.getElementById('activity');
  const empty = document.getElementById('activity-empty');

  function show(events) {
    list.replaceChildren(...events.map((event) => item(event, ctx.formatDate)));
    list.hidden = events.length === 0;
    empty.hidden = events.length !== 0;
  }

  async function refresh(say = false) {
    try {
      const body = await ctx.api.audit(ACTIVITY_LIMIT);
      show(Array.isArray(body?.events) ? body.events : []);
      if (say) ctx.announce('Activity refreshed.');
    } catch (error) {
      ctx.fail(error);
    }
  }

  document.getElementById('refresh-activity').addEventListener('click', () => refresh(true));
  return {
    refresh,
    clear() {
      list.replaceChildren();
      list.hidden = true;
      empty.hidden = true;
    },
  };
}
