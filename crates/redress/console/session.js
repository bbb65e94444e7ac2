// The bearer token lives in sessionStorage only: it goes in request headers and the
// websocket's connection_init, never in a URL, a cookie or a log line.

const KEY = 'redress.console.token';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function keepToken(value) {
  sessionStorage.setItem(KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** Whether the signed-in caller has any of `roles` (wire names, e.g. `REVIEWER`). */
export function hasRole(me, ...roles) {
  return Boolean(me) && me.roles.some((role) => roles.includes(role));
}
