// Routing rules, for admins: the ordered rules that triage new appeals as they are filed
// (the first enabled rule that matches decides). Rules are listed in order, can be moved,
// enabled and disabled, and new ones are written in a form and tried on recent appeals
// (a dry run) before they are saved. `#/routing`.

import { field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { when, wire } from './format.js';
import { hasRole } from './session.js';

const CONDITIONS = `sourceKinds sourceIds batches policies kinds automatedDetection automatedDecision
  contentRelations channels identityVerified languages earlierAppealsAtLeast earlierAppealsAtMost
  upheldDecisionsAtLeast upheldDecisionsAtMost openIncident`;
const RULE = `id version name position enabled updatedAt updatedBy
  conditions { ${CONDITIONS} } action { kind queue priority tags fourEyes }`;
const LIST = `query RoutingRules { routingRules { ${RULE} } }`;
const CREATE = `mutation CreateRule($input: RoutingRuleInput!) { createRoutingRule(input: $input) { ${RULE} } }`;
const ENABLE = 'mutation EnableRule($id: ID!) { enableRoutingRule(id: $id) { id } }';
const DISABLE = 'mutation DisableRule($id: ID!) { disableRoutingRule(id: $id) { id } }';
const REORDER = 'mutation Reorder($ids: [ID!]!) { reorderRoutingRules(ids: $ids) { id } }';
const DRY_RUN = `query DryRun($rule: RoutingRuleInput!, $days: Int!) {
  routingDryRun(rule: $rule, days: $days, first: 20) {
    considered matched truncated action { kind queue priority }
    appeals { id reference state queue filedAt }
  }
}`;

const LISTS = [
  ['sourceKinds', 'Source kinds', 'model, rule, human'],
  ['sourceIds', 'Source ids', 'the model version or rule id, e.g. nudity-v7'],
  ['batches', 'Batches', ''],
  ['policies', 'Policies', 'e.g. spam, nudity'],
  ['kinds', 'Enforcement kinds', 'e.g. account_deactivation'],
  ['languages', 'Languages', 'e.g. de, fr (de also matches de-AT)'],
];
const CHOICES = [
  ['contentRelations', 'Content relation', ['created', 'saved', 'shared']],
  ['automatedDetection', 'Automated detection', ['fully', 'partially', 'not']],
  ['automatedDecision', 'Automated decision', ['fully', 'partially', 'not']],
  ['channels', 'Channel', ['EMAIL', 'X', 'INSTAGRAM', 'MESSENGER', 'API']],
];
const COUNTS = [
  ['earlierAppealsAtLeast', 'Earlier appeals, at least'],
  ['earlierAppealsAtMost', 'Earlier appeals, at most'],
  ['upheldDecisionsAtLeast', 'Upheld appeals, at least'],
  ['upheldDecisionsAtMost', 'Upheld appeals, at most'],
];
/** Errors about a range name the range; they are shown at its first bound. */
const FIELD_ALIASES = { earlierAppeals: 'earlierAppealsAtLeast', upheldDecisions: 'upheldDecisionsAtLeast' };

function list(values) {
  return values.length ? values.map(wire).join(' or ') : null;
}

/** A rule's conditions in words, or `every appeal`. */
function describe(c) {
  const parts = [
    ['content', list(c.contentRelations)],
    ['source kind', list(c.sourceKinds)],
    ['source', list(c.sourceIds)],
    ['batch', list(c.batches)],
    ['policy', list(c.policies)],
    ['kind', list(c.kinds)],
    ['detection', list(c.automatedDetection)],
    ['decision', list(c.automatedDecision)],
    ['channel', list(c.channels)],
    ['language', list(c.languages)],
    ['identity', c.identityVerified === null ? null : (c.identityVerified ? 'verified' : 'unverified')],
    ['earlier appeals', range(c.earlierAppealsAtLeast, c.earlierAppealsAtMost)],
    ['upheld appeals', range(c.upheldDecisionsAtLeast, c.upheldDecisionsAtMost)],
    ['open incident', c.openIncident === null ? null : (c.openIncident ? 'yes' : 'no')],
  ].filter(([, value]) => value !== null);
  return parts.length ? parts.map(([name, value]) => `${name}: ${value}`).join('; ') : 'every appeal';
}

function range(least, most) {
  if (least === null && most === null) return null;
  if (most === null) return `${least} or more`;
  if (least === null) return `${most} or fewer`;
  return `${least} to ${most}`;
}

function action(a) {
  if (a.kind === 'LEAVE_FOR_PERSON') return 'leave for a person to triage';
  return `${a.queue}, ${wire(a.priority)} priority${a.tags.length ? `, tags ${a.tags.join(', ')}` : ''}${a.fourEyes ? ', four-eyes' : ''}`;
}

export function render(container, context) {
  const { announce, me } = context;
  if (!hasRole(me, 'ADMIN')) {
    fill(container, h('h1', null, 'Routing rules'), h('p', { class: 'notice' }, 'Routing rules are managed by admins.'));
    return () => {};
  }
  let rules = [];
  const message = h('p', { class: 'notice', role: 'alert', hidden: true, id: 'routing-notice' });
  const rows = h('tbody');
  const table = h('table', { class: 'appeals routing-rules', 'aria-describedby': 'rules-caption' },
    h('caption', { id: 'rules-caption' }, 'Rules in the order they are tried; the first enabled rule that matches a new appeal decides'),
    h('thead', null, h('tr', null,
      ['#', 'Rule', 'When', 'Then', 'State', 'Actions'].map((title) => h('th', { scope: 'col' }, title)))),
    rows);

  function showMessage(text, kind = 'error') {
    message.hidden = !text;
    message.className = `notice ${kind}`;
    message.textContent = text ?? '';
  }

  async function change(query, variables, done) {
    try {
      await gql(query, variables);
      announce(done);
      showMessage(done, 'info');
      await load();
    } catch (err) {
      showMessage(`The change was not saved: ${err.message}`);
    }
  }

  function move(index, by) {
    const ids = rules.map((rule) => rule.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + by, 0, moved);
    change(REORDER, { ids }, `${rules[index].name} moved ${by < 0 ? 'up' : 'down'}.`);
  }

  function renderRows() {
    fill(rows, rules.length === 0
      ? h('tr', null, h('td', { colspan: '6', class: 'empty' }, 'No routing rules: every new appeal waits for a person to triage it.'))
      : rules.map((rule, index) => h('tr', { 'data-rule-id': rule.id, 'data-enabled': String(rule.enabled) },
        h('td', null, String(index + 1)),
        h('th', { scope: 'row' }, rule.name, h('span', { class: 'hint' }, `version ${rule.version} · ${rule.updatedBy} · ${when(rule.updatedAt)}`)),
        h('td', { class: 'conditions' }, describe(rule.conditions)),
        h('td', { class: 'rule-action' }, action(rule.action)),
        h('td', { class: 'rule-state' }, rule.enabled ? 'enabled' : 'disabled'),
        h('td', { class: 'rule-buttons' },
          h('button', { type: 'button', class: 'move-up', disabled: index === 0, 'aria-label': `Move ${rule.name} up`, onClick: () => move(index, -1) }, 'Up'),
          h('button', { type: 'button', class: 'move-down', disabled: index === rules.length - 1, 'aria-label': `Move ${rule.name} down`, onClick: () => move(index, 1) }, 'Down'),
          rule.enabled
            ? h('button', { type: 'button', class: 'toggle', onClick: () => change(DISABLE, { id: rule.id }, `${rule.name} disabled.`) }, 'Disable')
            : h('button', { type: 'button', class: 'toggle', onClick: () => change(ENABLE, { id: rule.id }, `${rule.name} enabled.`) }, 'Enable'),
          h('a', { href: `#/queue/rule=${encodeURIComponent(rule.id)}` }, 'Appeals it triaged')))));
  }

  async function load() {
    try {
      rules = (await gql(LIST)).routingRules;
      renderRows();
      table.setAttribute('data-loaded', String(Date.now()));
    } catch (err) {
      showMessage(`Loading the rules failed: ${err.message}`);
    }
  }

  fill(container,
    h('h1', null, 'Routing rules'),
    h('p', null, 'New appeals are triaged by the first enabled rule whose every condition holds; an appeal no rule matches waits for a person on the triage screen. Each change makes a new version of the rule; appeals a rule triaged before keep the version that did it.'),
    message,
    table,
    ruleForm(load, showMessage, announce));
  load();
  return () => {};
}

function ruleForm(reload, showMessage, announce) {
  const controls = {};
  const text = (name, attributes = {}) => {
    controls[name] = h('input', { type: 'text', name, id: `rule-${name}`, autocomplete: 'off', spellcheck: 'false', ...attributes });
    return controls[name];
  };
  const errorFor = (name) => h('p', { class: 'field-error', 'data-error-for': name, id: `rule-${name}-error` });
  const withError = (label, control, hint) => {
    const wrapper = field(label, control, hint);
    wrapper.append(errorFor(control.name));
    return wrapper;
  };
  const triState = (name) => {
    controls[name] = h('select', { name, id: `rule-${name}` },
      h('option', { value: '' }, 'Either'), h('option', { value: 'true' }, 'Yes'), h('option', { value: 'false' }, 'No'));
    return controls[name];
  };
  const checkboxes = (name, label, values) => h('fieldset', { class: 'choices', 'data-name': name },
    h('legend', null, label),
    values.map((value) => h('label', null,
      h('input', { type: 'checkbox', name, value, class: `choice-${name}` }), ` ${wire(value)}`)),
    errorFor(name));

  const actionKind = h('select', { name: 'action', id: 'rule-action' },
    h('option', { value: 'TRIAGE' }, 'Triage into a queue'),
    h('option', { value: 'LEAVE_FOR_PERSON' }, 'Leave for a person to triage'));
  controls.action = actionKind;
  const priority = h('select', { name: 'priority', id: 'rule-priority' },
    ['LOW', 'NORMAL', 'HIGH', 'URGENT'].map((p) => h('option', { value: p }, wire(p))));
  priority.value = 'NORMAL';
  controls.priority = priority;
  const fourEyes = h('input', { type: 'checkbox', name: 'fourEyes', id: 'rule-fourEyes' });
  const days = h('input', { type: 'number', name: 'days', id: 'rule-days', min: '1', max: '90', value: '7' });
  controls.days = days;
  const triageOnly = h('div', { class: 'triage-only' },
    withError('Queue', text('queue')),
    withError('Priority', priority),
    withError('Tags', text('tags'), 'Comma-separated.'),
    h('div', { class: 'field' }, h('label', null, fourEyes, ' Ask for four-eyes review')));
  actionKind.addEventListener('change', () => { triageOnly.hidden = actionKind.value !== 'TRIAGE'; });

  const problem = h('p', { class: 'notice', role: 'alert', id: 'rule-form-problem' });
  const result = h('div', { class: 'dry-run', id: 'dry-run-result', 'aria-live': 'polite' });
  const dryRunButton = h('button', { type: 'button', id: 'rule-dry-run' }, 'Dry run');
  const save = h('button', { type: 'submit', class: 'primary', id: 'rule-save' }, 'Save rule');

  const form = h('form', { class: 'rule-form', 'aria-labelledby': 'rule-form-title', novalidate: true },
    h('h2', { id: 'rule-form-title' }, 'New rule'),
    withError('Name', text('name', { required: true })),
    h('h3', null, 'When (every condition given must hold)'),
    CHOICES.map(([name, label, values]) => checkboxes(name, label, values)),
    LISTS.map(([name, label, hint]) => withError(label, text(name), `Comma-separated; any of them. ${hint}`.trim())),
    withError('Identity verified', triState('identityVerified')),
    COUNTS.map(([name, label]) => {
      controls[name] = h('input', { type: 'number', name, id: `rule-${name}`, min: '0' });
      return withError(label, controls[name]);
    }),
    withError('Open incident against the source', triState('openIncident')),
    h('h3', null, 'Then'),
    withError('Action', actionKind),
    triageOnly,
    problem,
    h('div', { class: 'toolbar' }, withError('Dry run over the last days', days), dryRunButton, save),
    result);

  function clearErrors() {
    problem.textContent = '';
    for (const element of form.querySelectorAll('.field-error')) element.textContent = '';
    for (const element of form.querySelectorAll('[aria-invalid]')) element.removeAttribute('aria-invalid');
  }

  function fieldError(name, message) {
    const target = FIELD_ALIASES[name] ?? name;
    const slot = form.querySelector(`[data-error-for="${target}"]`);
    problem.textContent = `Not saved: ${message}`;
    if (!slot) return;
    slot.textContent = message;
    const control = controls[target] ?? form.querySelector(`[name="${target}"]`);
    control?.setAttribute('aria-invalid', 'true');
    control?.focus();
  }

  const split = (value) => value.split(',').map((item) => item.trim()).filter(Boolean);
  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
  const tri = (name) => (controls[name].value === '' ? null : controls[name].value === 'true');
  const count = (name) => (controls[name].value === '' ? null : Number(controls[name].value));

  function input() {
    const rule = { name: controls.name.value.trim(), action: actionKind.value };
    for (const [name] of LISTS) rule[name] = split(controls[name].value);
    for (const [name] of CHOICES) rule[name] = checked(name);
    rule.identityVerified = tri('identityVerified');
    rule.openIncident = tri('openIncident');
    for (const [name] of COUNTS) rule[name] = count(name);
    if (actionKind.value === 'TRIAGE') {
      rule.queue = controls.queue.value.trim() || null;
      rule.priority = priority.value;
      rule.tags = split(controls.tags.value);
      rule.fourEyes = fourEyes.checked;
    }
    return rule;
  }

  function refused(err) {
    if (err.code === 'BAD_USER_INPUT' && err.field) fieldError(err.field, err.message);
    else problem.textContent = `Not saved: ${err.message}`;
  }

  dryRunButton.addEventListener('click', async () => {
    clearErrors();
    dryRunButton.disabled = true;
    try {
      const run = (await gql(DRY_RUN, { rule: input(), days: Number(days.value) })).routingDryRun;
      fill(result,
        h('p', { id: 'dry-run-summary' }, `Would have matched ${run.matched} of the ${run.considered} appeals filed in the last ${days.value} days${run.truncated ? ' (the most recent 5,000 were looked at)' : ''}; they would have gone to: ${action({ ...run.action, tags: [], fourEyes: false })}.`),
        run.appeals.length
          ? h('ul', { class: 'dry-run-appeals' }, run.appeals.map((appeal) => h('li', null,
            h('a', { href: `#/case/${encodeURIComponent(appeal.id)}` }, appeal.reference),
            ` · now ${wire(appeal.state)} in ${appeal.queue} · filed ${when(appeal.filedAt)}`)))
          : null);
    } catch (err) {
      refused(err);
    } finally {
      dryRunButton.disabled = false;
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    save.disabled = true;
    try {
      const created = (await gql(CREATE, { input: input() })).createRoutingRule;
      const done = `Rule ${created.name} saved as rule ${created.position + 1}.`;
      announce(done);
      showMessage(done, 'info');
      form.reset();
      fill(result);
      triageOnly.hidden = false;
      await reload();
    } catch (err) {
      refused(err);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
