// The queue: filters, SLA countdowns, escalation levels, claim next, live changes.

import { claimNext } from './claim.js';
import { facts, field, fill, h } from './dom.js';
import { gql, serverNow } from './graphql.js';
import { screenShortcuts } from './keys.js';
import { live } from './live.js';
import { countdown, when, wire } from './format.js';
import { hasRole } from './session.js';

const OPEN_STATES = ['FILED', 'TRIAGED', 'AWAITING_USER', 'REVIEWED'];
const ALL_STATES = [...OPEN_STATES, 'RESTORED', 'UPHELD', 'WITHDRAWN'];
const PAGE = 50;

const LIST = `query Queue($filter: AppealFilterInput, $first: Int, $after: String) {
  appeals(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id reference state version priority queue tags assignee leaseUntil escalationLevel
            slaBreached triageDueAt decisionDueAt filedAt channel fourEyes }
  }
}`;
const SUMMARY = 'query Summary { queueSummary { queue open claimable slaBreached oldestAgeSeconds } }';
const CHANGED = 'subscription Changed($queue: String!) { queueChanged(queue: $queue) { id reference state assignee } }';

/** Filters survive moving between screens within the tab. */
const filters = { state: 'OPEN', queue: 'general', tag: '', minEscalation: '', slaBreached: '', rule: '', source: '', policy: '', relation: '' };

/** The screen's filters as the API's `AppealFilterInput`; each filter adds its own field. */
function filterInput() {
  const filter = { queue: filters.queue || null };
  filter.states = filters.state === 'OPEN' ? OPEN_STATES : filters.state === 'ALL' ? [] : [filters.state];
  if (filters.tag !== '') filter.tags = [filters.tag];
  if (filters.minEscalation !== '') filter.minEscalationLevel = Number(filters.minEscalation);
  if (filters.slaBreached !== '') filter.slaBreached = filters.slaBreached === 'yes';
  if (filters.rule !== '') filter.rule = filters.rule;
  if (filters.source !== '') filter.enforcementSource = filters.source;
  if (filters.policy !== '') filter.enforcementPolicy = filters.policy;
  if (filters.relation !== '') filter.contentRelation = filters.relation;
  return filter;
}

/** The queue's filter as it stands, for the bulk decision screen. */
export function currentFilter() {
  return filterInput();
}

function deadline(appeal) {
  if (appeal.state === 'FILED') return appeal.triageDueAt;
  if (OPEN_STATES.includes(appeal.state)) return appeal.decisionDueAt;
  return null;
}

/** `#/queue/rule=<id>` (from the routing rules screen): the appeals that rule triaged. */
function takeParameter(parameter) {
  const rule = parameter.match(/^rule=(.+)$/)?.[1];
  if (!rule) return;
  Object.assign(filters, { state: 'ALL', queue: '', tag: '', minEscalation: '', slaBreached: '', rule, source: '', policy: '', relation: '' });
}

