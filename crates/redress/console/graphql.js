// A small GraphQL client: POST JSON to /graphql with the bearer token, or with the session
// cookie and its CSRF token when signed in through the identity provider.

import { csrfToken, token } from './session.js';

export const ENDPOINT = '/graphql';

/** A GraphQL error response; `code` is the first error's `extensions.code`. */
export class ApiError extends Error {
  constructor(errors, status) {
    super(errors.map((error) => error.message).join('; ') || `HTTP ${status}`);
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code ?? 'INTERNAL';
    this.actualVersion = errors[0]?.extensions?.actualVersion;
    /** The input field at fault, for `BAD_USER_INPUT` about one field (e.g. `queue`). */
    this.field = errors[0]?.extensions?.field;
  }
}

/** Milliseconds to add to this machine's clock to get the server's (from `Date` headers). */
let offset = 0;
export function serverNow() {
  return Date.now() + offset;
}

function learnServerTime(response) {
  const date = Date.parse(response.headers.get('date') ?? '');
  // The header has whole seconds; only a skew beyond that is worth correcting.
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) offset = date - Date.now();
  else if (!Number.isNaN(date)) offset = 0;
}

/** Listeners told when the server refuses the token, so the console can ask for another. */
const refused = new Set();
export function onUnauthenticated(listener) {
  refused.add(listener);
}

export async function gql(query, variables = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  // Signed in through the identity provider: the session cookie, and its CSRF token.
  const csrf = bearer ? null : csrfToken();
  if (csrf) headers['X-Redress-CSRF'] = csrf;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: csrf ? 'same-origin' : 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError([{ message: `the server cannot be reached (${err.message})` }], 0);
  }
  learnServerTime(response);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ message: `the server answered HTTP ${response.status}` }], response.status);
  }
  const errors = body.errors ?? [];
  if (response.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    const error = new ApiError(errors, response.status);
    refused.forEach((listener) => listener(error));
    throw error;
  }
  if (errors.length > 0) throw new ApiError(errors, response.status);
  return body.data;
}
