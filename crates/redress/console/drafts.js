// What a reviewer typed into a case's forms, kept in this tab's sessionStorage per case, so
// that it survives a reload and a sign-in again after the session ended. Signing out
// removes every draft; closing the tab does too.

const PREFIX = 'redress.console.draft.';

/** The draft of case `id`: control name to value. */
export function loadDraft(id) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(PREFIX + id) ?? '{}');
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {};
  }
}

/** Keeps `values` (control name to value) as the draft of case `id`; empty values are dropped. */
export function saveDraft(id, values) {
  const kept = Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value === 'string' && value !== ''));
  if (Object.keys(kept).length > 0) sessionStorage.setItem(PREFIX + id, JSON.stringify(kept));
  else sessionStorage.removeItem(PREFIX + id);
}

/** Forgets every draft (sign out). */
export function clearDrafts() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
  }
}
