// One case: the enforcement and its statement of reasons, the full timeline, and the
// reviewer's actions. Every change sends the version on screen; a CONFLICT means someone
// else changed the case first, so the screen shows their state instead of overwriting it.

import { claimNext } from './claim.js';
import { composer } from './composer.js';
import { loadDraft, saveDraft } from './drafts.js';
import { facts, field, fill, h, jsonTree } from './dom.js';
import { gql } from './graphql.js';
import { screenShortcuts } from './keys.js';
import { live } from './live.js';
import { countdown, when, wire } from './format.js';
import { hasRole } from './session.js';

const APPEAL = `
  id reference state version channel priority queue tags identityVerified fourEyes assignee
  leaseUntil escalationLevel filedAt updatedAt triageDueAt decisionDueAt slaBreached contact
  accountId claimedAccount { id } language triagedByRule { id version name }
  decision { outcome reasons decidedBy approvedBy statementOfReasons }
  enforcement { id externalId accountId kind policy sourceKind sourceId batchId
                automatedDetection automatedDecision contentId contentRelation facts statement
                enforcedAt policyDetails { id category groundKind text { language title ground explanation } } }
  events { version kind actorKind actorId actorRoles at payload }
  messages { id direction channel sender recipient subject body receivedAt }`;

const LOAD = `query Case($id: ID!) { appeal(id: $id) { ${APPEAL} } }`;
const UPDATED = `subscription CaseUpdated($id: ID!) { appealUpdated(id: $id) { ${APPEAL} } }`;

const MUTATIONS = {
  addNote: `mutation Note($id: ID!, $v: Int!, $text: String!) { addNote(id: $id, expectedVersion: $v, text: $text) { ${APPEAL} } }`,
  requestInfo: `mutation Ask($id: ID!, $v: Int!, $message: String!) { requestInfo(id: $id, expectedVersion: $v, message: $message) { ${APPEAL} } }`,
  decideAppeal: `mutation Decide($id: ID!, $v: Int!, $outcome: Outcome!, $reasons: String!, $sor: JSON, $template: String) { decideAppeal(id: $id, expectedVersion: $v, outcome: $outcome, reasons: $reasons, statementOfReasons: $sor, template: $template) { ${APPEAL} } }`,
  approveDecision: `mutation Approve($id: ID!, $v: Int!, $note: String) { approveDecision(id: $id, expectedVersion: $v, note: $note) { ${APPEAL} } }`,
  rejectDecision: `mutation Reject($id: ID!, $v: Int!, $note: String!) { rejectDecision(id: $id, expectedVersion: $v, note: $note) { ${APPEAL} } }`,
  claimAppeal: `mutation ClaimThis($id: ID!, $v: Int!) { claimAppeal(id: $id, expectedVersion: $v) { ${APPEAL} } }`,
  releaseAppeal: `mutation Release($id: ID!, $v: Int!) { releaseAppeal(id: $id, expectedVersion: $v) { ${APPEAL} } }`,
  heartbeatClaim: `mutation Heartbeat($id: ID!, $v: Int!) { heartbeatClaim(id: $id, expectedVersion: $v) { ${APPEAL} } }`,
  escalateAppeal: `mutation Escalate($id: ID!, $v: Int!, $reason: String!) { escalateAppeal(id: $id, expectedVersion: $v, reason: $reason) { ${APPEAL} } }`,
};

const RELATIONS = {
  created: 'created (the account made the content)',
  saved: 'saved (the account kept someone else’s content)',
  shared: 'shared (the account passed someone else’s content on)',
};

const OPEN = ['FILED', 'TRIAGED', 'AWAITING_USER', 'REVIEWED'];
/** The roles of `triageAppeal` in the API's role matrix. */
const TRIAGERS = ['TRIAGER', 'REVIEWER', 'SENIOR_REVIEWER', 'ADMIN'];

/** Personal data the caller may not see comes back null; say so rather than show a blank. */
function personal(value, me) {
  if (value !== null && value !== undefined) return value;
  return me?.seesPersonalData ? '' : 'hidden for your role';
}

