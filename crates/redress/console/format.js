// Display helpers shared by the screens.

import { serverNow } from './graphql.js';

const dateTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC',
});

export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : `${dateTime.format(date)} UTC`;
}

function span(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(rest).padStart(2, '0')}m`;
  return `${rest}m`;
}

/** `3h 05m left` or `overdue 20m` for a deadline. */
export function countdown(iso, now = serverNow()) {
  if (!iso) return { text: 'no deadline', overdue: false };
  const left = new Date(iso).getTime() - now;
  return left >= 0
    ? { text: `${span(left)} left`, overdue: false }
    : { text: `overdue ${span(left)}`, overdue: true };
}

/** `AWAITING_USER` → `awaiting user`. */
export function wire(value) {
  return value ? String(value).toLowerCase().replaceAll('_', ' ') : '—';
}

/** `medianHoursToDecision` → `Median hours to decision`. */
export function humanize(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function percent(fraction) {
  return typeof fraction === 'number' ? `${(fraction * 100).toFixed(1)} %` : '—';
}
