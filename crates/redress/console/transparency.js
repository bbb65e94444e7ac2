// Faulty-enforcement incidents, sources ranked by overturn rate, the transparency report
// with charts, the statements the EU Transparency Database refused, to correct and
// resubmit, and the pending ones it answers server errors to, heading for refusal. The
// fields are read from the server's schema at run time, so the screen shows whatever this
// server's version offers and says so plainly when a query is not there at all.

import { facts, field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { barChart } from './charts.js';
import { humanize, percent, when } from './format.js';

const TYPE = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';
const ROOT = `query Roots { __schema { queryType { fields { name args { name type { ${TYPE} } } type { ${TYPE} } } } } }`;
const FIELDS = `query Fields($name: String!) { __type(name: $name) { fields { name args { name type { kind } } type { ${TYPE} } } } }`;

function named(type) {
  let current = type;
  let list = false;
  while (current && (current.kind === 'NON_NULL' || current.kind === 'LIST')) {
    if (current.kind === 'LIST') list = true;
    current = current.ofType;
  }
  return { kind: current?.kind, name: current?.name, list };
}

const typeCache = new Map();
async function fieldsOf(name) {
  if (!typeCache.has(name)) typeCache.set(name, gql(FIELDS, { name }).then((data) => data.__type?.fields ?? []));
  return typeCache.get(name);
}

/** A selection of every argument-free scalar field, one object level deep. */
async function selection(typeName, depth = 0) {
  const parts = [];
  for (const item of await fieldsOf(typeName)) {
    if (item.args.some((arg) => arg.type.kind === 'NON_NULL')) continue;
    const type = named(item.type);
    if (type.kind === 'SCALAR' || type.kind === 'ENUM') parts.push(item.name);
    else if (type.kind === 'OBJECT' && depth < 1) {
      const inner = await selection(type.name, depth + 1);
      if (inner) parts.push(`${item.name} { ${inner} }`);
    }
  }
  return parts.join(' ');
}

let rootsPromise = null;
function roots() {
  rootsPromise ??= gql(ROOT).then((data) => new Map(data.__schema.queryType.fields.map((f) => [f.name, f])));
  rootsPromise.catch(() => { rootsPromise = null; });
  return rootsPromise;
}

/** Runs root query `name` with the arguments it accepts; null when the server lacks it. */
export async function run(name, args) {
  const root = (await roots()).get(name);
  if (!root) return null;
  const accepted = Object.fromEntries(Object.entries(args).filter(([key]) => root.args.some((arg) => arg.name === key)));
  const type = named(root.type);
  const inner = type.kind === 'OBJECT' ? `{ ${await selection(type.name)} }` : '';
  const declared = Object.keys(accepted).map((key) => `${key}: $${key}`).join(', ');
  const definitions = root.args.filter((arg) => Object.hasOwn(accepted, arg.name))
    .map((arg) => `$${arg.name}: ${typeRef(arg.type)}`).join(', ');
  const query = `query ${name[0].toUpperCase()}${name.slice(1)}${definitions ? `(${definitions})` : ''} { ${name}${declared ? `(${declared})` : ''} ${inner} }`;
  const data = await gql(query, accepted);
  return { value: data[name] };
}

/** An introspected type reference as written in a query, e.g. `[String!]!`. */
function typeRef(type) {
  if (type.kind === 'NON_NULL') return `${typeRef(type.ofType)}!`;
  if (type.kind === 'LIST') return `[${typeRef(type.ofType)}]`;
  return type.name;
}

// Fields whose plain names read alike once flattened: an incident's dry-run count from
// when it was raised, and its dry run as it stands now.
const LABELS = { dryRunAccounts: 'Accounts when raised', dryRun: 'Dry run now' };

/** `{a: 1, source: {id: 'x'}}` → `[['A', '1'], ['Source id', 'x']]`, as display text. */
function flatten(object, prefix = '') {
  const out = [];
  for (const [name, value] of Object.entries(object ?? {})) {
    const own = LABELS[name] ?? humanize(name);
    const label = prefix ? `${prefix} ${own.toLowerCase()}` : own;
    if (value && typeof value === 'object' && !Array.isArray(value)) out.push(...flatten(value, label));
    else out.push([label, display(name, value)]);
  }
  return out;
}

function display(name, value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) {
    return value.map((item) => (item && typeof item === 'object'
      ? Object.values(item).join(': ') : String(item))).join(', ') || '—';
  }
  if (typeof value === 'number' && /rate|bound|threshold|compliance/i.test(name) && value <= 1) return percent(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(1);
  if (typeof value === 'string' && /At$|^(from|to)$/.test(name)) return when(value);
  return String(value);
}

function table(caption, rows) {
  if (!rows.length) return h('p', null, `${caption}: none.`);
  const columns = flatten(rows[0]).map(([label]) => label);
  return h('table', null, h('caption', null, caption),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.map((row) => h('tr', null, flatten(row).map(([, value]) => h('td', null, value))))));
}

