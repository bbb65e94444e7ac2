// Start-up, sign-in and hash routing. Each screen module exports
// `render(container, context, parameter)` and returns a function that stops its live work.

import { fill } from './dom.js';
import { gql, onUnauthenticated } from './graphql.js';
import { dropGlobalShortcut, enableShortcuts, globalShortcuts, openHelp } from './keys.js';
import { live } from './live.js';
import { disclosure } from './menu.js';
import { closeResults, focusSearch, setUpSearch } from './search.js';
import { clearDrafts } from './drafts.js';
import { forgetToken, hasRole, keepToken, loadProviderSession, providerSignInUrl, signOutAtProvider, token, usesProvider } from './session.js';
import * as queue from './queue.js';
import * as triage from './triage.js';
import * as caseScreen from './case.js';
import * as bulk from './bulk.js';
import * as decide from './decide.js';
import * as transparency from './transparency.js';
import * as routing from './routing.js';
import * as review from './review.js';
import * as policies from './policies.js';
import * as audit from './audit.js';

const SCREENS = {
  queue,
  triage,
  case: caseScreen,
  bulk,
  decide,
  transparency,
  routing,
  review,
  policies,
  audit,
};

/** The roles of `triageAppeal`; others do not see the triage screen in the menu. */
const TRIAGERS = ['TRIAGER', 'REVIEWER', 'SENIOR_REVIEWER', 'ADMIN'];
/** The roles of `takeSecondReview`. */
const REVIEWERS = ['REVIEWER', 'SENIOR_REVIEWER'];

const elements = {
  nav: document.getElementById('nav'),
  identity: document.getElementById('identity'),
  who: document.getElementById('who'),
  signOut: document.getElementById('sign-out'),
  signIn: document.getElementById('sign-in'),
  signInForm: document.getElementById('sign-in-form'),
  signInError: document.getElementById('sign-in-error'),
  tokenInput: document.getElementById('token'),
  tokenSignIn: document.getElementById('token-sign-in'),
  providerSignIn: document.getElementById('provider-sign-in'),
  providerSignInLink: document.getElementById('provider-sign-in-link'),
  navTriage: document.getElementById('nav-triage'),
  navRouting: document.getElementById('nav-routing'),
  navReview: document.getElementById('nav-review'),
  navPolicies: document.getElementById('nav-policies'),
  navAudit: document.getElementById('nav-audit'),
  navAdmin: document.getElementById('nav-admin'),
  adminMenuButton: document.getElementById('admin-menu-button'),
  adminMenu: document.getElementById('admin-menu'),
  search: document.getElementById('search'),
  showShortcuts: document.getElementById('show-shortcuts'),
  screen: document.getElementById('screen'),
  status: document.getElementById('live-status'),
  main: document.getElementById('main'),
};

let me = null;
let stopScreen = () => {};
/** The administrators' screens, grouped under one button so the header fits one line. */
const adminMenu = disclosure(elements.adminMenuButton, elements.adminMenu);

/** Says `message` through the polite live region (screen readers) and on screen. */
function announce(message) {
  elements.status.textContent = '';
  // A fresh text node makes repeated identical messages announced again.
  window.setTimeout(() => { elements.status.textContent = message; }, 30);
}

function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

const context = { announce, navigate, get me() { return me; } };

/** Why a sign-in through the identity provider came back without a session. */
const SIGN_IN_ERRORS = {
  provider_unreachable: 'The identity provider cannot be reached. Try again in a moment; if it persists, tell an administrator.',
  state_mismatch: 'That sign-in was not started in this browser, so it was refused. Sign in again.',
  sign_in_expired: 'That sign-in was already used or took too long. Sign in again.',
  provider_refused: 'The identity provider did not sign you in. Sign in again.',
  id_token_rejected: 'The identity provider’s answer did not pass Redress’s checks, so it was refused. Tell an administrator if it happens again.',
  internal: 'Signing in failed on the server. Try again in a moment.',
};

function showSignIn(message) {
  stopScreen();
  stopScreen = () => {};
  live.closeAll();
  me = null;
  enableShortcuts(false);
  adminMenu.close();
  elements.nav.hidden = true;
  elements.search.hidden = true;
  closeResults();
  elements.identity.hidden = true;
  fill(elements.screen);
  elements.signIn.hidden = false;
  elements.signInError.textContent = message ?? '';
  const provider = usesProvider();
  elements.providerSignIn.hidden = !provider;
  elements.tokenSignIn.hidden = provider;
  if (provider) {
    // Back to this very screen after signing in, where a case's draft is restored.
    elements.providerSignInLink.setAttribute('href', providerSignInUrl(window.location.hash));
    elements.providerSignInLink.focus();
  } else {
    elements.tokenInput.value = '';
    elements.tokenInput.focus();
  }
}