function timeline(appeal, me) {
  const items = [
    ...appeal.events.map((event) => ({ at: event.at, order: 0, event })),
    ...appeal.messages.map((message) => ({ at: message.receivedAt, order: 1, message })),
  ];
  items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  return h('ol', { class: 'timeline', 'aria-label': 'Events and messages, oldest first' },
    items.map(({ event, message }) => (event ? eventItem(event) : messageItem(message, me))));
}

function eventItem(event) {
  const payload = event.payload && typeof event.payload === 'object' && Object.keys(event.payload).length > 0
    ? h('details', null, h('summary', null, 'Details'), jsonTree(event.payload))
    : null;
  return h('li', { class: 'event' },
    h('p', { class: 'line' },
      h('span', { class: 'tag' }, wire(event.kind)),
      ` by ${event.actorKind}${event.actorId ? ` ${event.actorId}` : ''}`,
      ` · ${when(event.at)} · version ${event.version}`),
    payload);
}

function messageItem(message, me) {
  const inbound = message.direction === 'inbound';
  return h('li', { class: inbound ? 'message inbound' : 'message outbound', 'data-message-id': message.id },
    h('p', { class: 'line' },
      h('span', { class: 'tag' }, inbound ? 'message in' : 'message out'),
      ` ${message.channel} · ${when(message.receivedAt)}`),
    facts([
      ['From', personal(message.sender, me)],
      ['To', personal(message.recipient, me)],
      ['Subject', personal(message.subject, me)],
    ]),
    // Appellants write this text: it is shown exactly as written, never interpreted.
    h('pre', { class: 'message-body' }, personal(message.body, me)));
}

function enforcementSection(enforcement) {
  if (!enforcement) {
    return h('section', { 'aria-labelledby': 'enf-title' },
      h('h2', { id: 'enf-title' }, 'Enforcement'),
      h('p', null, 'The appellant named no enforcement Redress knows.'));
  }
  return h('section', { 'aria-labelledby': 'enf-title', class: 'enforcement' },
    h('h2', { id: 'enf-title' }, 'Enforcement'),
    facts([
      ['Kind', wire(enforcement.kind)],
      ['Policy', enforcement.policy],
      ['Source', `${enforcement.sourceKind} ${enforcement.sourceId}${enforcement.batchId ? ` (batch ${enforcement.batchId})` : ''}`],
      ['Automated detection', enforcement.automatedDetection],
      ['Automated decision', enforcement.automatedDecision],
      ['Content', enforcement.contentId ?? 'none'],
      ['Content relation', enforcement.contentRelation ? (RELATIONS[enforcement.contentRelation] ?? enforcement.contentRelation) : 'not recorded'],
      ['Facts', enforcement.facts],
      ['Enforced', when(enforcement.enforcedAt)],
    ]),
    policySection(enforcement.policyDetails),
    h('h3', null, 'Statement of reasons'),
    jsonTree(enforcement.statement));
}

/** What the enforcement's policy says, from the catalog, beside the enforcement. */
function policySection(policy) {
  if (!policy) return h('p', { class: 'hint' }, 'This policy is not in the policy catalog.');
  return h('div', { class: 'policy', 'aria-label': 'Policy' },
    h('h3', null, `Policy: ${policy.text.title}`),
    facts([
      ['Ground', `${policy.text.ground} (${wire(policy.groundKind)})`],
      ['Explanation', policy.text.explanation],
      ['Transparency Database category', policy.category],
    ]));
}

/** A reviewed restore waits for the account's restoration (and a second approval, if due). */
function stateText(appeal) {
  if (appeal.state !== 'REVIEWED' || !appeal.decision) return wire(appeal.state);
  if (appeal.fourEyes && !appeal.decision.approvedBy) return 'reviewed, awaiting a second approval';
  return appeal.decision.outcome === 'RESTORE' ? 'reviewed, restoration requested' : 'reviewed';
}

/** The linked account; else the one the sender's address belongs to, which nobody verified. */
function accountText(appeal) {
  if (appeal.accountId) return appeal.accountId;
  return appeal.claimedAccount ? `${appeal.claimedAccount.id} (claimed, not verified)` : 'unknown';
}

/** Who sorted the case: the routing rule (a link to the appeals it triaged) or a person. */
function triagedBy(appeal) {
  if (appeal.state === 'FILED') return 'waiting for triage';
  const rule = appeal.triagedByRule;
  if (!rule) return 'a person';
  return h('span', { class: 'triaged-by-rule' },
    h('a', { href: `#/queue/rule=${encodeURIComponent(rule.id)}` }, rule.name ?? 'a deleted rule'),
    ` (routing rule, version ${rule.version})`);
}