function sourceLabel(row) {
  const source = row.source ?? row;
  return [source.kind ?? source.sourceKind, source.id ?? source.sourceId, source.batchId].filter(Boolean).join(' ');
}

function numberField(row, pattern) {
  const hit = Object.entries(row).find(([name, value]) => pattern.test(name) && typeof value === 'number');
  return hit ? hit[1] : null;
}

function unavailable(title, id, reason) {
  return h('section', { class: 'panel unavailable', 'aria-labelledby': id, 'data-available': 'false' },
    h('h2', { id }, title),
    h('p', null, `Not available on this server${reason ? `: ${reason}` : ''}.`),
    h('p', { class: 'hint' }, 'The server’s API does not offer this query (an older version, or introspection is turned off).'));
}

async function panel(slot, title, id, name, args, draw) {
  fill(slot, h('section', { class: 'panel', 'aria-labelledby': id, 'aria-busy': 'true' }, h('h2', { id }, title), h('p', null, 'Loading…')));
  let result;
  try {
    result = await run(name, args);
  } catch (err) {
    fill(slot, err.code === 'FORBIDDEN'
      ? h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), h('p', null, `Your roles do not allow this: ${err.message}`))
      : unavailable(title, id, err.message));
    return;
  }
  if (!result) {
    fill(slot, unavailable(title, id, `no \`${name}\` query`));
    return;
  }
  fill(slot, h('section', { class: 'panel', 'aria-labelledby': id, 'data-available': 'true' }, h('h2', { id }, title), draw(result.value)));
}

function drawIncidents(incidents) {
  const rows = incidents ?? [];
  return [
    table('Raised incidents, with the bulk restore they prepare', rows),
    rows.length ? h('ul', { class: 'links' }, rows.map((row) => {
      const source = row.source?.id ?? row.sourceId;
      return source ? h('li', null, h('a', { href: `#/bulk/source=${encodeURIComponent(source)}` }, `Prepare a bulk restore of ${sourceLabel(row)}`)) : null;
    })) : null,
  ];
}

function drawSources(sources) {
  const rows = sources ?? [];
  const items = rows.map((row) => ({ label: sourceLabel(row), value: numberField(row, /overturnRate|^rate$/i) ?? 0 }));
  return [
    items.length ? barChart({ title: 'Overturn rate by source', items, format: percent, max: 1 }) : null,
    table('Sources ranked by overturn rate and volume', rows),
  ];
}

function drawReport(report) {
  const median = numberField(report ?? {}, /median.*decision/i);
  const p90 = numberField(report ?? {}, /p90.*decision/i);
  const items = [['Median', median], ['90th percentile', p90]]
    .filter(([, value]) => value !== null).map(([label, value]) => ({ label, value }));
  return [
    items.length ? barChart({ title: 'Time to decision (hours)', items, format: (v) => `${v.toFixed(1)} h` }) : h('p', null, 'No decisions in this period.'),
    facts(flatten(report)),
  ];
}

function drawQuality(rates) {
  const value = rates ?? {};
  const byReviewer = value.byReviewer ?? [];
  const items = byReviewer.map((row) => ({ label: row.key, value: row.rate }));
  return [
    items.length ? barChart({ title: 'Agreement with second reviews by reviewer', items, format: percent, max: 1 }) : h('p', null, 'No second reviews recorded in this period.'),
    facts([
      ['Second reviews', String(value.secondReviews ?? 0)],
      ['Agreed', String(value.agreed ?? 0)],
      ['Agreement rate', value.agreementRate == null ? '—' : percent(value.agreementRate)],
      ['Decisions reopened and decided again', String(value.reopenedAndDecidedAgain ?? 0)],
      ['Overturned on reopening', String(value.overturned ?? 0)],
      ['Overturn rate of reopened decisions', value.overturnRate == null ? '—' : percent(value.overturnRate)],
    ]),
    h('div', { class: 'agreement-tables' },
      table('Agreement by reviewer (whose decision was reviewed again)', byReviewer),
      table('Agreement by policy', value.byPolicy ?? []),
      table('Agreement by decision template', value.byTemplate ?? [])),
  ];
}

const RESUBMIT = `mutation ResubmitTdbStatement($id: ID!, $facts: String) {
  resubmitTdbStatement(enforcementId: $id, decisionFacts: $facts) { state puid } }`;

