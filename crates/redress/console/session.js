// Who the console signs in as, in one of two ways:
// - through the organisation's identity provider (when Redress has one configured): Redress
//   holds the session behind an HttpOnly cookie the page cannot read; the page keeps only
//   the session's CSRF token, in memory, and sends it with every request;
// - with a pasted bearer token (development, or no provider): the token lives in
//   sessionStorage only and goes in request headers and the websocket's connection_init,
//   never in a URL, a cookie or a log line.

const KEY = 'redress.console.token';

/** `{ provider, signedIn, csrfToken }` from `/auth/session`, once asked. */
let provider = null;

export function token() {
  return provider?.provider ? null : sessionStorage.getItem(KEY);
}

export function keepToken(value) {
  sessionStorage.setItem(KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** Asks Redress whether an identity provider signs staff in, and whether this browser is. */
export async function loadProviderSession() {
  try {
    const response = await fetch('/auth/session', { credentials: 'same-origin', cache: 'no-store' });
    provider = response.ok ? await response.json() : { provider: false };
  } catch {
    provider = { provider: false };
  }
  return provider;
}

/** Whether the console signs in through the identity provider. */
export function usesProvider() {
  return Boolean(provider?.provider);
}

/** The CSRF token of the provider session, if signed in that way. */
export function csrfToken() {
  return provider?.signedIn ? provider.csrfToken : null;
}

/** Where to go to sign in at the provider, coming back to `fragment`. */
export function providerSignInUrl(fragment) {
  return `/auth/login?return_to=${encodeURIComponent(fragment || '#/queue')}`;
}

/**
 * Ends the provider session; resolves to the provider's end-session URL, if any. Rejects
 * when the session may still be alive (a refusal, a server error, no answer), and then
 * the caller is still signed in.
 */
export async function signOutAtProvider() {
  const response = await fetch('/auth/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Redress-CSRF': csrfToken() ?? '' },
    cache: 'no-store',
  });
  // 401: the session had ended already, which is what signing out wanted.
  if (!response.ok && response.status !== 401) {
    throw new Error(`signing out failed (HTTP ${response.status})`);
  }
  provider = { provider: true, signedIn: false };
  if (!response.ok) return null;
  return (await response.json()).redirect ?? null;
}

/** Whether the signed-in caller has any of `roles` (wire names, e.g. `REVIEWER`). */
export function hasRole(me, ...roles) {
  return Boolean(me) && me.roles.some((role) => roles.includes(role));
}
