// Bulk restore for support: name the accounts, preview a dry run, start, follow the job
// live to its final report. `#/bulk/<job id>` reopens a job; `#/bulk/source=<id>` starts
// from an incident's source.

import { facts, field, fill, h } from './dom.js';
import { gql } from './graphql.js';
import { jobFollower } from './job_follow.js';
import { percent, when } from './format.js';

const JOB = 'id status selectorKey reason startedBy total processed restored requested alreadyActive failed createdAt finishedAt';
const DRY_RUN = 'mutation DryRun($s: BulkSelectorInput!) { bulkRestoreDryRun(selector: $s) { accounts withOpenAppeals alreadyActive unknown sample } }';
const START = `mutation Start($s: BulkSelectorInput!, $reason: String!) { startBulkRestore(selector: $s, reason: $reason) { ${JOB} } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelBulkRestore(jobId: $id) { ${JOB} } }`;
const READ = `query Job($id: ID!) { bulkRestoreJob(id: $id) { ${JOB} } }`;
const PROGRESS = `subscription Progress($id: ID!) { bulkRestoreProgress(jobId: $id) { ${JOB} } }`;

const KINDS = [
  ['sourceId', 'Rule or model (source id)'],
  ['batchId', 'Batch id'],
  ['policy', 'Policy'],
  ['window', 'Enforcement time window'],
  ['accountIds', 'List of account ids'],
];

