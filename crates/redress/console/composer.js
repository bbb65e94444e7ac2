// The decision composer: outcome, a template from the policy catalog, the reasons, and the
// statement of reasons (DSA Art. 17) as form fields. The checks are the server's own
// (`validateStatementOfReasons`, the same code `decideAppeal` runs), asked as the reviewer
// types; the preview is the notice the appellant will receive, rendered by the server.
// Raw JSON is behind the "advanced" switch.

import { field, h } from './dom.js';
import { gql } from './graphql.js';

const TEMPLATES = `query Templates($p: String, $o: Outcome, $l: String) { decisionTemplates(policy: $p, outcome: $o, language: $l) { id title language } }`;
const RENDER = `query Render($id: ID!, $t: String!) { renderDecisionTemplate(appeal: $id, template: $t) { reasons language statementOfReasons } }`;
const VALIDATE = `query Check($s: JSON, $o: Outcome!, $r: String!) { validateStatementOfReasons(statementOfReasons: $s, outcome: $o, reasons: $r) { valid field message } }`;
const PREVIEW = `query Preview($id: ID!, $o: Outcome!, $r: String!, $s: JSON) { previewDecisionNotice(appeal: $id, outcome: $o, reasons: $r, statementOfReasons: $s) { language mailSubject mailText directMessage } }`;

const RESTRICTIONS = [
  ['content_removed', 'Content removed'], ['content_disabled', 'Content disabled'],
  ['content_demoted', 'Content demoted'], ['content_age_restricted', 'Content age-restricted'],
  ['interaction_restricted', 'Interaction restricted'], ['content_labelled', 'Content labelled'],
  ['account_suspended', 'Account suspended'], ['account_terminated', 'Account terminated'],
  ['monetary_suspended', 'Payments suspended'], ['monetary_terminated', 'Payments terminated'],
  ['service_partially_suspended', 'Service partially suspended'], ['service_suspended', 'Service suspended'],
  ['service_partially_terminated', 'Service partially terminated'], ['service_terminated', 'Service terminated'],
];
const COUNTRIES = ['AT', 'BE', 'BG', 'CH', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GB', 'GR', 'HR', 'HU', 'IE', 'IS', 'IT', 'LI', 'LT', 'LU', 'LV', 'MT', 'NL', 'NO', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK', 'US'];
const AUTOMATION = [['not', 'No'], ['partially', 'Partially'], ['fully', 'Fully']];
const REDRESS = [
  ['internal_complaint', 'Internal complaint'],
  ['out_of_court_dispute_settlement', 'Out-of-court dispute settlement'],
  ['judicial_redress', 'Judicial redress'],
];

const day = (iso) => (iso ? iso.slice(0, 10) : '');

function select(name, options, label) {
  return h('select', { name, 'aria-label': label }, options.map(([value, text]) => h('option', { value }, text)));
}