function summarySection(appeal, me) {
  const due = countdown(appeal.state === 'FILED' ? appeal.triageDueAt : appeal.decisionDueAt);
  return h('section', { 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title' }, 'Case'),
    facts([
      ['State', stateText(appeal)],
      ['Version', String(appeal.version)],
      ['Queue', appeal.queue],
      ['Priority', wire(appeal.priority)],
      ['Escalation level', String(appeal.escalationLevel)],
      ['Assignee', appeal.assignee ?? 'unclaimed'],
      ['Claim until', appeal.leaseUntil ? when(appeal.leaseUntil) : null],
      ['SLA', OPEN.includes(appeal.state) ? `${appeal.slaBreached ? 'breached · ' : ''}${due.text}` : 'closed'],
      ['Four-eyes', appeal.fourEyes ? 'a second approval is needed' : 'no'],
      ['Identity verified', appeal.identityVerified ? 'yes' : 'no'],
      ['Channel', wire(appeal.channel)],
      ['Contact', personal(appeal.contact, me)],
      ['Account', accountText(appeal)],
      ['Tags', appeal.tags.join(', ')],
      ['Triaged by', triagedBy(appeal)],
      ['Filed', when(appeal.filedAt)],
    ]),
    appeal.decision ? h('div', { class: 'decision' },
      h('h3', null, 'Decision'),
      facts([
        ['Outcome', wire(appeal.decision.outcome)],
        ['Reasons', appeal.decision.reasons],
        ['Decided by', appeal.decision.decidedBy],
        ['Approved by', appeal.decision.approvedBy ?? (appeal.fourEyes ? 'awaiting approval' : 'not needed')],
      ]),
      appeal.decision.statementOfReasons ? jsonTree(appeal.decision.statementOfReasons) : null) : null);
}

export function render(container, { announce, navigate, me }, id) {
  let appeal = null;
  let stopLive = () => {};
  let stopped = false;
  // While our own change is in flight its echo on the live feed is not news.
  let busy = false;
  const heading = h('h1', null, 'Case');
  const notice = h('div', { class: 'notice', role: 'alert', hidden: true, id: 'case-notice' });
  const body = h('div', { class: 'case-layout' });
  fill(container, h('p', null, h('a', { href: '#/queue' }, '← Queue')), heading, notice, body);

  function showNotice(text, kind = 'error') {
    notice.hidden = !text;
    notice.className = `notice ${kind}`;
    notice.textContent = text ?? '';
  }

  const mayClaim = hasRole(me, 'REVIEWER', 'SENIOR_REVIEWER');
  /** Whether the caller holds this case undecided: claiming another would strand it. */
  function holdingThis() {
    return appeal?.state === 'TRIAGED' && appeal.assignee === me.subject;
  }

  async function claimAnother() {
    if (holdingThis()) {
      showNotice('You hold this case: decide it or release it before claiming the next one.', 'info');
      return;
    }
    const queue = appeal?.queue ?? '';
    try {
      if (!await claimNext(queue, { announce, navigate })) {
        showNotice(`Nothing left to claim in ${queue || 'the default queue'}.`, 'info');
      }
    } catch (err) {
      showNotice(`Claiming failed: ${err.message}`);
    }
  }

  /** Whether the caller could take this case now: triaged, and nobody else's live claim. */
  function claimable() {
    if (!mayClaim || appeal?.state !== 'TRIAGED' || appeal.assignee === me.subject) return false;
    return !appeal.assignee || !appeal.leaseUntil || new Date(appeal.leaseUntil) <= new Date();
  }

  /** Claims the case on screen, e.g. one found by search rather than handed out by the queue. */
  function claimThis() {
    if (claimable()) change('claimAppeal', {});
  }

  /** After the caller's own decision the next case is one step away. */
  function nextCaseAction() {
    if (!mayClaim || !appeal.decision || appeal.decision.decidedBy !== me.subject) return null;
    return h('div', { class: 'action next-case' },
      h('h3', null, 'Next case'),
      h('p', { class: 'hint' }, `Decided. Claim the next case of ${appeal.queue} (key n).`),
      h('button', { type: 'button', class: 'primary', id: 'claim-next-after', onClick: claimAnother }, 'Claim next case'));
  }

  /** Text typed into the action forms survives re-rendering (live updates, conflicts). */
  function drafts() {
    const saved = {};
    for (const control of body.querySelectorAll('[data-draft]')) {
      saved[control.getAttribute('data-draft')] = control.type === 'radio' ? (control.checked ? control.value : saved[control.getAttribute('data-draft')]) : control.value;
    }
    return saved;
  }

  function restore(saved) {
    for (const control of body.querySelectorAll('[data-draft]')) {
      const value = saved[control.getAttribute('data-draft')];
      if (value === undefined) continue;
      if (control.type === 'radio') control.checked = control.value === value;
      else control.value = value;
    }
  }

  /** Sends a change with the version on screen; `sent` is the form whose text went out. */
  async function change(name, variables, sent) {
    showNotice(null);
    busy = true;
    try {
      const data = await gql(MUTATIONS[name], { id: appeal.id, v: appeal.version, ...variables });
      show(data[name], sent);
      announce(`${appeal.reference}: saved, now ${wire(appeal.state)}.`);
      if (name === 'decideAppeal') body.querySelector('#claim-next-after')?.focus();
    } catch (err) {
      if (err.code === 'CONFLICT') {
        showNotice(`Someone else changed this case first (it is now at version ${err.actualVersion ?? 'newer'}). Your change was not applied; the current state is shown below. Check it and try again if it still applies.`, 'conflict');
        await reload();
      } else {
        showNotice(`${err.code}: ${err.message}`);
      }
    } finally {
      busy = false;
    }
  }

  function actionForm(title, name, controls, submitLabel, collect, options = {}) {
    const form = h('form', { class: 'action', 'aria-label': title, 'data-action': name },
      h('h3', null, title), controls, h('button', { type: 'submit', class: options.primary ? 'primary' : null }, submitLabel));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const variables = collect(form);
      if (!variables) return;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      await change(name, variables, form);
      button.disabled = false;
    });
    return form;
  }

  // The composer lays itself out from the draft's outcome (see `composer`).
  function decideForm(saved) {
    return composer(appeal, (variables, form) => change('decideAppeal', variables, form), saved);
  }

  function actions(saved) {
    const forms = [nextCaseAction()];
    const mine = appeal.assignee && appeal.assignee === me.subject;
    const reviewer = hasRole(me, 'REVIEWER', 'SENIOR_REVIEWER');
    if (appeal.state === 'TRIAGED' && reviewer && mine) {
      forms.push(decideForm(saved));
      const ask = h('textarea', { name: 'message', rows: '3', required: true, 'data-draft': 'ask' });
      forms.push(actionForm('Request information', 'requestInfo', [field('Question to the appellant', ask, 'The SLA clock pauses until they answer.')], 'Send request', () => ({ message: ask.value.trim() })));
      const claimButtons = h('div', { class: 'buttons' },
        h('button', { type: 'button', onClick: () => change('heartbeatClaim', {}) }, 'Keep my claim'),
        h('button', { type: 'button', onClick: () => change('releaseAppeal', {}) }, 'Release to queue'));
      forms.push(h('div', { class: 'action' }, h('h3', null, 'Claim'), claimButtons));
    }
    if (appeal.state === 'REVIEWED' && appeal.fourEyes && hasRole(me, 'SENIOR_REVIEWER')) {
      const approveNote = h('textarea', { name: 'note', rows: '2', 'data-draft': 'approve' });
      forms.push(actionForm('Approve the decision', 'approveDecision', [field('Note (optional)', approveNote)], 'Approve', () => ({ note: approveNote.value.trim() || null }), { primary: true }));
      const rejectNote = h('textarea', { name: 'note', rows: '2', required: true, 'data-draft': 'reject' });
      forms.push(actionForm('Reject the decision', 'rejectDecision', [field('Why (sent back to the queue)', rejectNote)], 'Reject', () => ({ note: rejectNote.value.trim() })));
    }
    if (OPEN.includes(appeal.state) && hasRole(me, 'REVIEWER', 'SENIOR_REVIEWER', 'ADMIN')) {
      const reason = h('textarea', { name: 'reason', rows: '2', required: true, 'data-draft': 'escalate' });
      forms.push(actionForm('Escalate', 'escalateAppeal', [field('Reason', reason)], 'Escalate to senior queue', () => ({ reason: reason.value.trim() })));
    }
    if (hasRole(me, 'TRIAGER', 'REVIEWER', 'SENIOR_REVIEWER', 'SUPPORT', 'ADMIN')) {
      const note = h('textarea', { name: 'text', rows: '3', required: true, 'data-draft': 'note' });
      forms.push(actionForm('Add a note', 'addNote', [field('Note (staff only)', note)], 'Add note', () => ({ text: note.value.trim() })));
    }
    if (appeal.state === 'FILED' && hasRole(me, ...TRIAGERS)) {
      forms.unshift(h('div', { class: 'action' },
        h('h3', null, 'Triage'),
        h('p', { class: 'hint' }, 'Nobody has triaged this case yet: it is in no reviewer’s queue until it has a queue and a priority.'),
        h('a', { href: `#/triage/${encodeURIComponent(appeal.id)}`, class: 'button primary', id: 'triage-this' }, 'Triage this case')));
    }
    if (claimable()) {
      forms.unshift(h('div', { class: 'action' },
        h('h3', null, 'Claim'),
        h('p', { class: 'hint' }, appeal.assignee
          ? `${appeal.assignee}’s claim has lapsed. Claim the case to decide it (key c).`
          : 'Nobody holds this case. Claim it to decide it (key c).'),
        h('button', { type: 'button', class: 'primary', id: 'claim-this', onClick: claimThis }, 'Claim this case')));
    } else if (appeal.state === 'TRIAGED' && !mine) {
      forms.unshift(h('p', { class: 'hint' }, appeal.assignee
        ? `${appeal.assignee} holds the claim on this case.`
        : 'Claim the case from the queue to decide it.'));
    }
    return h('section', { class: 'actions', 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, 'Actions'), forms);
  }

  function show(next, sent) {
    if (!next) return;
    // The first render takes what was typed before a reload or a sign-in again.
    const saved = appeal ? drafts() : loadDraft(next.id);
    // What was just sent is done; everything else typed stays.
    for (const control of sent?.querySelectorAll('[data-draft]') ?? []) {
      delete saved[control.getAttribute('data-draft')];
    }
    appeal = next;
    heading.textContent = `Case ${appeal.reference}`;
    container.setAttribute('data-appeal-id', appeal.id);
    container.setAttribute('data-version', String(appeal.version));
    container.setAttribute('data-state', appeal.state);
    fill(body,
      h('div', { class: 'case-main' },
        summarySection(appeal, me),
        enforcementSection(appeal.enforcement),
        h('section', { 'aria-labelledby': 'timeline-title' },
          h('h2', { id: 'timeline-title' }, 'Timeline'),
          timeline(appeal, me))),
      actions(saved));
    restore(saved);
    saveDraft(appeal.id, drafts());
  }

  function keepDraft() {
    if (appeal) saveDraft(appeal.id, drafts());
  }
  body.addEventListener('input', keepDraft);
  body.addEventListener('change', keepDraft);

  async function reload() {
    try {
      const data = await gql(LOAD, { id });
      if (!data.appeal) {
        showNotice('No such case.');
        return;
      }
      show(data.appeal);
    } catch (err) {
      // A case under the reader's own blind second review is withheld: the server says why.
      showNotice(err.code === 'FORBIDDEN' ? `You cannot open this case now: ${err.message}.` : `Loading the case failed: ${err.message}`);
    }
  }

  const stopKeys = screenShortcuts([
    mayClaim && { key: 'n', label: 'Claim the next case of this case’s queue (once this one is decided or released)', run: claimAnother },
    mayClaim && { key: 'c', label: 'Claim this case, when nobody holds it', run: claimThis },
  ]);

  reload().then(() => {
    if (stopped) return;
    stopLive = live.subscribe(UPDATED, { id }, {
      next(data) {
        const next = data?.appealUpdated;
        if (!next || busy || (appeal && next.version <= appeal.version)) return;
        show(next);
        showNotice(`This case was just changed (${wire(next.state)}, version ${next.version}).`, 'info');
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
