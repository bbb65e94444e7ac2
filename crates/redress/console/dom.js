// Building DOM without HTML parsing: every string becomes a text node, so text from
// appellants, platforms or the server can never turn into markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(element, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      element.setAttribute('class', value);
    } else if (name === 'htmlFor') {
      element.setAttribute('for', value);
    } else if (name === 'value' && 'value' in element) {
      element.value = value;
    } else if (name === 'checked' || name === 'selected') {
      element[name] = Boolean(value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `h('p', {class: 'x'}, 'text', child)`: an element with text and element children. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  apply(element, attributes);
  append(element, children);
  return element;
}

/** The same for SVG elements. */
export function svg(tag, attributes, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A labelled form control: `<div class="field"><label>…</label>control</div>`. */
export function field(label, control, hint) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 10)}`;
  const parts = [h('label', { htmlFor: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/** A definition list from `[term, description]` pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined).flatMap(([term, value]) => [
      h('dt', null, term),
      h('dd', null, value === null || value === '' ? '—' : value),
    ]));
}

/** A JSON value as nested lists, as text. */
export function jsonTree(value) {
  if (value === null || typeof value !== 'object') {
    return h('span', { class: 'json-scalar' }, value === null ? 'null' : String(value));
  }
  const entries = Array.isArray(value) ? value.map((item, i) => [String(i + 1), item]) : Object.entries(value);
  if (entries.length === 0) return h('span', { class: 'json-scalar' }, Array.isArray(value) ? '(none)' : '(empty)');
  return h('dl', { class: 'json-tree' },
    entries.flatMap(([key, item]) => [h('dt', null, key.replaceAll('_', ' ')), h('dd', null, jsonTree(item))]));
}