/** One refused statement: why, what the mapping noted, and a form to resubmit it. */
function refusal(row) {
  const original = row.decisionFacts ?? '';
  const text = h('textarea', { name: 'decisionFacts', rows: 4, id: `tdb-facts-${row.enforcementId}` });
  text.value = original;
  const status = h('p', { class: 'tdb-status', role: 'status' });
  const button = h('button', { type: 'submit' }, 'Resubmit');
  const form = h('form', { class: 'tdb-resubmit', 'data-enforcement': row.enforcementId },
    field('Decision facts (sent instead when changed)', text), button, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const changed = text.value !== original;
      const data = await gql(RESUBMIT, { id: row.enforcementId, facts: changed ? text.value : null });
      status.textContent = `Queued again (${data.resubmitTdbStatement.state.toLowerCase()}); the next round sends it.`;
    } catch (err) {
      button.disabled = false;
      status.textContent = err.code === 'FORBIDDEN' ? `Your roles do not allow this: ${err.message}` : err.message;
    }
  });
  const errors = (row.errors ?? []).map((e) => [e.field, (e.messages ?? []).join(' ')]);
  return h('li', { class: 'tdb-refusal', 'data-puid': row.puid },
    h('h3', null, `PUID ${row.puid}`),
    facts([
      ['Refused by', row.refusedBy ?? '—'],
      ['Enforcement', row.enforcementId],
      ...errors,
      ...(row.notes ?? []).map((note) => ['Note', note]),
    ]),
    form);
}

function drawRefusals(rows) {
  const list = rows ?? [];
  if (!list.length) return h('p', null, 'No refused statements.');
  return [
    h('p', { class: 'hint' }, `${list.length} refused; correct the facts or fix the configuration, then resubmit.`),
    h('ul', { class: 'tdb-refusals' }, list.map(refusal)),
  ];
}

function serverErrors(count) {
  return count === 1 ? '1 server error' : `${count} server errors`;
}

/** One pending statement the database answered server errors to: how many, and how many alone. */
function serverFailing(row) {
  const alone = row.loneServerFailures ?? 0;
  const counts = `${serverErrors(row.serverFailures)} in a row${alone ? `, ${alone} of them sent alone` : ''}`;
  return h('li', { class: 'tdb-server-failing', 'data-puid': row.puid },
    h('h3', null, `PUID ${row.puid}`),
    facts([
      ['Server errors', counts],
      ['Enforcement', row.enforcementId],
      ['Last error', row.lastError ?? '—'],
      ['Next attempt', row.nextAttemptAt ? when(row.nextAttemptAt) : '—'],
    ]));
}

function drawServerFailing(rows) {
  const list = rows ?? [];
  if (list.length && !Object.hasOwn(list[0], 'serverFailures')) {
    return h('p', null, 'This server does not report the server errors of pending statements.');
  }
  const failing = list.filter((row) => row.serverFailures > 0);
  if (!failing.length) return h('p', null, 'No pending statement is drawing server errors.');
  return [
    h('p', { class: 'hint' }, 'A statement the database keeps answering server errors to goes in smaller calls, then alone; '
      + 'one that keeps failing alone while the database works otherwise is refused and listed above. An outage counts against none.'),
    h('ul', { class: 'tdb-server-failing-list' }, failing.map(serverFailing)),
  ];
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function render(container) {
  const today = new Date();
  const from = h('input', { type: 'date', name: 'from', value: isoDay(new Date(today.getTime() - 30 * 86400000)) });
  const to = h('input', { type: 'date', name: 'to', value: isoDay(new Date(today.getTime() + 86400000)) });
  const includeResolved = h('input', { type: 'checkbox', name: 'includeResolved', id: 'include-resolved' });
  const form = h('form', { class: 'filters', 'aria-label': 'Report period' },
    field('From (UTC)', from), field('To (UTC, exclusive)', to),
    h('div', { class: 'choice' }, includeResolved, h('label', { htmlFor: 'include-resolved' }, 'Include resolved incidents')),
    h('button', { type: 'submit' }, 'Show'));
  const incidents = h('div');
  const sources = h('div');
  const report = h('div');
  const quality = h('div');
  const refusals = h('div');
  const serverFailures = h('div');
  fill(container, h('h1', null, 'Incidents and transparency'), form, incidents, h('div', { class: 'two' }, sources, report), quality, refusals, serverFailures);

  function load() {
    const period = { from: new Date(`${from.value}T00:00:00Z`).toISOString(), to: new Date(`${to.value}T00:00:00Z`).toISOString() };
    panel(incidents, 'Faulty-enforcement incidents', 'incidents-title', 'incidents', { includeResolved: includeResolved.checked }, drawIncidents);
    panel(sources, 'Sources by overturn rate', 'sources-title', 'rankedSources', { ...period, first: 20 }, drawSources);
    panel(report, 'Transparency report', 'report-title', 'transparencyReport', period, drawReport);
    panel(quality, 'Quality: second reviews and reopened decisions', 'quality-title', 'qualityRates', period, drawQuality);
    panel(refusals, 'Statements the EU Transparency Database refused', 'tdb-title', 'tdbSubmissions', { state: 'REFUSED', first: 50 }, drawRefusals);
    panel(serverFailures, 'Pending statements the EU Transparency Database answers server errors to', 'tdb-failing-title', 'tdbSubmissions',
      { state: 'PENDING', withServerFailures: true, first: 50 }, drawServerFailing);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  load();
}