/** The statement of reasons as form fields, read and written as the core's JSON shape. */
function statementFields(onChange) {
  const original = new Map();
  const rows = RESTRICTIONS.map(([kind, label]) => {
    const on = h('input', { type: 'checkbox', name: 'restriction', value: kind, id: `r-${kind}` });
    const starts = h('input', { type: 'date', name: `starts-${kind}`, 'aria-label': `${label}: starts` });
    const ends = h('input', { type: 'date', name: `ends-${kind}`, 'aria-label': `${label}: ends (empty: until further notice)` });
    return { kind, on, starts, ends, row: h('div', { class: 'restriction' }, on, h('label', { htmlFor: on.id }, label), ' from ', starts, ' until ', ends) };
  });
  const worldwide = h('input', { type: 'radio', name: 'scope', value: 'worldwide', id: 'scope-worldwide', checked: true });
  const countriesRadio = h('input', { type: 'radio', name: 'scope', value: 'countries', id: 'scope-countries' });
  const countries = h('select', { name: 'countries', multiple: true, size: '5', 'aria-label': 'Countries' }, COUNTRIES.map((code) => h('option', { value: code }, code)));
  const groundKind = select('ground-kind', [['incompatible_with_terms', 'Incompatible with the terms'], ['illegal_content', 'Illegal content']], 'Ground');
  const clause = h('input', { type: 'text', name: 'clause' });
  const explanation = h('textarea', { name: 'explanation', rows: '2' });
  const facts = h('textarea', { name: 'facts', rows: '3' });
  const detection = select('automated-detection', AUTOMATION, 'Automated detection');
  const decision = select('automated-decision', AUTOMATION, 'Automated decision');
  const redress = REDRESS.map(([value, label]) => {
    const box = h('input', { type: 'checkbox', name: 'redress', value, id: `redress-${value}`, checked: true });
    return h('span', { class: 'choice' }, box, h('label', { htmlFor: box.id }, label));
  });

  const element = h('fieldset', { class: 'statement' }, h('legend', null, 'Statement of reasons'),
    h('fieldset', null, h('legend', null, 'Restrictions'), rows.map((r) => r.row)),
    h('fieldset', null, h('legend', null, 'Territorial scope'),
      h('div', { class: 'choice' }, worldwide, h('label', { htmlFor: worldwide.id }, 'Worldwide')),
      h('div', { class: 'choice' }, countriesRadio, h('label', { htmlFor: countriesRadio.id }, 'Only in these countries')),
      countries),
    field('Ground', groundKind),
    field('Terms clause or legal provision', clause),
    field('Explanation of the ground', explanation),
    field('Facts and circumstances', facts),
    field('Automated detection', detection),
    field('Automated decision', decision),
    h('fieldset', null, h('legend', null, 'Redress offered'), redress));
  element.addEventListener('input', onChange);
  element.addEventListener('change', onChange);

  function read() {
    const restrictions = rows.filter((r) => r.on.checked).map((r) => {
      const kept = original.get(r.kind);
      const startsAt = kept && day(kept.starts_at) === r.starts.value ? kept.starts_at : (r.starts.value ? `${r.starts.value}T00:00:00Z` : '');
      const endsAt = kept && kept.ends_at && day(kept.ends_at) === r.ends.value ? kept.ends_at : (r.ends.value ? `${r.ends.value}T00:00:00Z` : null);
      return { kind: r.kind, starts_at: startsAt, ends_at: endsAt };
    });
    const text = groundKind.value === 'illegal_content'
      ? { ground: 'illegal_content', legal_ground: clause.value, explanation: explanation.value }
      : { ground: 'incompatible_with_terms', clause: clause.value, explanation: explanation.value };
    return {
      restrictions,
      territorial_scope: countriesRadio.checked
        ? { scope: 'countries', countries: [...countries.selectedOptions].map((o) => o.value) }
        : { scope: 'worldwide' },
      facts: facts.value,
      automated_detection: detection.value,
      automated_decision: decision.value,
      ground: text,
      redress: [...element.querySelectorAll('input[name=redress]:checked')].map((box) => box.value),
    };
  }

  function write(statement) {
    const s = statement ?? {};
    original.clear();
    for (const r of rows) {
      const given = (s.restrictions ?? []).find((item) => item.kind === r.kind);
      r.on.checked = Boolean(given);
      r.starts.value = day(given?.starts_at);
      r.ends.value = day(given?.ends_at);
      if (given) original.set(r.kind, given);
    }
    const scope = s.territorial_scope ?? { scope: 'worldwide' };
    countriesRadio.checked = scope.scope === 'countries';
    worldwide.checked = !countriesRadio.checked;
    for (const option of countries.options) option.selected = (scope.countries ?? []).includes(option.value);
    groundKind.value = s.ground?.ground === 'illegal_content' ? 'illegal_content' : 'incompatible_with_terms';
    clause.value = s.ground?.clause ?? s.ground?.legal_ground ?? '';
    explanation.value = s.ground?.explanation ?? '';
    facts.value = s.facts ?? '';
    detection.value = s.automated_detection ?? 'not';
    decision.value = s.automated_decision ?? 'not';
    for (const box of element.querySelectorAll('input[name=redress]')) box.checked = !s.redress || s.redress.includes(box.value);
  }

  /** The control a checked field names (`ground.clause`, `restrictions.ends_at`…). */
  function control(name) {
    const top = (name ?? '').split('.');
    if (top[0] === 'facts') return facts;
    if (top[0] === 'ground') return top[1] === 'explanation' ? explanation : clause;
    if (top[0] === 'territorial_scope') return countries;
    if (top[0] === 'automated_decision') return decision;
    if (top[0] === 'automated_detection') return detection;
    if (top[0] === 'restrictions') return rows.find((r) => r.on.checked)?.[top[1] === 'ends_at' ? 'ends' : 'starts'] ?? rows[0].on;
    if (top[0] === 'redress') return element.querySelector('input[name=redress]');
    return null;
  }

  return { element, read, write, control };
}

