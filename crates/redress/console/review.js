// Blind second review: a reviewer takes the next open second review (never of their own
// decision) and reads the case as the appellant and the platform put it, without the first
// outcome, its reasons or the case's history, then records their own outcome. Whether it
// agrees with the first is shown only once it is recorded; until then the API withholds
// the case from them everywhere else too.

import { facts, field, fill, h, jsonTree } from './dom.js';
import { gql } from './graphql.js';
import { screenShortcuts } from './keys.js';
import { countdown, when, wire } from './format.js';

const OPEN = 'query Open { openSecondReviews }';
const TAKE = `mutation Take { takeSecondReview {
  id channel filedAt language policy heldUntil
  enforcement { kind policy automatedDetection automatedDecision contentRelation facts statement enforcedAt policyDetails { text { title ground explanation } } }
  messages { channel subject body receivedAt }
} }`;
const RECORD = 'mutation Record($id: ID!, $outcome: Outcome!) { recordSecondReview(id: $id, outcome: $outcome) { id outcome agreed reviewedAt } }';

function enforcementSection(enforcement) {
  if (!enforcement) {
    return h('section', { 'aria-labelledby': 'blind-enf-title' },
      h('h2', { id: 'blind-enf-title' }, 'Enforcement'),
      h('p', null, 'The appeal names no enforcement Redress knows.'));
  }
  const policy = enforcement.policyDetails?.text;
  return h('section', { 'aria-labelledby': 'blind-enf-title' },
    h('h2', { id: 'blind-enf-title' }, 'Enforcement'),
    facts([
      ['Action', enforcement.kind],
      ['Policy', policy ? `${policy.title} (${enforcement.policy})` : enforcement.policy],
      ['Terms clause or legal ground', policy?.ground],
      ['Explanation', policy?.explanation],
      ['Content', enforcement.contentRelation],
      ['Automated detection', enforcement.automatedDetection],
      ['Automated decision', enforcement.automatedDecision],
      ['Enforced', when(enforcement.enforcedAt)],
      ['Facts', enforcement.facts],
    ]),
    h('details', null, h('summary', null, 'Statement of reasons the platform sent'), jsonTree(enforcement.statement)));
}

function messagesSection(messages) {
  return h('section', { 'aria-labelledby': 'blind-messages-title' },
    h('h2', { id: 'blind-messages-title' }, 'What the appellant wrote'),
    messages.length ? h('ol', { class: 'timeline', 'aria-label': 'The appellant’s messages, oldest first' },
      messages.map((message) => h('li', { class: 'message inbound' },
        h('p', { class: 'line' }, h('span', { class: 'tag' }, 'message in'), ` ${message.channel} · ${when(message.receivedAt)}`),
        facts([['Subject', message.subject]]),
        // Appellants write this text: it is shown exactly as written, never interpreted.
        h('pre', { class: 'message-body' }, message.body))))
      : h('p', null, 'No messages.'));
}

export function render(container, { announce }) {
  let current = null;
  let busy = false;
  const open = h('p', { class: 'line', id: 'second-reviews-open' }, 'Counting open second reviews…');
  const takeButton = h('button', { type: 'button', class: 'primary', id: 'take-second-review', 'aria-keyshortcuts': 'n' }, 'Take the next case (n)');
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  const body = h('div', { id: 'second-review' });

  fill(container, h('h1', null, 'Second review'),
    h('p', null, 'A share of decisions is reviewed again by another reviewer, blind: you see the case as the appellant and the platform put it, not the first decision, its reasons or the case’s history. Decide it as you would; whether you agree with the first decision is shown once you have recorded yours. Until then the case is withheld from you everywhere else in the console.'),
    open, h('div', { class: 'buttons' }, takeButton), notice, body);

  function showNotice(text, kind = 'alert') {
    notice.hidden = !text;
    notice.className = kind === 'info' ? 'notice info' : 'notice';
    notice.textContent = text ?? '';
  }

  async function count() {
    try {
      const data = await gql(OPEN);
      open.textContent = `${data.openSecondReviews} open second review${data.openSecondReviews === 1 ? '' : 's'}.`;
    } catch (err) {
      open.textContent = `Counting failed: ${err.message}`;
    }
  }

  function showCase(review) {
    current = review;
    const restore = h('input', { type: 'radio', name: 'outcome', value: 'RESTORE', id: 'second-outcome-restore' });
    const uphold = h('input', { type: 'radio', name: 'outcome', value: 'UPHOLD', id: 'second-outcome-uphold' });
    const error = h('p', { class: 'field-error', role: 'alert' });
    const form = h('form', { class: 'action', 'aria-label': 'Your outcome', 'data-action': 'recordSecondReview' },
      h('h2', null, 'Your outcome'),
      h('fieldset', null, h('legend', null, 'Outcome'),
        h('div', { class: 'choice' }, restore, h('label', { htmlFor: 'second-outcome-restore' }, 'Restore')),
        h('div', { class: 'choice' }, uphold, h('label', { htmlFor: 'second-outcome-uphold' }, 'Uphold'))),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Record outcome'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = form.querySelector('input[name=outcome]:checked');
      if (!chosen) {
        error.textContent = 'Choose restore or uphold.';
        restore.focus();
        return;
      }
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const data = await gql(RECORD, { id: review.id, outcome: chosen.value });
        showResult(data.recordSecondReview);
      } catch (err) {
        error.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
    fill(body,
      h('section', { 'aria-labelledby': 'blind-case-title' },
        h('h2', { id: 'blind-case-title', tabindex: '-1' }, 'The case'),
        facts([
          ['Filed', when(review.filedAt)],
          ['Channel', wire(review.channel)],
          ['Language', review.language],
          ['Policy', review.policy],
          ['Yours until', `${when(review.heldUntil)} (${countdown(review.heldUntil)})`],
        ])),
      enforcementSection(review.enforcement),
      messagesSection(review.messages),
      form);
    body.querySelector('#blind-case-title').focus();
  }

  function showResult(result) {
    current = null;
    const verdict = result.agreed ? 'agrees with the first decision' : 'differs from the first decision';
    fill(body, h('section', { class: 'result', 'aria-labelledby': 'second-result-title', 'data-agreed': String(result.agreed) },
      h('h2', { id: 'second-result-title', tabindex: '-1' }, 'Recorded'),
      h('p', { class: 'second-review-verdict' }, `Your outcome, ${wire(result.outcome)}, ${verdict}.`),
      h('p', null, 'Take the next case with n.')));
    body.querySelector('#second-result-title').focus();
    announce(`Second review recorded: ${verdict}.`);
    count();
  }

  async function take() {
    if (busy) return;
    busy = true;
    takeButton.disabled = true;
    showNotice(null);
    try {
      const data = await gql(TAKE);
      const review = data.takeSecondReview;
      if (!review) {
        fill(body);
        showNotice('No second review is open for you: none waits, or the open ones are of your own decisions.', 'info');
      } else {
        showCase(review);
        announce('Second review taken.');
      }
    } catch (err) {
      showNotice(`Taking a second review failed: ${err.message}`);
    } finally {
      busy = false;
      takeButton.disabled = false;
      count();
    }
  }

  takeButton.addEventListener('click', take);
  const stopKeys = screenShortcuts([
    { key: 'n', label: 'Take the next second review (or the one you hold)', run: () => { if (!current) take(); } },
  ]);
  count();
  return () => stopKeys();
}
