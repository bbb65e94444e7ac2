// A menu of links in the header (the disclosure pattern): a real button shows and hides
// the list and says so in `aria-expanded`; Escape closes it and puts the focus back on the
// button, and so do a click elsewhere, the focus leaving it, or following one of its links.

export function disclosure(button, list) {
  const container = button.parentElement;

  function setOpen(open) {
    button.setAttribute('aria-expanded', String(open));
    list.hidden = !open;
  }

  function close({ refocus = false } = {}) {
    if (list.hidden) return;
    setOpen(false);
    if (refocus) button.focus();
  }

  button.addEventListener('click', () => setOpen(list.hidden));
  container.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || list.hidden) return;
    // Escape here belongs to the menu, not to the screen's own keys.
    event.preventDefault();
    event.stopPropagation();
    close({ refocus: true });
  });
  container.addEventListener('focusout', (event) => {
    if (!container.contains(event.relatedTarget)) close();
  });
  document.addEventListener('click', (event) => {
    if (!container.contains(event.target)) close();
  });
  list.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('a')) close();
  });
  return { close };
}