/**
 * The composer form for `appeal`; `decide(variables, form)` sends the decision. `draft` is
 * what the reviewer had typed into this case (control name to value, as `data-draft` names
 * them), restored before the form is first laid out.
 */
export function composer(appeal, decide, draft = {}) {
  const restoreRadio = h('input', { type: 'radio', name: 'outcome', value: 'RESTORE', id: 'outcome-restore', 'data-draft': 'outcome', checked: true });
  const upholdRadio = h('input', { type: 'radio', name: 'outcome', value: 'UPHOLD', id: 'outcome-uphold', 'data-draft': 'outcome' });
  const template = h('select', { name: 'template' }, h('option', { value: '' }, '— none —'));
  const reasons = h('textarea', { name: 'reasons', rows: '4', required: true, 'data-draft': 'reasons' });
  const stays = h('input', { type: 'checkbox', name: 'restriction-stays', id: 'restriction-stays' });
  const staysChoice = h('div', { class: 'choice' }, stays, h('label', { htmlFor: stays.id }, 'Some restriction stays in place (a restore then needs a statement too)'));
  const error = h('p', { class: 'field-error', role: 'alert', id: 'statement-error' });
  const advanced = h('input', { type: 'checkbox', name: 'advanced', id: 'statement-advanced' });
  const json = h('textarea', { name: 'statement', rows: '10', spellcheck: 'false', hidden: true, 'aria-label': 'Statement of reasons (JSON)' });
  const preview = h('section', { class: 'notice-preview', 'aria-label': 'Notice preview', hidden: true });
  const outcome = () => (upholdRadio.checked ? 'UPHOLD' : 'RESTORE');
  const needsStatement = () => outcome() === 'UPHOLD' || stays.checked;

  let timer = null;
  const statement = statementFields(() => schedule());
  const fromEnforcement = h('button', { type: 'button', id: 'statement-from-enforcement' }, 'Start from the enforcement’s statement');
  const previewButton = h('button', { type: 'button', id: 'preview-notice' }, 'Preview the notice');
  const editor = h('div', { class: 'statement-editor' }, statement.element, fromEnforcement,
    h('div', { class: 'choice' }, advanced, h('label', { htmlFor: advanced.id }, 'Advanced: edit the statement as JSON')), json);

  function current() {
    if (!needsStatement()) return null;
    if (advanced.checked) return JSON.parse(json.value || '{}');
    return statement.read();
  }

  function showError(check) {
    for (const marked of editor.querySelectorAll('[aria-invalid]')) marked.removeAttribute('aria-invalid');
    error.textContent = check && !check.valid ? `${check.field}: ${check.message}` : '';
    error.dataset.field = check && !check.valid ? check.field : '';
    if (check && !check.valid && !advanced.checked) statement.control(check.field)?.setAttribute('aria-invalid', 'true');
  }

  async function check() {
    let sor;
    try {
      sor = current();
    } catch (err) {
      showError({ valid: false, field: 'statementOfReasons', message: `not valid JSON: ${err.message}` });
      return false;
    }
    const data = await gql(VALIDATE, { s: sor, o: outcome(), r: reasons.value });
    showError(data.validateStatementOfReasons);
    return data.validateStatementOfReasons.valid;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => { check().catch((err) => { error.textContent = err.message; }); }, 250);
  }

  function showEditor() {
    editor.hidden = !needsStatement();
    staysChoice.hidden = outcome() === 'UPHOLD';
    statement.element.hidden = advanced.checked;
    json.hidden = !advanced.checked;
  }

  function templatesFailed(err) {
    showError({ valid: false, field: 'template', message: `the templates could not be loaded: ${err.message}` });
  }

  async function loadTemplates() {
    const data = await gql(TEMPLATES, { p: appeal.enforcement?.policy ?? null, o: outcome(), l: appeal.language });
    template.replaceChildren(h('option', { value: '' }, '— none —'),
      ...data.decisionTemplates.map((t) => h('option', { value: t.id }, `${t.title} (${t.language})`)));
  }

  async function useTemplate() {
    if (!template.value) return;
    try {
      const data = await gql(RENDER, { id: appeal.id, t: template.value });
      const filled = data.renderDecisionTemplate;
      reasons.value = filled.reasons;
      statement.write(filled.statementOfReasons);
      json.value = JSON.stringify(filled.statementOfReasons, null, 2);
      await check();
    } catch (err) {
      showError({ valid: false, field: err.field ?? 'template', message: err.message });
    }
  }

  async function showPreview() {
    if (!await check()) return;
    const data = await gql(PREVIEW, { id: appeal.id, o: outcome(), r: reasons.value, s: current() });
    const notice = data.previewDecisionNotice;
    preview.hidden = false;
    preview.replaceChildren(
      h('h4', null, `As the appellant will receive it (${notice.language})`),
      h('p', { class: 'line' }, 'Mail: ', h('strong', { class: 'preview-subject' }, notice.mailSubject)),
      h('pre', { class: 'preview-mail' }, notice.mailText),
      h('p', { class: 'line' }, 'Direct message:'),
      h('pre', { class: 'preview-dm' }, notice.directMessage));
  }

  statement.write(appeal.enforcement?.statement ?? null);
  fromEnforcement.addEventListener('click', () => { statement.write(appeal.enforcement?.statement ?? null); schedule(); });
  advanced.addEventListener('change', () => {
    if (advanced.checked) {
      json.value = JSON.stringify(statement.read(), null, 2);
    } else {
      try {
        statement.write(JSON.parse(json.value || '{}'));
      } catch (err) {
        advanced.checked = true;
        showError({ valid: false, field: 'statementOfReasons', message: `not valid JSON: ${err.message}` });
        return;
      }
    }
    showEditor();
  });
  json.addEventListener('input', schedule);
  reasons.addEventListener('input', () => { preview.hidden = true; });
  /** The templates offered, the editor's layout and the preview (hidden: it was of the other outcome) follow the outcome. */
  function outcomeChanged() {
    showEditor();
    showError(null);
    preview.hidden = true;
    loadTemplates().catch(templatesFailed);
  }
  for (const radio of [restoreRadio, upholdRadio]) radio.addEventListener('change', outcomeChanged);
  stays.addEventListener('change', () => { showEditor(); schedule(); });
  template.addEventListener('change', useTemplate);
  previewButton.addEventListener('click', () => { showPreview().catch((err) => { error.textContent = err.message; }); });

  const form = h('form', { class: 'action composer', 'aria-label': 'Decide', 'data-action': 'decideAppeal' },
    h('h3', null, 'Decide'),
    h('fieldset', null, h('legend', null, 'Outcome'),
      h('div', { class: 'choice' }, restoreRadio, h('label', { htmlFor: 'outcome-restore' }, 'Restore')),
      h('div', { class: 'choice' }, upholdRadio, h('label', { htmlFor: 'outcome-uphold' }, 'Uphold')),
      // Nothing can restore an account the case does not name: say so before the reviewer writes.
      appeal.accountId ? null : h('p', { class: 'hint', id: 'restore-unlinked' },
        'This appeal is linked to no account, so a restore would be refused: verify the appellant’s identity at triage to link the account they claim, or decide otherwise.')),
    field('Template', template, 'Prepared reasons for this policy and outcome, in the appellant’s language where there are some.'),
    field('Reasons', reasons, 'Sent to the appellant with the outcome.'),
    staysChoice, editor, error, previewButton, preview,
    h('button', { type: 'submit', class: 'primary' }, 'Decide'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      if (needsStatement() && !await check()) return;
      await decide({ outcome: outcome(), reasons: reasons.value.trim(), sor: current(), template: template.value || null }, form);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  // A draft's outcome is set here, before the first layout and template load, and not left
  // to the caller's restore afterwards: setting `checked` fires no change event, so the
  // templates and the editor would stay those of the default outcome while the radio showed
  // the draft's, and a template of the other outcome would be offered and refused.
  // (The outcome is the one drafted control that drives them; the reasons do not.)
  if (draft.outcome === 'UPHOLD' || draft.outcome === 'RESTORE') {
    upholdRadio.checked = draft.outcome === 'UPHOLD';
    restoreRadio.checked = !upholdRadio.checked;
  }
  outcomeChanged();
  return form;
}
