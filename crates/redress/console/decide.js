// Bulk decisions for senior reviewers: the queue's filter, a decision template, a dry run
// that counts what would be decided and skipped, then the job followed live to its final
// report with the skipped appeals and why. `#/decide` starts from the queue's filter;
// `#/decide/<job id>` reopens a job.

import { facts, field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { jobFollower } from './job_follow.js';
import { percent, when, wire } from './format.js';
import { currentFilter } from './queue.js';

const JOB = 'id status stopReason templateId templateTitle outcome startedBy total processed decided proposed skipped createdAt finishedAt';
const SKIPPED = 'skippedAppeals(first: 200) { appealId reference reason }';
const TEMPLATES = 'query Templates($policy: String) { decisionTemplates(policy: $policy) { id title policy outcome language } }';
const DRY_RUN = `mutation DryRun($filter: AppealFilterInput!, $template: String!) {
  bulkDecisionDryRun(filter: $filter, templateId: $template) {
    selected wouldDecide wouldPropose wouldSkip skippedByReason { key count } sampleSkipped { appealId reference reason }
  }
}`;
const START = `mutation Start($filter: AppealFilterInput!, $template: String!) { startBulkDecision(filter: $filter, templateId: $template) { ${JOB} } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelBulkDecision(jobId: $id) { ${JOB} } }`;
const READ = `query Job($id: ID!) { bulkDecisionJob(id: $id) { ${JOB} ${SKIPPED} } }`;
const PROGRESS = `subscription Progress($id: ID!) { bulkDecisionProgress(jobId: $id) { ${JOB} } }`;

const REASONS = {
  claimed: 'Claimed by another reviewer',
  not_awaiting_decision: 'Not awaiting a decision',
  template_unfillable: 'Template cannot be filled',
  linked_to_no_account: 'Linked to no account',
  refused: 'Refused by the checks',
};

/** The filter as lines a person reads. */
function describe(filter) {
  return Object.entries(filter)
    .filter(([, value]) => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => [wire(key.replace(/([a-z])([A-Z])/g, '$1_$2')), Array.isArray(value) ? value.map(wire).join(', ') : String(value)]);
}

function skippedList(items) {
  return items.length
    ? h('ul', { class: 'skipped', id: 'skipped-appeals' }, items.map((item) => h('li', { 'data-appeal-id': item.appealId },
      h('a', { href: `#/case/${encodeURIComponent(item.appealId)}` }, item.reference), ` — ${item.reason}`)))
    : h('p', { id: 'skipped-appeals' }, 'None skipped.');
}

export function render(container, { announce }, parameter) {
  let job = null;
  let previewed = null;
  const filter = currentFilter();

  const templateSelect = h('select', { name: 'template', id: 'bulk-template' }, h('option', { value: '' }, 'Loading templates…'));
  const previewButton = h('button', { type: 'submit', id: 'bulk-dry-run' }, 'Preview (dry run)');
  const startButton = h('button', { type: 'button', class: 'primary', disabled: true, id: 'start-bulk-decision' }, 'Decide these appeals');
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  const preview = h('section', { class: 'preview', 'aria-labelledby': 'decide-preview-title', hidden: true, id: 'bulk-decision-preview' });
  const progressTitle = h('h2', { id: 'decide-progress-title', tabindex: '-1' }, 'Progress');
  const progressBody = h('div');
  const progress = h('section', { class: 'progress', 'aria-labelledby': 'decide-progress-title', hidden: true, id: 'bulk-decision-progress' }, progressTitle, progressBody);

  const form = h('form', { class: 'selector', 'aria-label': 'Bulk decision' },
    h('h2', null, 'Appeals'),
    facts(describe(filter)),
    field('Decision template', templateSelect, 'Each appeal gets its own decision with this template filled for it.'),
    h('div', { class: 'buttons' }, previewButton, startButton));

  fill(container, h('h1', null, 'Decide in bulk'),
    h('p', null, 'Decides the appeals the queue’s filter selects with one template. Appeals someone else has claimed, that are no longer waiting for a decision, or that the template cannot be filled for are skipped and listed; four-eyes appeals still need a second senior reviewer.'),
    form, notice, preview, progress);

  function showNotice(text) {
    notice.hidden = !text;
    notice.textContent = text ?? '';
  }

  const jobs = jobFollower({
    read: READ,
    readField: 'bulkDecisionJob',
    progress: PROGRESS,
    progressField: 'bulkDecisionProgress',
    show: (next) => showJob(next),
    notice: showNotice,
    finished: (final) => announce(`Bulk decision ${final.status}: ${final.decided} decided, ${final.proposed} waiting for approval, ${final.skipped} skipped.`),
  });

  async function loadTemplates() {
    try {
      const data = await gql(TEMPLATES, { policy: filter.enforcementPolicy ?? null });
      const templates = data.decisionTemplates;
      fill(templateSelect,
        h('option', { value: '' }, templates.length ? 'Choose a template' : 'No templates configured'),
        templates.map((t) => h('option', { value: t.id }, `${t.title} (${wire(t.outcome)}, ${t.policy}, ${t.language})`)));
    } catch (err) {
      showNotice(`Loading the templates failed: ${err.message}`);
    }
  }

  function showJob(next) {
    job = { ...job, ...next };
    const finished = job.status !== 'running';
    const fraction = job.total > 0 ? job.processed / job.total : (finished ? 1 : 0);
    const bar = h('progress', { max: String(Math.max(job.total, 1)), value: String(job.total > 0 ? job.processed : (finished ? 1 : 0)), id: 'bulk-decision-bar', 'aria-describedby': 'decide-progress-text' });
    const cancel = finished ? null : h('button', { type: 'button', onClick: cancelJob }, 'Cancel job');
    progress.hidden = false;
    progress.setAttribute('data-status', job.status);
    progress.setAttribute('data-processed', String(job.processed));
    progressTitle.textContent = finished ? 'Final report' : 'Progress';
    fill(progressBody,
      bar,
      h('p', { id: 'decide-progress-text', class: 'progress-text' }, `${job.processed} of ${job.total} appeals processed (${percent(fraction)}) · ${job.status}`),
      facts([
        ['Job', job.id],
        ['Template', `${job.templateTitle} (${wire(job.outcome)})`],
        ['Started by', job.startedBy],
        ...(job.stopReason ? [['Stopped because', job.stopReason]] : []),
        ['Decided', String(job.decided)],
        ['Waiting for a second senior reviewer', String(job.proposed)],
        ['Skipped', String(job.skipped)],
        ['Started', when(job.createdAt)],
        ['Finished', job.finishedAt ? when(job.finishedAt) : 'running'],
      ]),
      cancel,
      h('h3', null, 'Skipped appeals'),
      job.skippedAppeals ? skippedList(job.skippedAppeals) : h('p', null, 'Listed when the job ends.'));
  }

  async function cancelJob() {
    if (!job) return;
    try {
      const data = await gql(CANCEL, { id: job.id });
      showJob(data.cancelBulkDecision);
      announce('Cancelling: the job stops at its next chunk.');
    } catch (err) {
      showNotice(`Cancelling failed: ${err.message}`);
    }
  }

  templateSelect.addEventListener('change', () => {
    previewed = null;
    startButton.disabled = true;
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showNotice(null);
    const template = templateSelect.value;
    if (!template) {
      showNotice('Choose a decision template first.');
      templateSelect.focus();
      return;
    }
    previewButton.disabled = true;
    try {
      const data = await gql(DRY_RUN, { filter, template });
      const run = data.bulkDecisionDryRun;
      previewed = template;
      preview.hidden = false;
      preview.setAttribute('data-selected', String(run.selected));
      preview.setAttribute('data-would-skip', String(run.wouldSkip));
      fill(preview,
        h('h2', { id: 'decide-preview-title' }, 'Dry run'),
        facts([
          ['Selected', String(run.selected)],
          ['Would be decided', String(run.wouldDecide)],
          ['Would wait for a second senior reviewer (four-eyes)', String(run.wouldPropose)],
          ['Would be skipped', String(run.wouldSkip)],
          ...run.skippedByReason.map((entry) => [`  ${REASONS[entry.key] ?? wire(entry.key)}`, String(entry.count)]),
        ]),
        h('h3', null, 'First skipped appeals'),
        skippedList(run.sampleSkipped));
      const acting = run.wouldDecide + run.wouldPropose;
      startButton.disabled = acting === 0;
      startButton.textContent = `Decide ${acting} appeals`;
      announce(`Dry run: ${acting} appeals would be decided, ${run.wouldSkip} skipped.`);
    } catch (err) {
      showNotice(`The dry run failed: ${err.message}`);
    } finally {
      previewButton.disabled = false;
    }
  });

  startButton.addEventListener('click', async () => {
    if (!previewed) return;
    startButton.disabled = true;
    showNotice(null);
    try {
      const data = await gql(START, { filter, template: previewed });
      job = null;
      showJob(data.startBulkDecision);
      progressTitle.focus();
      announce('Bulk decision started.');
      history.replaceState(null, '', `#/decide/${encodeURIComponent(data.startBulkDecision.id)}`);
      jobs.follow(data.startBulkDecision.id);
    } catch (err) {
      showNotice(`Starting failed: ${err.message}`);
      startButton.disabled = false;
    }
  });

  if (parameter) {
    form.hidden = true;
    jobs.refresh(parameter).then((found) => {
      if (found && found.status === 'running') jobs.follow(found.id);
    });
  } else {
    loadTemplates();
  }
  return () => jobs.stop();
}
