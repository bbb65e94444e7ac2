// The audit log, for admins: who did what outside an appeal's own history (legal holds,
// erasures, access requests, purges, catalog and routing changes, disputes, throttling),
// newest first, filtered by actor, action, subject (an appeal's or account's id) and
// period, a page at a time. `#/audit`.

import { field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { when, wire } from './format.js';
import { hasRole } from './session.js';

const PAGE = 25;
const LIST = `query AuditLog($filter: AuditLogFilterInput, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id occurredAt actorKind actor action accountId appealId details } }
    pageInfo { hasNextPage }
  }
}`;

/** A date input's value as the start of that day in UTC, or null. */
const dayStart = (value) => (value ? `${value}T00:00:00Z` : null);
/** The day after a date input's value, so the period includes that whole day. */
function dayAfter(value) {
  if (!value) return null;
  const day = new Date(`${value}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString();
}
const text = (value) => (value && value.trim() !== '' ? value.trim() : null);

export function render(container, context) {
  const { announce, me } = context;
  if (!hasRole(me, 'ADMIN')) {
    fill(container, h('h1', null, 'Audit log'), h('p', { class: 'notice' }, 'The audit log is for admins.'));
    return () => {};
  }
  const input = (name, attributes = {}) => h('input', { type: 'text', name, id: `audit-${name}`, autocomplete: 'off', spellcheck: 'false', ...attributes });
  const controls = {
    actor: input('actor'),
    action: input('action', { placeholder: 'e.g. legal_hold_set' }),
    subject: input('subject', { placeholder: 'appeal or account id' }),
    from: input('from', { type: 'date' }),
    to: input('to', { type: 'date' }),
  };
  const problem = h('p', { class: 'notice error', role: 'alert', id: 'audit-problem', hidden: true });
  const rows = h('tbody');
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, 'Older entries');
  const table = h('table', { class: 'appeals audit-log', id: 'audit-log' },
    h('caption', null, 'Audit entries, newest first'),
    h('thead', null, h('tr', null, ['When', 'Who', 'Action', 'About', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
    rows);
  let cursor = null;
  let filter = {};

  function row(node) {
    const about = [node.appealId && `appeal ${node.appealId}`, node.accountId && `account ${node.accountId}`].filter(Boolean).join(' · ') || '—';
    return h('tr', { 'data-action': node.action, 'data-entry': node.id },
      h('td', null, when(node.occurredAt)),
      h('td', null, node.actor ? `${node.actor} (${node.actorKind})` : '—'),
      h('td', null, wire(node.action)),
      h('td', null, about),
      h('td', null, h('code', { class: 'audit-details' }, JSON.stringify(node.details))));
  }

  async function load(append) {
    problem.hidden = true;
    try {
      const page = (await gql(LIST, { filter, first: PAGE, after: append ? cursor : null })).auditLog;
      const entries = page.edges.map((edge) => row(edge.node));
      if (append) rows.append(...entries);
      else fill(rows, entries.length ? entries : h('tr', null, h('td', { colspan: '5' }, 'No entries match.')));
      cursor = page.edges.length ? page.edges[page.edges.length - 1].cursor : cursor;
      more.hidden = !page.pageInfo.hasNextPage;
      const count = page.edges.length;
      announce(`${count} ${append ? 'more ' : ''}audit ${count === 1 ? 'entry' : 'entries'}.`);
    } catch (err) {
      problem.hidden = false;
      problem.textContent = `Loading the audit log failed: ${err.message}`;
    }
  }

  const form = h('form', { class: 'audit-filter', id: 'audit-filter', 'aria-label': 'Filter the audit log' },
    field('Actor', controls.actor, 'A staff member, a component or an appellant'),
    field('Action', controls.action),
    field('About', controls.subject),
    field('From', controls.from),
    field('To (inclusive)', controls.to),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    filter = {
      actor: text(controls.actor.value),
      action: text(controls.action.value),
      subject: text(controls.subject.value),
      from: dayStart(controls.from.value),
      to: dayAfter(controls.to.value),
    };
    cursor = null;
    load(false);
  });
  more.addEventListener('click', () => load(true));

  fill(container, h('h1', null, 'Audit log'), form, problem, table, more);
  load(false);
  return () => {};
}
