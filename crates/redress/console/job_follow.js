// Following a bulk job: its figures read once, then its progress live until the feed ends
// with the job, when the final figures (and whatever only the read carries) are read again.
// The bulk decision and bulk restore screens both follow their jobs this way.

import { gql } from './graphql.js';
import { live } from './live.js';

/**
 * `read` is the job's query and `progress` its subscription, both taking `id`; `readField`
 * and `progressField` name their answers. `show(job)` draws the job, `notice(text)` reports
 * a failure, `finished(job)` is given the final figures.
 * Returns `refresh(id)` (resolves to the job, or null), `follow(id)` and `stop()`.
 */
export function jobFollower({ read, readField, progress, progressField, show, notice, finished }) {
  let stopLive = () => {};

  async function refresh(id) {
    try {
      const data = await gql(read, { id });
      show(data[readField]);
      return data[readField];
    } catch (err) {
      notice(`Reading the job failed: ${err.message}`);
      return null;
    }
  }

  function follow(id) {
    stopLive();
    stopLive = live.subscribe(progress, { id }, {
      next(data) {
        if (data?.[progressField]) show(data[progressField]);
      },
      async complete() {
        const final = await refresh(id);
        if (final) finished(final);
      },
      resumed() { refresh(id); },
      error(errors) { notice(`Live progress stopped: ${errors?.[0]?.message ?? 'error'}`); },
    });
  }

  return { refresh, follow, stop: () => stopLive() };
}