/** Asks who the caller is and opens the console for them. */
async function enter() {
  try {
    const data = await gql('query Me { me { subject roles seesPersonalData } }');
    me = data.me;
  } catch (err) {
    if (!usesProvider()) forgetToken();
    let message = `Signing in failed: ${err.message}`;
    if (err.code === 'UNAUTHENTICATED') {
      message = usesProvider()
        ? 'Your session ended. Sign in again.'
        : 'The server refused this token (invalid, expired or for another service).';
    }
    showSignIn(message);
    return false;
  }
  elements.signIn.hidden = true;
  elements.nav.hidden = false;
  const triager = hasRole(me, ...TRIAGERS);
  elements.navTriage.hidden = !triager;
  elements.navRouting.hidden = !hasRole(me, 'ADMIN');
  elements.navReview.hidden = !hasRole(me, ...REVIEWERS);
  elements.navPolicies.hidden = !hasRole(me, 'ADMIN');
  elements.navAudit.hidden = !hasRole(me, 'ADMIN');
  elements.navAdmin.hidden = !hasRole(me, 'ADMIN');
  if (triager) globalShortcuts([{ key: 't', label: 'Go to triage', run: () => navigate('#/triage') }]);
  else dropGlobalShortcut('t');
  elements.search.hidden = false;
  elements.identity.hidden = false;
  enableShortcuts(true);
  elements.who.textContent = `${me.subject} (${me.roles.map((r) => r.toLowerCase().replaceAll('_', ' ')).join(', ') || 'no roles'})`;
  // A long name is cut short on screen; the whole of it shows on hover.
  elements.who.title = elements.who.textContent;
  return true;
}

async function signIn(candidate) {
  keepToken(candidate);
  return enter();
}

function parseHash() {
  const [, name = 'queue', parameter = ''] = window.location.hash.match(/^#\/([a-z]+)\/?(.*)$/) ?? [];
  return { name: SCREENS[name] ? name : 'queue', parameter: decodeURIComponent(parameter) };
}

function route() {
  if (!me) return;
  stopScreen();
  const { name, parameter } = parseHash();
  for (const link of elements.nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  elements.adminMenuButton.classList.toggle('current', elements.adminMenu.querySelector('[aria-current]') !== null);
  const container = fill(elements.screen);
  const stop = SCREENS[name].render(container, context, parameter);
  stopScreen = typeof stop === 'function' ? stop : () => {};
  const heading = container.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    document.title = `${heading.textContent} · Redress console`;
  }
}

elements.signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = elements.tokenInput.value.trim().replace(/^Bearer\s+/i, '');
  elements.tokenInput.value = '';
  if (!candidate) {
    elements.signInError.textContent = 'Paste a token first.';
    return;
  }
  if (await signIn(candidate)) route();
});

elements.signOut.addEventListener('click', async () => {
  if (!usesProvider()) {
    clearDrafts();
    forgetToken();
    showSignIn('Signed out.');
    return;
  }
  let endSession = null;
  try {
    endSession = await signOutAtProvider();
  } catch {
    // The session may well be alive: say so, and keep the screen and its drafts.
    announce('Signing out failed: you are still signed in. Try again.');
    return;
  }
  clearDrafts();
  // The provider ends its own session too (RP-initiated logout), then sends the browser
  // back to the console.
  if (endSession) window.location.assign(endSession);
  else showSignIn('Signed out of Redress.');
});

setUpSearch({ navigate, announce });

elements.showShortcuts.addEventListener('click', openHelp);

globalShortcuts([
  { key: '?', label: 'Show these shortcuts', run: openHelp },
  { key: '/', label: 'Search cases (reference, address, account, words)', run: focusSearch },
  { key: 'q', label: 'Go to the queue', run: () => navigate('#/queue') },
]);

onUnauthenticated(() => {
  if (!me) return;
  if (usesProvider()) {
    showSignIn('Your session ended. Sign in again to carry on; what you typed into a case is kept.');
    return;
  }
  forgetToken();
  showSignIn('Your session ended (the token expired or was refused). Sign in again.');
});

live.onStatus((state) => {
  if (state === 'reconnecting') announce('Live updates interrupted; reconnecting…');
});

window.addEventListener('hashchange', route);

/** A sign-in error the provider's round trip left in the address, removed from it. */
function takeSignInError() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('sign_in_error');
  if (params.size > 0) window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash}`);
  if (!code) return null;
  return SIGN_IN_ERRORS[code] ?? 'Signing in failed. Sign in again.';
}

async function start() {
  const session = await loadProviderSession();
  const error = takeSignInError();
  if (session.provider) {
    if (session.signedIn && !error && await enter()) route();
    else if (!session.signedIn || error) showSignIn(error);
    return;
  }
  const saved = token();
  if (saved && await signIn(saved)) route();
  else if (!saved) showSignIn(error);
}

start();
