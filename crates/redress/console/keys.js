// Single-key shortcuts for the frequent actions, listed on a help overlay that `?` opens.
// A key pressed while typing in a field is text, never a command, and keys with Ctrl, Alt
// or Meta belong to the browser. The screen on show adds its own keys (and may take over a
// global one, e.g. `n`), and drops them when it stops.

import { fill, h } from './dom.js';

/** key → `{ label, run }`, always available while signed in. */
const globalKeys = new Map();
/** The keys of the screen on show; they win over global ones. */
let screenKeys = new Map();
let enabled = false;

const dialog = document.getElementById('shortcuts');
const list = document.getElementById('shortcuts-list');

/** Whether the key went to a control that takes text, where it must stay text. */
function typing(event) {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  return target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])') !== null;
}

function bindings() {
  const merged = new Map(globalKeys);
  for (const [key, binding] of screenKeys) merged.set(key, binding);
  return merged;
}

export function openHelp() {
  fill(list, [...bindings()].map(([key, { label }]) => [
    h('dt', null, h('kbd', null, key)),
    h('dd', null, label),
  ]), h('dt', null, h('kbd', null, 'Esc')), h('dd', null, 'Close this help'));
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('button').focus();
}

export function closeHelp() {
  if (dialog.open) dialog.close();
}

/** Keys for the whole signed-in console: `[{ key, label, run }]`. */
export function globalShortcuts(entries) {
  for (const { key, label, run } of entries) globalKeys.set(key, { label, run });
}

/** Takes a global key away, e.g. one the signed-in person's roles have no use for. */
export function dropGlobalShortcut(key) {
  globalKeys.delete(key);
}

/** Keys of one screen; returns a function that removes them. */
export function screenShortcuts(entries) {
  const own = new Map(entries.filter(Boolean).map(({ key, label, run }) => [key, { label, run }]));
  screenKeys = own;
  return () => {
    if (screenKeys === own) screenKeys = new Map();
  };
}

/** Shortcuts work only while someone is signed in. */
export function enableShortcuts(on) {
  enabled = on;
  if (!on) closeHelp();
}

document.getElementById('shortcuts-close').addEventListener('click', closeHelp);

document.addEventListener('keydown', (event) => {
  if (!enabled || event.defaultPrevented || event.isComposing) return;
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  if (dialog.open) {
    // The modal dialog closes itself on Escape; this covers browsers that do not.
    if (event.key === 'Escape') {
      event.preventDefault();
      closeHelp();
    }
    return;
  }
  if (typing(event)) return;
  const binding = bindings().get(event.key);
  if (!binding) return;
  event.preventDefault();
  binding.run();
});
