// Claiming the next case of a queue, from the queue screen or straight after a decision.

import { gql } from './graphql.js';

const CLAIM = 'mutation Claim($queue: String) { claimNextAppeal(queue: $queue) { id reference } }';

/**
 * Claims the next case of `queue` (the server's default queue when empty) and opens it.
 * Returns `null` when the queue has nothing to hand out; throws an `ApiError` otherwise.
 */
export async function claimNext(queue, { announce, navigate }) {
  const data = await gql(CLAIM, { queue: queue || null });
  const claimed = data.claimNextAppeal;
  if (!claimed) return null;
  announce(`Claimed ${claimed.reference}.`);
  navigate(`#/case/${encodeURIComponent(claimed.id)}`);
  return claimed;
}