export function render(container, { announce }, parameter) {
  let job = null;
  let previewed = null;

  const kind = h('select', { name: 'kind' }, KINDS.map(([value, label]) => h('option', { value }, label)));
  const value = h('input', { type: 'text', name: 'value', autocomplete: 'off' });
  const from = h('input', { type: 'datetime-local', name: 'from' });
  const to = h('input', { type: 'datetime-local', name: 'to' });
  const ids = h('textarea', { name: 'accountIds', rows: '5', spellcheck: 'false' });
  const reason = h('input', { type: 'text', name: 'reason', autocomplete: 'off' });
  const valueField = field('Value', value);
  const windowFields = h('div', { class: 'row', hidden: true }, field('From (UTC)', from), field('To (UTC)', to));
  const idsField = h('div', { hidden: true }, field('Account ids', ids, 'One per line.'));
  const previewButton = h('button', { type: 'submit' }, 'Preview (dry run)');
  const startButton = h('button', { type: 'button', class: 'primary', disabled: true, id: 'start-bulk' }, 'Start restore');
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  const preview = h('section', { class: 'preview', 'aria-labelledby': 'preview-title', hidden: true });
  const progressTitle = h('h2', { id: 'progress-title', tabindex: '-1' }, 'Progress');
  const progressBody = h('div');
  const progress = h('section', { class: 'progress', 'aria-labelledby': 'progress-title', hidden: true }, progressTitle, progressBody);

  const form = h('form', { class: 'selector', 'aria-label': 'Accounts to restore' },
    field('Select accounts by', kind), valueField, windowFields, idsField,
    field('Reason (recorded on every restored account, and quoted to each person in the restoration notice)', reason),
    h('div', { class: 'buttons' }, previewButton, startButton));

  fill(container, h('h1', null, 'Bulk restore'),
    h('p', null, 'Restores every account the selector names, in chunks, and records why. Preview first: the dry run counts the accounts and shows a sample.'),
    form, notice, preview, progress);

  function showNotice(text) {
    notice.hidden = !text;
    notice.textContent = text ?? '';
  }

  const jobs = jobFollower({
    read: READ,
    readField: 'bulkRestoreJob',
    progress: PROGRESS,
    progressField: 'bulkRestoreProgress',
    show: (next) => showJob(next),
    notice: showNotice,
    finished: (final) => announce(`Bulk restore ${final.status}: ${final.restored} restored, ${final.failed} failed.`),
  });

  function selector() {
    const chosen = kind.value;
    if (chosen === 'window') {
      if (!from.value || !to.value) return null;
      return { from: new Date(`${from.value}Z`).toISOString(), to: new Date(`${to.value}Z`).toISOString() };
    }
    if (chosen === 'accountIds') {
      const list = ids.value.split(/\s+/).map((id) => id.trim()).filter(Boolean);
      return list.length ? { accountIds: list } : null;
    }
    return value.value.trim() ? { [chosen]: value.value.trim() } : null;
  }

  function layout() {
    valueField.hidden = ['window', 'accountIds'].includes(kind.value);
    windowFields.hidden = kind.value !== 'window';
    idsField.hidden = kind.value !== 'accountIds';
    invalidate();
  }

  function invalidate() {
    previewed = null;
    startButton.disabled = true;
  }

  function showJob(next) {
    job = next;
    const finished = job.status !== 'running';
    const fraction = job.total > 0 ? job.processed / job.total : (finished ? 1 : 0);
    const bar = h('progress', { max: String(Math.max(job.total, 1)), value: String(job.total > 0 ? job.processed : (finished ? 1 : 0)), id: 'bulk-progress', 'aria-describedby': 'progress-text' });
    const cancel = finished ? null : h('button', { type: 'button', onClick: cancelJob }, 'Cancel job');
    progress.hidden = false;
    progress.setAttribute('data-status', job.status);
    progress.setAttribute('data-percent', String(Math.round(fraction * 100)));
    progressTitle.textContent = finished ? 'Final report' : 'Progress';
    fill(progressBody,
      bar,
      h('p', { id: 'progress-text', class: 'progress-text' }, `${job.processed} of ${job.total} accounts processed (${percent(fraction)}) · ${job.status}`),
      facts([
        ['Job', job.id],
        ['Selector', job.selectorKey],
        ['Reason', job.reason],
        ['Started by', job.startedBy],
        ['Restored', String(job.restored)],
        ['Waiting for the account service', String(job.requested)],
        ['Already active', String(job.alreadyActive)],
        ['Failed', String(job.failed)],
        ['Started', when(job.createdAt)],
        ['Finished', job.finishedAt ? when(job.finishedAt) : 'running'],
      ]),
      cancel);
  }

  async function cancelJob() {
    if (!job) return;
    try {
      const data = await gql(CANCEL, { id: job.id });
      showJob(data.cancelBulkRestore);
      announce('Cancelling: the job stops at its next chunk.');
    } catch (err) {
      showNotice(`Cancelling failed: ${err.message}`);
    }
  }

  kind.addEventListener('change', layout);
  for (const input of [value, from, to, ids]) input.addEventListener('input', invalidate);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showNotice(null);
    const chosen = selector();
    if (!chosen) {
      showNotice('Fill in the selector first.');
      return;
    }
    previewButton.disabled = true;
    try {
      const data = await gql(DRY_RUN, { s: chosen });
      const run = data.bulkRestoreDryRun;
      previewed = chosen;
      preview.hidden = false;
      preview.setAttribute('data-accounts', String(run.accounts));
      fill(preview,
        h('h2', { id: 'preview-title' }, 'Dry run'),
        facts([
          ['Accounts', String(run.accounts)],
          ['With open appeals', String(run.withOpenAppeals)],
          ['Already active', String(run.alreadyActive)],
          ['Unknown ids', String(run.unknown)],
        ]),
        h('h3', null, 'Sample'),
        run.sample.length ? h('ul', { class: 'sample' }, run.sample.map((id) => h('li', null, id))) : h('p', null, 'No accounts.'));
      startButton.disabled = run.accounts === 0;
      announce(`Dry run: ${run.accounts} accounts would be restored.`);
    } catch (err) {
      showNotice(`The dry run failed: ${err.message}`);
    } finally {
      previewButton.disabled = false;
    }
  });

  startButton.addEventListener('click', async () => {
    if (!previewed) return;
    if (!reason.value.trim()) {
      showNotice('Give a reason: it is recorded on every restored account.');
      reason.focus();
      return;
    }
    startButton.disabled = true;
    showNotice(null);
    try {
      const data = await gql(START, { s: previewed, reason: reason.value.trim() });
      showJob(data.startBulkRestore);
      // Move to the progress so keyboard and screen-reader users follow the job.
      progressTitle.focus();
      announce('Bulk restore started.');
      history.replaceState(null, '', `#/bulk/${encodeURIComponent(data.startBulkRestore.id)}`);
      jobs.follow(data.startBulkRestore.id);
    } catch (err) {
      showNotice(`Starting failed: ${err.message}`);
      startButton.disabled = false;
    }
  });

  if (parameter.startsWith('source=')) {
    value.value = parameter.slice('source='.length);
  } else if (parameter) {
    jobs.refresh(parameter).then((found) => {
      if (found && found.status === 'running') jobs.follow(found.id);
    });
  }
  return () => jobs.stop();
}
