// Start-up, sign-in and hash routing. Each screen module exports
// `render(container, context, parameter)` and returns a function that stops its live work.

import { fill } from './dom.js';
import { gql, onUnauthenticated } from './graphql.js';
import { dropGlobalShortcut, enableShortcuts, globalShortcuts, openHelp } from './keys.js';
import { live } from './live.js';
import { closeResults, focusSearch, setUpSearch } from './search.js';
import { forgetToken, hasRole, keepToken, token } from './session.js';
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
  navTriage: document.getElementById('nav-triage'),
  navRouting: document.getElementById('nav-routing'),
  navReview: document.getElementById('nav-review'),
  navPolicies: document.getElementById('nav-policies'),
  navAudit: document.getElementById('nav-audit'),
  search: document.getElementById('search'),
  showShortcuts: document.getElementById('show-shortcuts'),
  screen: document.getElementById('screen'),
  status: document.getElementById('live-status'),
  main: document.getElementById('main'),
};

let me = null;
let stopScreen = () => {};

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

function showSignIn(message) {
  stopScreen();
  stopScreen = () => {};
  live.closeAll();
  me = null;
  enableShortcuts(false);
  elements.nav.hidden = true;
  elements.search.hidden = true;
  closeResults();
  elements.identity.hidden = true;
  fill(elements.screen);
  elements.signIn.hidden = false;
  elements.signInError.textContent = message ?? '';
  elements.tokenInput.value = '';
  elements.tokenInput.focus();
}

async function signIn(candidate) {
  keepToken(candidate);
  try {
    const data = await gql('query Me { me { subject roles seesPersonalData } }');
    me = data.me;
  } catch (err) {
    forgetToken();
    showSignIn(err.code === 'UNAUTHENTICATED'
      ? 'The server refused this token (invalid, expired or for another service).'
      : `Signing in failed: ${err.message}`);
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
  if (triager) globalShortcuts([{ key: 't', label: 'Go to triage', run: () => navigate('#/triage') }]);
  else dropGlobalShortcut('t');
  elements.search.hidden = false;
  elements.identity.hidden = false;
  enableShortcuts(true);
  elements.who.textContent = `${me.subject} (${me.roles.map((r) => r.toLowerCase().replaceAll('_', ' ')).join(', ') || 'no roles'})`;
  return true;
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

elements.signOut.addEventListener('click', () => {
  forgetToken();
  showSignIn('Signed out.');
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
  forgetToken();
  showSignIn('Your session ended (the token expired or was refused). Sign in again.');
});

live.onStatus((state) => {
  if (state === 'reconnecting') announce('Live updates interrupted; reconnecting…');
});

window.addEventListener('hashchange', route);

async function start() {
  const saved = token();
  if (saved && await signIn(saved)) route();
  else if (!saved) showSignIn();
}

start();
