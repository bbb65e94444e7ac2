// Triage: the filed appeals, oldest first, each with what sorting it takes (the
// enforcement, whom the sender claims to be and how sure that is), and the form that sorts
// it into a queue with a priority. After each triage the oldest appeal still waiting
// opens, so a triager works through the backlog without going back to the list.
// `#/triage` is the list, `#/triage/<appeal id>` one appeal.

import { facts, field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { live } from './live.js';
import { countdown, when, wire } from './format.js';
import { screenShortcuts } from './keys.js';
import { hasRole } from './session.js';

// Each row reads two enforcements: a page of 25 stays within the API's complexity limit.
const PAGE = 25;
const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'];
/** The roles of `triageAppeal` in the API's role matrix. */
const TRIAGERS = ['TRIAGER', 'REVIEWER', 'SENIOR_REVIEWER', 'ADMIN'];

const ENFORCEMENT = 'kind policy sourceKind sourceId batchId automatedDetection automatedDecision enforcedAt';
const FILED = `query Filed($first: Int, $after: String) {
  appeals(filter: {states: [FILED]}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id reference filedAt triageDueAt slaBreached channel identityVerified accountId
            claimedAccount { id enforcements { ${ENFORCEMENT} } }
            enforcement { ${ENFORCEMENT} } }
  }
}`;
const OLDEST = 'query Oldest { appeals(filter: {states: [FILED]}, first: 1) { nodes { id } } }';
const APPEAL = `id reference state version channel priority queue tags identityVerified fourEyes
  filedAt triageDueAt slaBreached contact accountId
  account { id status }
  claimedAccount { id status enforcements { ${ENFORCEMENT} } }
  enforcement { ${ENFORCEMENT} contentId contentRelation facts }
  messages { direction sender subject body receivedAt }`;
const CASE = `query TriageCase($id: ID!) { appeal(id: $id) { ${APPEAL} } }`;
const UPDATED = `subscription TriageUpdated($id: ID!) { appealUpdated(id: $id) { ${APPEAL} } }`;
const QUEUES = 'query Queues { configuredQueues { name isDefault sla { priority timeToTriageSeconds timeToDecisionSeconds } } }';
const TRIAGE = 'mutation Triage($id: ID!, $v: Int!, $input: TriageInput!) { triageAppeal(id: $id, expectedVersion: $v, input: $input) { reference queue priority tags fourEyes accountId } }';
const CHANGED = 'subscription FiledChanged($queue: String!) { queueChanged(queue: $queue) { id } }';

/** What the last triage did, shown on the screen that opens after it. */
let handedOver = null;

/** `14400` → `4 h`, `172800` → `2 d`. */
function duration(seconds) {
  if (seconds >= 172800 && seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/** The configured queues, or `null` when this server cannot list them. */
async function configuredQueues() {
  try {
    return (await gql(QUEUES)).configuredQueues;
  } catch {
    return null;
  }
}

/** Opens the oldest filed appeal; says so when none is waiting. */
async function openOldest({ navigate }) {
  const data = await gql(OLDEST);
  const next = data.appeals.nodes[0];
  if (next) {
    navigate(`#/triage/${encodeURIComponent(next.id)}`);
    return true;
  }
  return false;
}

/** The enforcement an appeal concerns; for an unlinked sender, the claimed account's latest. */
function concerned(appeal) {
  if (appeal.enforcement) return { enforcement: appeal.enforcement, claimed: false };
  const latest = appeal.claimedAccount?.enforcements?.[0];
  return latest ? { enforcement: latest, claimed: true } : null;
}

function automation(enforcement) {
  return `detection ${enforcement.automatedDetection}, decision ${enforcement.automatedDecision}`;
}

function source(enforcement) {
  return `${enforcement.sourceKind} ${enforcement.sourceId}${enforcement.batchId ? ` (batch ${enforcement.batchId})` : ''}`;
}

function personal(value, me) {
  if (value !== null && value !== undefined) return value;
  return me?.seesPersonalData ? '—' : 'hidden for your role';
}

export function render(container, context, parameter) {
  return parameter ? renderCase(container, context, parameter) : renderList(container, context);
}

function outcomeNotice() {
  const notice = h('p', { class: 'notice info', role: 'status', id: 'triage-outcome', hidden: !handedOver }, handedOver ?? '');
  handedOver = null;
  return notice;
}

function renderList(container, context) {
  const { me } = context;
  let appeals = [];
  let cursor = null;
  let stopLive = () => {};
  let reloadTimer = null;
  let stopped = false;

  const nextButton = h('button', { type: 'button', class: 'primary', id: 'triage-next' }, 'Triage next');
  const count = h('p', { class: 'summary', 'aria-live': 'polite' });
  const message = h('p', { class: 'notice', role: 'alert', hidden: true });
  const rows = h('tbody');
  const table = h('table', { class: 'appeals filed', 'aria-describedby': 'filed-caption' },
    h('caption', { id: 'filed-caption' }, 'Appeals waiting for triage, oldest first'),
    h('thead', null, h('tr', null,
      ['Reference', 'Filed', 'Triage due', 'Channel', 'Identity', 'Account', 'Enforcement'].map((title) => h('th', { scope: 'col' }, title)))),
    rows);
  const more = h('button', { type: 'button', hidden: true }, 'Load more');

  fill(container,
    h('h1', null, 'Triage'),
    outcomeNotice(),
    h('p', null, 'Filed appeals wait here until someone gives them a priority and a queue. Triage next opens the oldest; after each triage the next one opens.'),
    h('div', { class: 'toolbar' }, nextButton, count),
    message,
    table,
    more);

  if (!hasRole(me, ...TRIAGERS)) {
    nextButton.disabled = true;
    nextButton.title = 'Triaging needs the triager, reviewer, senior reviewer or admin role';
  }

  function showError(text) {
    message.hidden = !text;
    message.textContent = text ?? '';
  }

  function renderRows() {
    fill(rows, appeals.length === 0
      ? h('tr', null, h('td', { colspan: '7', class: 'empty' }, 'Nothing is waiting for triage.'))
      : appeals.map((appeal) => {
        const due = countdown(appeal.triageDueAt);
        const subject = concerned(appeal);
        const account = appeal.accountId
          ?? (appeal.claimedAccount ? `${appeal.claimedAccount.id} (claimed, not linked)` : 'unknown');
        return h('tr', { 'data-appeal-id': appeal.id },
          h('th', { scope: 'row' }, h('a', { href: `#/triage/${encodeURIComponent(appeal.id)}` }, appeal.reference)),
          h('td', null, when(appeal.filedAt)),
          h('td', { class: appeal.slaBreached || due.overdue ? 'sla breached' : 'sla' }, due.text),
          h('td', null, wire(appeal.channel)),
          h('td', null, appeal.identityVerified ? 'verified' : 'unverified'),
          h('td', { class: 'account' }, account),
          h('td', { class: 'enforcement' }, subject
            ? [
              `${wire(subject.enforcement.kind)} · ${subject.enforcement.policy}${subject.claimed ? ' (claimed account’s latest)' : ''}`,
              h('span', { class: 'hint' }, `${source(subject.enforcement)} · ${when(subject.enforcement.enforcedAt)} · automated ${automation(subject.enforcement)}`),
            ]
            : 'none named'));
      }));
  }

  async function load(append = false) {
    try {
      const data = await gql(FILED, { first: PAGE, after: append ? cursor : null });
      appeals = append ? [...appeals, ...data.appeals.nodes] : data.appeals.nodes;
      cursor = data.appeals.pageInfo.endCursor;
      more.hidden = !data.appeals.pageInfo.hasNextPage;
      count.textContent = `${appeals.length}${data.appeals.pageInfo.hasNextPage ? '+' : ''} waiting`;
      showError(null);
      renderRows();
      table.setAttribute('data-loaded', String(Date.now()));
    } catch (err) {
      showError(`Loading the filed appeals failed: ${err.message}`);
    }
  }

  async function triageNext() {
    if (nextButton.disabled) return;
    nextButton.disabled = true;
    try {
      if (!await openOldest(context)) showError('Nothing is waiting for triage.');
    } catch (err) {
      showError(`Opening the next appeal failed: ${err.message}`);
    } finally {
      nextButton.disabled = !hasRole(me, ...TRIAGERS);
    }
  }

  nextButton.addEventListener('click', triageNext);
  more.addEventListener('click', () => load(true));
  const stopKeys = screenShortcuts([
    hasRole(me, ...TRIAGERS) && { key: 'n', label: 'Triage next: open the oldest filed appeal', run: triageNext },
  ]);

  // New appeals are filed into the default queue: follow it to keep the list current.
  configuredQueues().then((queues) => {
    const home = queues?.find((queue) => queue.isDefault)?.name;
    if (!home || stopped) return;
    stopLive = live.subscribe(CHANGED, { queue: home }, {
      next() {
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => load(false), 150);
      },
      resumed() { load(false); },
    });
  });
  load(false);
  return () => {
    stopped = true;
    clearTimeout(reloadTimer);
    stopLive();
    stopKeys();
  };
}

function renderCase(container, context, id) {
  const { announce, me } = context;
  const canTriage = hasRole(me, ...TRIAGERS);
  let appeal = null;
  let queues = null;
  let stopLive = () => {};
  let stopped = false;
  // While our own triage is in flight its echo on the live feed is not news.
  let busy = false;

  const heading = h('h1', null, 'Triage');
  const notice = h('div', { class: 'notice', role: 'alert', hidden: true, id: 'triage-notice' });
  const body = h('div', { class: 'case-layout' });
  fill(container,
    h('p', null, h('a', { href: '#/triage' }, '← All filed appeals')),
    heading,
    outcomeNotice(),
    notice,
    body);

  function showNotice(parts, kind = 'error') {
    const empty = parts === null || parts === undefined;
    notice.hidden = empty;
    notice.className = `notice ${kind}`;
    fill(notice, empty ? [] : parts);
  }

  async function triageNext() {
    try {
      if (!await openOldest(context)) {
        handedOver = handedOver ?? 'Nothing else is waiting for triage.';
        context.navigate('#/triage');
      }
    } catch (err) {
      showNotice(`Opening the next appeal failed: ${err.message}`);
    }
  }

  function nextButton() {
    return h('button', { type: 'button', class: 'primary', onClick: triageNext }, 'Triage next');
  }

  // ---- the evidence ----

  function identitySection() {
    const first = appeal.messages.find((message) => message.direction === 'inbound');
    const claimed = appeal.claimedAccount;
    let registered;
    if (!me.seesPersonalData) registered = 'hidden for your role';
    else if (appeal.account) registered = 'not asked: the appeal is linked to an account';
    else if (!claimed) registered = 'no account has this address';
    else registered = `${claimed.id} (${claimed.status}), not linked: nobody vouched for the sender. Marking the identity verified links the appeal to it.`;
    return h('section', { 'aria-labelledby': 'identity-title', class: 'identity-evidence' },
      h('h2', { id: 'identity-title' }, 'Who is appealing'),
      facts([
        ['Identity verified', appeal.identityVerified
          ? 'yes: the channel vouched for the sender (a trusted mail server, a linked handle or the platform)'
          : 'no: nobody has vouched for the sender yet'],
        ['Channel', wire(appeal.channel)],
        ['Sender', personal(first?.sender, me)],
        ['Answers go to', personal(appeal.contact, me)],
        ['Linked account', appeal.account ? `${appeal.account.id} (${appeal.account.status})` : 'none'],
        ['Address registered to', registered],
      ]));
  }

  function enforcementFacts(enforcement) {
    return facts([
      ['Kind', wire(enforcement.kind)],
      ['Policy', enforcement.policy],
      ['Source', source(enforcement)],
      ['Enforced', when(enforcement.enforcedAt)],
      ['Automated detection', enforcement.automatedDetection],
      ['Automated decision', enforcement.automatedDecision],
      ['Content relation', enforcement.contentRelation],
      ['Facts', enforcement.facts],
    ]);
  }

  function enforcementSection() {
    const title = h('h2', { id: 'enf-title' }, 'Enforcement');
    if (appeal.enforcement) {
      return h('section', { 'aria-labelledby': 'enf-title', class: 'enforcement' }, title, enforcementFacts(appeal.enforcement));
    }
    const claimed = appeal.claimedAccount;
    if (claimed && claimed.enforcements.length > 0) {
      return h('section', { 'aria-labelledby': 'enf-title', class: 'enforcement' }, title,
        h('p', null, `The appeal names no enforcement. Against the account the sender claims (${claimed.id}), newest first:`),
        h('ol', { class: 'enforcements' }, claimed.enforcements.map((enforcement) => h('li', null, enforcementFacts(enforcement)))));
    }
    return h('section', { 'aria-labelledby': 'enf-title', class: 'enforcement' }, title,
      h('p', null, 'The appeal names no enforcement Redress knows, and no known account has the sender’s address.'));
  }

  function messageSection() {
    const inbound = appeal.messages.filter((message) => message.direction === 'inbound');
    const first = inbound[0];
    return h('section', { 'aria-labelledby': 'wrote-title' },
      h('h2', { id: 'wrote-title' }, 'What they wrote'),
      first
        ? [
          facts([['Received', when(first.receivedAt)], ['Subject', personal(first.subject, me)]]),
          // Appellants write this text: it is shown exactly as written, never interpreted.
          h('pre', { class: 'message-body' }, personal(first.body, me)),
          inbound.length > 1 ? h('p', { class: 'hint' }, `${inbound.length - 1} more message(s) on the case screen.`) : null,
        ]
        : h('p', null, 'No message.'),
      h('p', null, h('a', { href: `#/case/${encodeURIComponent(appeal.id)}` }, 'Open the full case')));
  }

  // ---- the form ----

  /** A control with its label, hint and a place for an error that names it. */
  function withError(label, control, hint) {
    const wrapper = field(label, control, hint);
    const error = h('p', { class: 'field-error', id: `${control.id}-error`, 'data-error-for': control.name });
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), error.id].filter(Boolean).join(' '));
    wrapper.append(error);
    return wrapper;
  }

  function queueControl() {
    if (!queues) {
      return h('input', { type: 'text', name: 'queue', id: 'triage-queue', value: appeal.queue, autocomplete: 'off', spellcheck: 'false' });
    }
    const names = queues.map((queue) => queue.name);
    if (!names.includes(appeal.queue)) names.unshift(appeal.queue);
    const select = h('select', { name: 'queue', id: 'triage-queue' },
      names.map((name) => h('option', { value: name }, name === appeal.queue ? `${name} (current)` : name)));
    select.value = appeal.queue;
    return select;
  }

  function form() {
    const priority = h('select', { name: 'priority', id: 'triage-priority' },
      PRIORITIES.map((value) => h('option', { value }, wire(value))));
    priority.value = appeal.priority;
    const queue = queueControl();
    const tags = h('input', { type: 'text', name: 'tags', id: 'triage-tags', value: appeal.tags.join(', '), autocomplete: 'off', spellcheck: 'false' });
    const verified = h('input', { type: 'checkbox', name: 'identityVerified', id: 'triage-verified', checked: appeal.identityVerified });
    // Only the account the sender's address belongs to can be linked, and only by verifying.
    const linkable = !appeal.account && appeal.claimedAccount ? appeal.claimedAccount.id : null;
    const verifiedLabel = linkable ? `Identity verified — links this appeal to account ${linkable}` : 'Identity verified';
    const verifiedHint = linkable
      ? `Tick when the evidence shows the sender holds account ${linkable}: the appeal is then linked to it and to its latest enforcement, so a restore can be carried out.`
      : 'Tick when the evidence shows the sender holds the account.';
    const verifiedError = h('p', { class: 'field-error', id: 'triage-verified-error', 'data-error-for': 'identityVerified' });
    verified.setAttribute('aria-describedby', 'triage-verified-hint triage-verified-error');
    const deadlines = h('p', { class: 'hint', id: 'triage-deadlines', 'aria-live': 'polite' });
    const problem = h('p', { class: 'field-error', role: 'alert', id: 'triage-problem' });
    const submit = h('button', { type: 'submit', class: 'primary', disabled: !canTriage }, 'Triage');

    function showDeadlines() {
      const sla = queues?.find((entry) => entry.name === queue.value)?.sla.find((entry) => entry.priority === priority.value);
      deadlines.textContent = sla
        ? `In ${queue.value} at ${wire(priority.value)} priority: decision due ${duration(sla.timeToDecisionSeconds)} after filing (triage within ${duration(sla.timeToTriageSeconds)}).`
        : '';
    }
    priority.addEventListener('change', showDeadlines);
    queue.addEventListener('change', showDeadlines);
    showDeadlines();

    const element = h('form', { class: 'triage-form', 'aria-labelledby': 'triage-title', novalidate: true },
      h('h2', { id: 'triage-title' }, 'Triage'),
      canTriage ? null : h('p', { class: 'hint' }, 'Triaging needs the triager, reviewer, senior reviewer or admin role.'),
      withError('Priority', priority),
      withError('Queue', queue, queues ? 'The configured queues.' : 'This server does not list its queues: type the queue’s name.'),
      deadlines,
      withError('Tags', tags, 'Separate tags with commas, e.g. spam, minor.'),
      h('div', { class: 'choice' }, verified, h('label', { htmlFor: verified.id }, verifiedLabel)),
      h('p', { class: 'hint', id: 'triage-verified-hint' }, verifiedHint),
      verifiedError,
      problem,
      h('div', { class: 'buttons' }, submit));

    const labels = { priority: 'Priority', queue: 'Queue', tags: 'Tags', identityVerified: 'Identity verified' };
    const controls = { priority, queue, tags, identityVerified: verified };
    // The link is made by the identity checkbox: its refusals belong there.
    const fieldOf = { linkClaimedAccount: 'identityVerified' };

    function clearErrors() {
      problem.textContent = '';
      for (const error of element.querySelectorAll('[data-error-for]')) error.textContent = '';
      for (const control of Object.values(controls)) control.removeAttribute('aria-invalid');
    }

    /** Puts `text` under the field and says in the form which field it is. */
    function fieldError(apiField, text) {
      const name = fieldOf[apiField] ?? apiField;
      const control = controls[name];
      if (!control) {
        problem.textContent = `The triage was not saved: ${text}`;
        return;
      }
      element.querySelector(`[data-error-for="${name}"]`).textContent = text;
      control.setAttribute('aria-invalid', 'true');
      problem.textContent = `The triage was not saved: check ${labels[name]} (${text}).`;
      control.focus();
    }

    function collect() {
      const queueName = queue.value.trim();
      if (!queueName) {
        fieldError('queue', 'enter the queue to route the case to');
        return null;
      }
      const tagList = [...new Set(tags.value.split(',').map((tag) => tag.trim()).filter(Boolean))];
      const input = { priority: priority.value, queue: queueName, tags: tagList, identityVerified: verified.checked };
      // Said outright, so a link the server cannot make is refused rather than skipped.
      if (linkable) input.linkClaimedAccount = verified.checked;
      return input;
    }

    element.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors();
      const input = collect();
      if (!input) return;
      submit.disabled = true;
      busy = true;
      try {
        const data = await gql(TRIAGE, { id: appeal.id, v: appeal.version, input });
        const done = data.triageAppeal;
        const linked = linkable && done.accountId === linkable ? `, linked to account ${linkable}` : '';
        handedOver = `${done.reference} triaged: ${wire(done.priority)} priority in ${done.queue}${done.tags.length ? `, tagged ${done.tags.join(', ')}` : ''}${done.fourEyes ? ', four-eyes review' : ''}${linked}.`;
        announce(handedOver);
        await triageNext();
      } catch (err) {
        await refused(err, fieldError);
      } finally {
        busy = false;
        submit.disabled = !canTriage;
      }
    });
    return element;
  }

  async function refused(err, fieldError) {
    if (err.code === 'CONFLICT') {
      const choices = formValues();
      await reload();
      if (appeal?.state === 'FILED') {
        restoreFormValues(choices);
        showNotice(`Someone else changed this case first (it is now at version ${appeal.version}). Your triage was not applied; the case as it is now is shown below, with your choices kept. Check it and triage again.`, 'conflict');
      } else if (appeal) {
        showNotice([`Someone else triaged ${appeal.reference} first (${wire(appeal.priority)} priority in ${appeal.queue}). Your triage was not applied. `, nextButton()], 'conflict');
      }
      return;
    }
    if (err.code === 'BAD_USER_INPUT') {
      fieldError(err.field, err.message);
      return;
    }
    if (err.code === 'FORBIDDEN') {
      showNotice(`You may not triage this case: ${err.message}`);
      return;
    }
    showNotice(`The triage was not saved: ${err.message}`);
  }

  function formValues() {
    const values = {};
    for (const control of body.querySelectorAll('form.triage-form [name]')) {
      values[control.name] = control.type === 'checkbox' ? control.checked : control.value;
    }
    return values;
  }

  function restoreFormValues(values) {
    for (const control of body.querySelectorAll('form.triage-form [name]')) {
      if (!(control.name in values)) continue;
      if (control.type === 'checkbox') control.checked = values[control.name];
      else control.value = values[control.name];
      control.dispatchEvent(new Event('change'));
    }
  }

  function show(next) {
    appeal = next;
    heading.textContent = `Triage ${appeal.reference}`;
    document.title = `${heading.textContent} · Redress console`;
    container.setAttribute('data-appeal-id', appeal.id);
    container.setAttribute('data-version', String(appeal.version));
    container.setAttribute('data-state', appeal.state);
    const side = appeal.state === 'FILED'
      ? form()
      : h('div', { class: 'action' },
        h('h2', { id: 'triage-title' }, 'Triage'),
        h('p', null, `This case is ${wire(appeal.state)}: it was triaged already (${wire(appeal.priority)} priority in ${appeal.queue}).`),
        nextButton());
    fill(body,
      h('div', { class: 'case-main' }, identitySection(), enforcementSection(), messageSection()),
      h('section', { class: 'actions', 'aria-label': 'Triage form' }, side));
  }

  async function reload() {
    try {
      const data = await gql(CASE, { id });
      if (!data.appeal) {
        showNotice('No such case.');
        return;
      }
      show(data.appeal);
    } catch (err) {
      showNotice(`Loading the case failed: ${err.message}`);
    }
  }

  const stopKeys = screenShortcuts([
    canTriage && { key: 'n', label: 'Triage next: open the oldest filed appeal', run: triageNext },
    { key: 't', label: 'Move to the triage form', run: () => body.querySelector('form.triage-form select, form.triage-form input')?.focus() },
  ]);

  // The queues first: the form offers them from its first showing.
  configuredQueues().then((listed) => {
    queues = listed;
    return reload();
  }).then(() => {
    if (stopped) return;
    stopLive = live.subscribe(UPDATED, { id }, {
      next(data) {
        const next = data?.appealUpdated;
        if (!next || busy || (appeal && next.version <= appeal.version)) return;
        const choices = formValues();
        show(next);
        if (next.state === 'FILED') {
          restoreFormValues(choices);
          showNotice(`This case was just changed (version ${next.version}); your choices are kept.`, 'info');
        } else {
          showNotice([`${next.reference} was just triaged by someone else (${wire(next.priority)} priority in ${next.queue}). `, nextButton()], 'conflict');
        }
        announce(`${next.reference} changed: now ${wire(next.state)}.`);
      },
      resumed: reload,
    });
  });
  return () => {
    stopped = true;
    stopLive();
    stopKeys();
  };
}
