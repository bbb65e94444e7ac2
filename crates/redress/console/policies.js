// The policy catalog, for admins: every policy and decision template as stored, each change
// a new version (the list shows who made the current one), retired entries kept for the
// record. Policies are edited per language; templates per policy, outcome and language,
// with their prefilled statement of reasons. A refused edit shows the engine's reason at the
// field it names. `#/policies`.

import { field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { when, wire } from './format.js';
import { hasRole } from './session.js';

const POLICY = 'id groundKind category restrictions texts { language title ground explanation }';
const TEMPLATE = `id policy outcome language title reasons
  statement { restrictions territorialScope countries facts explanation automatedDetection automatedDecision redress }`;
const VERSIONED = 'version retired change changedAt changedBy';
const LIST = `query Catalog {
  catalogPolicies { ${VERSIONED} policy { ${POLICY} } }
  catalogDecisionTemplates { ${VERSIONED} template { ${TEMPLATE} } }
}`;
const SAVE_POLICY = {
  create: `mutation CreatePolicy($input: PolicyInput!) { createPolicy(input: $input) { version policy { id } } }`,
  update: `mutation UpdatePolicy($input: PolicyInput!) { updatePolicy(input: $input) { version policy { id } } }`,
};
const SAVE_TEMPLATE = {
  create: `mutation CreateTemplate($input: DecisionTemplateInput!) { createDecisionTemplate(input: $input) { version template { id } } }`,
  update: `mutation UpdateTemplate($input: DecisionTemplateInput!) { updateDecisionTemplate(input: $input) { version template { id } } }`,
};
const RETIRE_POLICY = 'mutation RetirePolicy($id: String!) { retirePolicy(id: $id) { version } }';
const RETIRE_TEMPLATE = 'mutation RetireTemplate($id: String!) { retireDecisionTemplate(id: $id) { version } }';
const POLICY_VERSIONS = `query PolicyVersions($id: String!) { policyVersions(id: $id) { ${VERSIONED} policy { ${POLICY} } } }`;
const TEMPLATE_VERSIONS = `query TemplateVersions($id: String!) { decisionTemplateVersions(id: $id) { ${VERSIONED} template { ${TEMPLATE} } } }`;

const GROUND_KINDS = ['incompatible_with_terms', 'illegal_content'];
const AUTOMATION = ['', 'fully', 'partially', 'not'];
const PLACEHOLDER_HINT = 'Placeholders: {reference}, {policy_id}, {policy_title}, {policy_ground}, {enforcement_kind}, {content_id}, {content_relation}, {enforced_at}, {filed_at}.';

const split = (value) => value.split(',').map((item) => item.trim()).filter(Boolean);
const orNull = (value) => (value.trim() === '' ? null : value);

/** A form whose controls are named by the API's input fields, with a slot for each one's error. */
function fieldForm(prefix) {
  const controls = {};
  const problem = h('p', { class: 'notice', role: 'alert', id: `${prefix}-problem` });
  const errorFor = (name) => h('p', { class: 'field-error', 'data-error-for': name, id: `${prefix}-${name.replaceAll('.', '-')}-error` });
  const control = (name, element) => {
    controls[name] = element;
    return element;
  };
  const input = (name, attributes = {}) => control(name, h('input', { type: 'text', name, id: `${prefix}-${name.replaceAll('.', '-')}`, autocomplete: 'off', spellcheck: 'false', ...attributes }));
  const textarea = (name, rows = 3) => control(name, h('textarea', { name, id: `${prefix}-${name.replaceAll('.', '-')}`, rows: String(rows) }));
  const select = (name, values, label = wire) => control(name, h('select', { name, id: `${prefix}-${name.replaceAll('.', '-')}` },
    values.map((value) => h('option', { value }, value === '' ? 'From the enforcement' : label(value)))));
  const withError = (label, element, hint) => {
    const wrapper = field(label, element, hint);
    wrapper.append(errorFor(element.name));
    return wrapper;
  };
  function clear(form) {
    problem.textContent = '';
    for (const element of form.querySelectorAll('.field-error')) element.textContent = '';
    for (const element of form.querySelectorAll('[aria-invalid]')) element.removeAttribute('aria-invalid');
  }
  function refused(form, err) {
    problem.textContent = `Not saved: ${err.message}`;
    if (err.code !== 'BAD_USER_INPUT' || !err.field) return;
    // `texts.de.title` has its own control; an error about a whole language names `texts.de`.
    const slot = form.querySelector(`[data-error-for="${err.field}"]`)
      ?? form.querySelector(`[data-error-for^="${err.field}."]`);
    if (!slot) return;
    slot.textContent = err.message;
    const target = controls[slot.dataset.errorFor] ?? form.querySelector(`[name="${slot.dataset.errorFor}"]`);
    target?.setAttribute('aria-invalid', 'true');
    target?.focus();
  }
  return { controls, problem, errorFor, input, textarea, select, withError, clear, refused };
}

export function render(container, context) {
  const { announce, me } = context;
  if (!hasRole(me, 'ADMIN')) {
    fill(container, h('h1', null, 'Policies and templates'), h('p', { class: 'notice' }, 'The policy catalog is managed by admins.'));
    return () => {};
  }
  let policies = [];
  let templates = [];
  const message = h('p', { class: 'notice', role: 'alert', hidden: true, id: 'policies-notice' });
  const policyRows = h('tbody');
  const templateRows = h('tbody');
  const versions = h('section', { class: 'versions', id: 'catalog-versions', 'aria-live': 'polite', hidden: true });
  const policyTable = h('table', { class: 'appeals catalog-policies', id: 'catalog-policies' },
    h('caption', null, 'Policies'),
    h('thead', null, h('tr', null, ['Policy', 'Ground', 'Languages', 'Version', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    policyRows);
  const templateTable = h('table', { class: 'appeals catalog-templates', id: 'catalog-templates' },
    h('caption', null, 'Decision templates'),
    h('thead', null, h('tr', null, ['Template', 'Policy', 'Outcome', 'Language', 'Version', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    templateRows);

  function showMessage(text, kind = 'error') {
    message.hidden = !text;
    message.className = `notice ${kind}`;
    message.textContent = text ?? '';
  }

  async function retire(query, id, what) {
    try {
      await gql(query, { id });
      const done = `${what} ${id} retired.`;
      announce(done);
      showMessage(done, 'info');
      await load();
    } catch (err) {
      showMessage(`Not retired: ${err.message}`);
    }
  }

  async function showVersions(query, key, id, describe) {
    try {
      const list = (await gql(query, { id }))[key];
      versions.hidden = false;
      fill(versions, h('h2', null, `Versions of ${id}`),
        h('ol', { class: 'version-list' }, list.map((v) => h('li', { 'data-version': String(v.version) },
          h('strong', null, `Version ${v.version}`), ` · ${wire(v.change)} by ${v.changedBy} · ${when(v.changedAt)}${v.retired ? ' · retired' : ''}`,
          h('p', { class: 'hint' }, describe(v))))));
    } catch (err) {
      showMessage(`Loading the versions failed: ${err.message}`);
    }
  }

  const state = (entry) => (entry.retired ? 'retired' : 'in force');
  const stamp = (entry) => h('span', { class: 'hint' }, `${entry.changedBy} · ${when(entry.changedAt)}`);

  function renderRows() {
    fill(policyRows, policies.length === 0
      ? h('tr', null, h('td', { colspan: '6', class: 'empty' }, 'No policies yet.'))
      : policies.map((entry) => {
        const p = entry.policy;
        return h('tr', { 'data-policy-id': p.id, 'data-retired': String(entry.retired) },
          h('th', { scope: 'row' }, p.id, h('span', { class: 'hint' }, p.texts[0]?.title ?? '')),
          h('td', null, wire(p.groundKind), h('span', { class: 'hint' }, p.category)),
          h('td', null, p.texts.map((t) => t.language).join(', ')),
          h('td', null, String(entry.version), stamp(entry)),
          h('td', null, state(entry)),
          h('td', { class: 'rule-buttons' },
            h('button', { type: 'button', class: 'edit', onClick: () => policyEditor.edit(p) }, 'Edit'),
            entry.retired ? null : h('button', { type: 'button', class: 'retire', onClick: () => retire(RETIRE_POLICY, p.id, 'Policy') }, 'Retire'),
            h('button', { type: 'button', class: 'history', onClick: () => showVersions(POLICY_VERSIONS, 'policyVersions', p.id, (v) => v.policy.texts.map((t) => `${t.language}: ${t.title} — ${t.ground}`).join(' · ')) }, 'Versions')));
      }));
    fill(templateRows, templates.length === 0
      ? h('tr', null, h('td', { colspan: '7', class: 'empty' }, 'No decision templates yet.'))
      : templates.map((entry) => {
        const t = entry.template;
        return h('tr', { 'data-template-id': t.id, 'data-retired': String(entry.retired) },
          h('th', { scope: 'row' }, t.title, h('span', { class: 'hint' }, t.id)),
          h('td', null, t.policy),
          h('td', null, wire(t.outcome)),
          h('td', null, t.language),
          h('td', null, String(entry.version), stamp(entry)),
          h('td', null, state(entry)),
          h('td', { class: 'rule-buttons' },
            h('button', { type: 'button', class: 'edit', onClick: () => templateEditor.edit(t) }, 'Edit'),
            entry.retired ? null : h('button', { type: 'button', class: 'retire', onClick: () => retire(RETIRE_TEMPLATE, t.id, 'Template') }, 'Retire'),
            h('button', { type: 'button', class: 'history', onClick: () => showVersions(TEMPLATE_VERSIONS, 'decisionTemplateVersions', t.id, (v) => v.template.reasons) }, 'Versions')));
      }));
  }

  async function load() {
    try {
      const data = await gql(LIST);
      policies = data.catalogPolicies;
      templates = data.catalogDecisionTemplates;
      renderRows();
      templateEditor.policiesChanged(policies.filter((p) => !p.retired).map((p) => p.policy.id));
      policyTable.setAttribute('data-loaded', String(Date.now()));
    } catch (err) {
      showMessage(`Loading the catalog failed: ${err.message}`);
    }
  }

  const saved = async (done) => {
    announce(done);
    showMessage(done, 'info');
    await load();
  };
  const policyEditor = policyForm(saved);
  const templateEditor = templateForm(saved);

  fill(container,
    h('h1', null, 'Policies and templates'),
    h('p', null, 'What each policy says, per language, and the prepared decisions reviewers start from. Every change makes a new version; decisions already sent keep their text, and a running bulk decision keeps the template it started with. Entries from the configuration file are recorded as system:configuration; an edit here stands until the file changes that entry.'),
    message,
    policyTable,
    templateTable,
    versions,
    policyEditor.form,
    templateEditor.form);
  load();
  return () => {};
}

function policyForm(saved) {
  const f = fieldForm('policy');
  let mode = 'create';
  const title = h('h2', { id: 'policy-form-title' }, 'New policy');
  const texts = h('div', { class: 'policy-texts' });
  const newLanguage = h('input', { type: 'text', id: 'policy-new-language', size: '4', autocomplete: 'off', 'aria-label': 'Language to add' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'policy-save' }, 'Save policy');
  const cancel = h('button', { type: 'button', id: 'policy-new' }, 'New policy');
  const languages = [];

  function addLanguage(language, text = {}) {
    if (!language || languages.includes(language)) return;
    languages.push(language);
    const name = (part) => `texts.${language}.${part}`;
    const set = h('fieldset', { class: 'policy-text', 'data-language': language },
      h('legend', null, `Text in ${language}`), f.errorFor(`texts.${language}`),
      f.withError('Title', f.input(name('title'))),
      f.withError('Terms clause or legal provision', f.input(name('ground'))),
      f.withError('Explanation in plain language', f.textarea(name('explanation'))));
    f.controls[name('title')].value = text.title ?? '';
    f.controls[name('ground')].value = text.ground ?? '';
    f.controls[name('explanation')].value = text.explanation ?? '';
    texts.append(set);
  }

  const form = h('form', { class: 'rule-form policy-form', 'aria-labelledby': 'policy-form-title', novalidate: true },
    title,
    f.withError('Id (as enforcements name it)', f.input('id')),
    f.withError('Ground', f.select('groundKind', GROUND_KINDS)),
    f.withError('Transparency Database category', f.input('category'), 'e.g. STATEMENT_CATEGORY_SCAMS_AND_FRAUD'),
    f.withError('Usual restrictions', f.input('restrictions'), 'Comma-separated, e.g. content_removed, account_suspended'),
    f.errorFor('texts'),
    texts,
    h('div', { class: 'toolbar' }, field('Add a language', newLanguage, 'e.g. fr'),
      h('button', { type: 'button', id: 'policy-add-language', onClick: () => { addLanguage(newLanguage.value.trim()); newLanguage.value = ''; } }, 'Add language')),
    f.problem,
    h('div', { class: 'toolbar' }, save, cancel));

  function edit(policy) {
    mode = policy ? 'update' : 'create';
    title.textContent = policy ? `Edit policy ${policy.id}` : 'New policy';
    f.clear(form);
    form.reset();
    fill(texts);
    languages.length = 0;
    f.controls.id.readOnly = Boolean(policy);
    if (policy) {
      f.controls.id.value = policy.id;
      f.controls.groundKind.value = policy.groundKind;
      f.controls.category.value = policy.category;
      f.controls.restrictions.value = policy.restrictions.join(', ');
      for (const text of policy.texts) addLanguage(text.language, text);
    } else {
      addLanguage('en');
    }
    title.scrollIntoView?.({ block: 'start' });
    f.controls.id.focus();
  }
  cancel.addEventListener('click', () => edit(null));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    f.clear(form);
    save.disabled = true;
    const input = {
      id: f.controls.id.value.trim(),
      groundKind: f.controls.groundKind.value,
      category: f.controls.category.value.trim(),
      restrictions: split(f.controls.restrictions.value),
      texts: languages.map((language) => ({
        language,
        title: f.controls[`texts.${language}.title`].value,
        ground: f.controls[`texts.${language}.ground`].value,
        explanation: f.controls[`texts.${language}.explanation`].value,
      })),
    };
    try {
      const data = await gql(SAVE_POLICY[mode], { input });
      const result = data.createPolicy ?? data.updatePolicy;
      await saved(`Policy ${result.policy.id} saved as version ${result.version}.`);
      edit(null);
    } catch (err) {
      f.refused(form, err);
    } finally {
      save.disabled = false;
    }
  });
  edit(null);
  return { form, edit };
}

function templateForm(saved) {
  const f = fieldForm('template');
  let mode = 'create';
  const title = h('h2', { id: 'template-form-title' }, 'New decision template');
  const save = h('button', { type: 'submit', class: 'primary', id: 'template-save' }, 'Save template');
  const cancel = h('button', { type: 'button', id: 'template-new' }, 'New template');
  const policy = f.select('policy', []);
  const scope = f.select('statement.territorialScope', ['', 'WORLDWIDE', 'COUNTRIES']);

  const form = h('form', { class: 'rule-form template-form', 'aria-labelledby': 'template-form-title', novalidate: true },
    title,
    f.withError('Id', f.input('id')),
    f.withError('Policy', policy),
    f.withError('Outcome', f.select('outcome', ['UPHOLD', 'RESTORE'])),
    f.withError('Language', f.input('language', { size: '4' }), 'A language code such as en or de.'),
    f.withError('Title (what reviewers pick it by)', f.input('title')),
    f.withError('Reasons sent to the appellant', f.textarea('reasons', 5), PLACEHOLDER_HINT),
    h('h3', null, 'Statement of reasons (empty fields come from the enforcement’s own statement)'),
    f.withError('Facts and circumstances', f.textarea('statement.facts'), 'May hold placeholders.'),
    f.withError('Explanation of the ground', f.textarea('statement.explanation'), 'Empty: the policy’s own explanation.'),
    f.withError('Restrictions', f.input('statement.restrictions'), 'Comma-separated, e.g. content_removed; empty: the enforcement’s.'),
    f.withError('Territorial scope', scope),
    f.withError('Countries', f.input('statement.countries'), 'With “countries”: comma-separated ISO codes such as DE, AT.'),
    f.withError('Automated detection', f.select('statement.automatedDetection', AUTOMATION)),
    f.withError('Automated decision', f.select('statement.automatedDecision', AUTOMATION)),
    f.withError('Redress options', f.input('statement.redress'), 'Comma-separated; empty: the enforcement’s, else all three.'),
    f.problem,
    h('div', { class: 'toolbar' }, save, cancel));

  function policiesChanged(ids) {
    const chosen = policy.value;
    fill(policy, ids.map((id) => h('option', { value: id }, id)));
    if (ids.includes(chosen)) policy.value = chosen;
  }

  function edit(template) {
    mode = template ? 'update' : 'create';
    title.textContent = template ? `Edit template ${template.id}` : 'New decision template';
    f.clear(form);
    form.reset();
    f.controls.id.readOnly = Boolean(template);
    if (template) {
      const s = template.statement;
      const c = f.controls;
      if (![...policy.options].some((o) => o.value === template.policy)) policy.append(h('option', { value: template.policy }, template.policy));
      c.id.value = template.id;
      policy.value = template.policy;
      c.outcome.value = template.outcome;
      c.language.value = template.language;
      c.title.value = template.title;
      c.reasons.value = template.reasons;
      c['statement.facts'].value = s.facts ?? '';
      c['statement.explanation'].value = s.explanation ?? '';
      c['statement.restrictions'].value = (s.restrictions ?? []).join(', ');
      scope.value = s.territorialScope ? s.territorialScope.toUpperCase() : '';
      c['statement.countries'].value = s.countries.join(', ');
      c['statement.automatedDetection'].value = s.automatedDetection ?? '';
      c['statement.automatedDecision'].value = s.automatedDecision ?? '';
      c['statement.redress'].value = (s.redress ?? []).join(', ');
    }
    title.scrollIntoView?.({ block: 'start' });
    (template ? f.controls.reasons : f.controls.id).focus();
  }
  cancel.addEventListener('click', () => edit(null));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    f.clear(form);
    save.disabled = true;
    const c = f.controls;
    const listOrNull = (value) => (value.trim() === '' ? null : split(value));
    const input = {
      id: c.id.value.trim(),
      policy: policy.value,
      outcome: c.outcome.value,
      language: c.language.value.trim(),
      title: c.title.value,
      reasons: c.reasons.value,
      statement: {
        facts: orNull(c['statement.facts'].value),
        explanation: orNull(c['statement.explanation'].value),
        restrictions: listOrNull(c['statement.restrictions'].value),
        territorialScope: scope.value || null,
        countries: split(c['statement.countries'].value),
        automatedDetection: c['statement.automatedDetection'].value || null,
        automatedDecision: c['statement.automatedDecision'].value || null,
        redress: listOrNull(c['statement.redress'].value),
      },
    };
    try {
      const data = await gql(SAVE_TEMPLATE[mode], { input });
      const result = data.createDecisionTemplate ?? data.updateDecisionTemplate;
      await saved(`Template ${result.template.id} saved as version ${result.version}.`);
      edit(null);
    } catch (err) {
      f.refused(form, err);
    } finally {
      save.disabled = false;
    }
  });
  return { form, edit, policiesChanged };
}
