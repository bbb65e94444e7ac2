// The header's search box: a reference, an email address, a social handle (@id), an
// account id, an enforcement's external id, or words from messages and notes. A reference
// that names one case opens it; anything else lists what was found, each hit a link to its
// case. What a role may not see it cannot search by; the server says so (`withheld`).

import { fill, h } from './dom.js';
import { gql } from './graphql.js';
import { wire } from './format.js';

const SEARCH = `query Search($query: String!) {
  search(query: $query, first: 20) {
    withheld
    hits { matched snippet appeal { id reference state } }
  }
}`;

const form = document.getElementById('search');
const input = document.getElementById('search-query');
const error = document.getElementById('search-error');
const results = document.getElementById('search-results');

/** Why a hit was found, in the words of the person searching. */
const MATCHED = {
  REFERENCE: 'reference',
  CONTACT_ADDRESS: 'sender address',
  ACCOUNT_ADDRESS: 'account address',
  SOCIAL_HANDLE: 'sender handle',
  LINKED_HANDLE: 'linked handle',
  ACCOUNT_ID: 'account id',
  ENFORCEMENT_EXTERNAL_ID: 'enforcement id',
  MESSAGE_TEXT: 'message text',
  NOTE_TEXT: 'note',
};

export function closeResults() {
  results.hidden = true;
  fill(results);
}

function hitItem(hit, open) {
  const href = `#/case/${encodeURIComponent(hit.appeal.id)}`;
  return h('li', { class: 'search-hit', 'data-appeal-id': hit.appeal.id },
    h('a', { href, onclick: open }, hit.appeal.reference),
    ' ',
    h('span', { class: 'state' }, wire(hit.appeal.state)),
    ' · ',
    h('span', { class: 'matched' }, `matched ${MATCHED[hit.matched] ?? hit.matched.toLowerCase()}`),
    hit.snippet ? h('p', { class: 'snippet' }, hit.snippet) : null);
}

function show(query, found) {
  const open = () => { input.value = ''; closeResults(); };
  const items = found.hits.map((hit) => hitItem(hit, open));
  fill(results,
    h('p', { class: 'search-summary', id: 'search-summary' },
      found.hits.length === 0 ? `Nothing found for “${query}”.` :
        `${found.hits.length} ${found.hits.length === 1 ? 'case' : 'cases'} found for “${query}”.`),
    found.withheld
      ? h('p', { class: 'hint withheld' },
        'Your role does not see personal data, so email addresses, handles and message text were not searched.')
      : null,
    items.length ? h('ol', { class: 'search-hits', 'aria-labelledby': 'search-summary' }, items) : null,
    h('button', { type: 'button', class: 'search-close', onclick: closeResults }, 'Close'));
  results.hidden = false;
}

/** Wires the search box; `navigate(hash)` opens a screen. */
export function setUpSearch({ navigate, announce }) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = input.value.trim();
    error.textContent = '';
    if (!query) {
      error.textContent = 'Type a reference, an email address, an account id or words to find.';
      return;
    }
    try {
      const { search } = await gql(SEARCH, { query });
      const [only] = search.hits;
      if (search.hits.length === 1 && only.matched === 'REFERENCE') {
        input.value = '';
        closeResults();
        navigate(`#/case/${encodeURIComponent(only.appeal.id)}`);
        return;
      }
      show(query, search);
      announce(results.querySelector('.search-summary').textContent);
    } catch (err) {
      closeResults();
      error.textContent = err.code === 'BAD_USER_INPUT'
        ? err.message.replace(/^invalid query: /, '')
        : `Searching failed: ${err.message}`;
    }
  });
  results.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      closeResults();
      input.focus();
    }
  });
  window.addEventListener('hashchange', closeResults);
}

/** Puts the cursor in the search box (the `/` shortcut). */
export function focusSearch() {
  input.focus();
  input.select();
}