export function render(container, { announce, navigate, me }, parameter = '') {
  takeParameter(parameter);
  let appeals = [];
  let cursor = null;
  let stopLive = () => {};
  let reloadTimer = null;

  const stateSelect = h('select', { name: 'state' },
    h('option', { value: 'OPEN' }, 'All open'),
    h('option', { value: 'ALL' }, 'Any state'),
    ALL_STATES.map((state) => h('option', { value: state }, wire(state))));
  stateSelect.value = filters.state;
  const queueInput = h('input', { name: 'queue', type: 'text', value: filters.queue, autocomplete: 'off' });
  const tagInput = h('input', { name: 'tag', type: 'text', value: filters.tag, autocomplete: 'off', spellcheck: 'false' });
  const escalationInput = h('input', { name: 'minEscalation', type: 'number', min: '0', value: filters.minEscalation });
  const breachedSelect = h('select', { name: 'slaBreached' },
    h('option', { value: '' }, 'Either'),
    h('option', { value: 'yes' }, 'Breached'),
    h('option', { value: 'no' }, 'Within SLA'));
  breachedSelect.value = filters.slaBreached;
  const ruleInput = h('input', { name: 'rule', type: 'text', value: filters.rule, autocomplete: 'off', spellcheck: 'false', size: '38' });
  const sourceInput = h('input', { name: 'source', type: 'text', value: filters.source, autocomplete: 'off', spellcheck: 'false' });
  const policyInput = h('input', { name: 'policy', type: 'text', value: filters.policy, autocomplete: 'off', spellcheck: 'false' });
  const relationSelect = h('select', { name: 'relation' },
    h('option', { value: '' }, 'Any'),
    ['created', 'saved', 'shared'].map((relation) => h('option', { value: relation }, relation)));
  relationSelect.value = filters.relation;

  const form = h('form', { class: 'filters', 'aria-label': 'Queue filters' },
    field('State', stateSelect),
    field('Queue', queueInput),
    field('Tag', tagInput),
    field('Escalation at least', escalationInput),
    field('SLA', breachedSelect),
    field('Triaged by rule', ruleInput, 'A routing rule’s id; admins open it from Routing rules.'),
    field('Enforcement source', sourceInput, 'The rule, model or batch that enforced.'),
    field('Enforcement policy', policyInput),
    field('Content', relationSelect, 'What the account did with the enforced content.'),
    h('button', { type: 'submit' }, 'Apply filters'));

  const claimButton = h('button', { type: 'button', class: 'primary', id: 'claim-next' }, 'Claim next case');
  const bulkButton = hasRole(me, 'SENIOR_REVIEWER')
    ? h('button', { type: 'button', id: 'decide-in-bulk', onClick: () => navigate('#/decide') }, 'Decide these in bulk')
    : null;
  const summary = h('div', { class: 'summary', 'aria-live': 'polite' });
  const rows = h('tbody');
  const table = h('table', { class: 'appeals', 'aria-describedby': 'queue-caption' },
    h('caption', { id: 'queue-caption' }, 'Appeals matching the filters, in filing order'),
    h('thead', null, h('tr', null,
      ['Reference', 'State', 'Priority', 'Tags', 'Escalation', 'Assignee', 'SLA', 'Filed'].map((title) => h('th', { scope: 'col' }, title)))),
    rows);
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const message = h('p', { class: 'notice', role: 'alert', hidden: true });

  fill(container,
    h('h1', null, 'Queue'),
    form,
    h('div', { class: 'toolbar' }, claimButton, bulkButton, summary),
    message,
    table,
    more);

  if (!hasRole(me, 'REVIEWER', 'SENIOR_REVIEWER')) {
    claimButton.disabled = true;
    claimButton.title = 'Claiming needs the reviewer or senior reviewer role';
  }

  function showError(text) {
    message.hidden = !text;
    message.textContent = text ?? '';
  }

  function renderRows() {
    const now = serverNow();
    fill(rows, appeals.length === 0
      ? h('tr', null, h('td', { colspan: '8', class: 'empty' }, 'No appeals match.'))
      : appeals.map((appeal) => {
        const due = countdown(deadline(appeal), now);
        const breached = appeal.slaBreached || due.overdue;
        return h('tr', { 'data-appeal-id': appeal.id, 'data-state': appeal.state },
          h('th', { scope: 'row' }, h('a', { href: `#/case/${encodeURIComponent(appeal.id)}` }, appeal.reference)),
          h('td', { class: 'state' }, wire(appeal.state), appeal.fourEyes ? h('span', { class: 'tag' }, 'four-eyes') : null),
          h('td', null, wire(appeal.priority)),
          h('td', { class: 'tags' }, appeal.tags.map((tag) => h('span', { class: 'tag' }, tag))),
          h('td', null, appeal.escalationLevel > 0 ? h('span', { class: 'tag escalated' }, `level ${appeal.escalationLevel}`) : '0'),
          h('td', { class: 'assignee' }, appeal.assignee ?? 'unclaimed'),
          h('td', { class: breached ? 'sla breached' : 'sla', 'data-due': deadline(appeal) ?? '' },
            breached && !due.overdue ? `breached · ${due.text}` : due.text),
          h('td', null, when(appeal.filedAt)));
      }));
  }

  function tick() {
    const now = serverNow();
    for (const cell of rows.querySelectorAll('td.sla[data-due]')) {
      const due = cell.getAttribute('data-due');
      if (!due) continue;
      const left = countdown(due, now);
      if (left.overdue) cell.classList.add('breached');
      cell.textContent = cell.textContent.startsWith('breached ·') && !left.overdue ? `breached · ${left.text}` : left.text;
    }
  }

  async function loadSummary() {
    try {
      const data = await gql(SUMMARY);
      const entry = data.queueSummary.find((item) => item.queue === filters.queue);
      fill(summary, entry
        ? facts([['Open', String(entry.open)], ['Claimable', String(entry.claimable)], ['SLA breached', String(entry.slaBreached)]])
        : h('p', null, `No open appeals in ${filters.queue || 'any queue'}.`));
    } catch (err) {
      fill(summary, h('p', null, `Summary unavailable: ${err.message}`));
    }
  }

  async function load(append = false) {
    try {
      const data = await gql(LIST, { filter: filterInput(), first: PAGE, after: append ? cursor : null });
      appeals = append ? [...appeals, ...data.appeals.nodes] : data.appeals.nodes;
      cursor = data.appeals.pageInfo.endCursor;
      more.hidden = !data.appeals.pageInfo.hasNextPage;
      showError(null);
      renderRows();
      table.setAttribute('data-loaded', String(Date.now()));
    } catch (err) {
      showError(err.field === 'rule'
        ? `The rule filter is not a rule id: ${err.message}`
        : `Loading the queue failed: ${err.message}`);
    }
    loadSummary();
  }

  function follow() {
    stopLive();
    if (!filters.queue) {
      stopLive = () => {};
      return;
    }
    stopLive = live.subscribe(CHANGED, { queue: filters.queue }, {
      next(data) {
        const changed = data?.queueChanged;
        if (changed) announce(`Queue update: ${changed.reference} is now ${wire(changed.state)}${changed.assignee ? `, with ${changed.assignee}` : ''}.`);
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => load(false), 150);
      },
      resumed() { load(false); },
      error(errors) { showError(`Live updates stopped: ${errors?.[0]?.message ?? 'error'}`); },
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    filters.state = stateSelect.value;
    filters.queue = queueInput.value.trim();
    filters.tag = tagInput.value.trim();
    filters.minEscalation = escalationInput.value.trim();
    filters.slaBreached = breachedSelect.value;
    filters.rule = ruleInput.value.trim();
    filters.source = sourceInput.value.trim();
    filters.policy = policyInput.value.trim();
    filters.relation = relationSelect.value;
    load(false);
    follow();
  });
  more.addEventListener('click', () => load(true));
  const mayClaim = hasRole(me, 'REVIEWER', 'SENIOR_REVIEWER');
  async function claim() {
    if (claimButton.disabled) return;
    claimButton.disabled = true;
    try {
      if (await claimNext(filters.queue, { announce, navigate })) return;
      showError(`Nothing to claim in ${filters.queue || 'the default queue'}.`);
    } catch (err) {
      showError(`Claiming failed: ${err.message}`);
    } finally {
      claimButton.disabled = !mayClaim;
    }
  }
  claimButton.addEventListener('click', claim);
  const stopKeys = screenShortcuts([
    mayClaim && { key: 'n', label: 'Claim the next case of this queue', run: claim },
  ]);

  const ticker = setInterval(tick, 1000);
  load(false);
  follow();
  return () => {
    clearInterval(ticker);
    clearTimeout(reloadTimer);
    stopLive();
    stopKeys();
  };
}
