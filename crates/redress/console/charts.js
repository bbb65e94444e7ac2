// Horizontal bar charts as inline SVG built with DOM calls (no markup strings), each with a
// text alternative for screen readers.

import { svg } from './dom.js';

const WIDTH = 640;
const LABEL_WIDTH = 220;
const BAR_HEIGHT = 22;
const GAP = 8;

/**
 * `items`: `[{ label, value }]`; `format(value)` writes the value beside its bar;
 * `max` fixes the scale (e.g. 1 for rates).
 */
export function barChart({ title, items, format = String, max }) {
  const top = Math.max(max ?? 0, ...items.map((item) => item.value), 0) || 1;
  const height = items.length * (BAR_HEIGHT + GAP) + GAP;
  const plot = WIDTH - LABEL_WIDTH - 80;
  const summary = items.map((item) => `${item.label}: ${format(item.value)}`).join('; ');
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', role: 'img', class: 'chart', 'aria-label': `${title}. ${summary}`,
  }, svg('title', null, title));
  items.forEach((item, index) => {
    const y = GAP + index * (BAR_HEIGHT + GAP);
    const length = Math.max(1, (item.value / top) * plot);
    chart.append(
      svg('text', { x: LABEL_WIDTH - 8, y: y + BAR_HEIGHT * 0.7, 'text-anchor': 'end', class: 'chart-label' }, item.label.length > 30 ? `${item.label.slice(0, 29)}…` : item.label),
      svg('rect', { x: LABEL_WIDTH, y, width: length.toFixed(1), height: BAR_HEIGHT, rx: 3, class: 'chart-bar' }),
      svg('text', { x: LABEL_WIDTH + length + 6, y: y + BAR_HEIGHT * 0.7, class: 'chart-value' }, format(item.value)),
    );
  });
  return chart;
}
