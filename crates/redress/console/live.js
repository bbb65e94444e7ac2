// A graphql-transport-ws client: one socket for all subscriptions of the tab, opened on the
// first subscription. The token (or, signed in through the identity provider, the session's
// CSRF token) goes in connection_init (never in the URL). Lost
// connections are reopened with backoff and every live subscription is sent again; its
// `resumed` callback lets the screen reload what it may have missed.

import { csrfToken, token } from './session.js';

const PROTOCOL = 'graphql-transport-ws';
const KEEPALIVE_MS = 20000;
const IDLE_CLOSE_MS = 2000;
const MAX_BACKOFF_MS = 15000;

function socketUrl() {
  const url = new URL('/graphql/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

class LiveClient {
  constructor() {
    this.socket = null;
    this.acknowledged = false;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.keepAliveTimer = null;
    this.idleTimer = null;
    this.statusListeners = new Set();
  }

  /** `listener(state)` with `connecting`, `live`, `reconnecting` or `closed`. */
  onStatus(listener) {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  status(state) {
    this.statusListeners.forEach((listener) => listener(state));
  }

  /**
   * Starts a subscription; returns a function that ends it.
   * `sink`: `{ next(data), error(err), complete(), resumed() }`, all optional.
   */
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, sink });
    clearTimeout(this.idleTimer);
    if (!this.socket) this.connect();
    else if (this.acknowledged) this.sendSubscribe(id);
    return () => this.unsubscribe(id);
  }

  unsubscribe(id) {
    if (!this.subscriptions.delete(id)) return;
    if (this.acknowledged) this.send({ id, type: 'complete' });
    if (this.subscriptions.size === 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    }
  }

  /** Closes the socket and forgets every subscription (sign out). */
  closeAll() {
    this.subscriptions.clear();
    this.close();
  }

  close() {
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepAliveTimer);
    const socket = this.socket;
    this.socket = null;
    this.acknowledged = false;
    if (socket) socket.close(1000, 'done');
    this.status('closed');
  }

  connect() {
    this.status(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(socketUrl(), PROTOCOL);
    this.socket = socket;
    socket.addEventListener('open', () => {
      const bearer = token();
      const csrf = csrfToken();
      let payload = {};
      if (bearer) payload = { Authorization: `Bearer ${bearer}` };
      else if (csrf) payload = { csrfToken: csrf };
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
    });
    socket.addEventListener('message', (event) => this.receive(socket, event.data));
    socket.addEventListener('close', (event) => this.closed(socket, event));
  }

  receive(socket, raw) {
    if (socket !== this.socket) return;
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    const subscription = this.subscriptions.get(message.id);
    switch (message.type) {
      case 'connection_ack': {
        const resumed = this.attempt > 0;
        this.acknowledged = true;
        this.attempt = 0;
        this.status('live');
        clearInterval(this.keepAliveTimer);
        this.keepAliveTimer = setInterval(() => this.send({ type: 'ping' }), KEEPALIVE_MS);
        for (const [id, entry] of this.subscriptions) {
          this.sendSubscribe(id);
          if (resumed) entry.sink.resumed?.();
        }
        break;
      }
      case 'ping':
        this.send({ type: 'pong' });
        break;
      case 'next':
        if (!subscription) break;
        if (message.payload?.errors?.length) subscription.sink.error?.(message.payload.errors);
        else subscription.sink.next?.(message.payload?.data);
        break;
      case 'error':
        if (subscription) {
          this.subscriptions.delete(message.id);
          subscription.sink.error?.(message.payload);
        }
        break;
      case 'complete':
        if (subscription) {
          this.subscriptions.delete(message.id);
          subscription.sink.complete?.();
        }
        break;
      default:
        break;
    }
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    clearInterval(this.keepAliveTimer);
    this.socket = null;
    this.acknowledged = false;
    // 4403 / 4401: the server refused the token; retrying with the same one cannot help.
    const refused = event.code === 4401 || event.code === 4403;
    if (this.subscriptions.size === 0 || refused) {
      this.status('closed');
      return;
    }
    this.attempt += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.status('reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  sendSubscribe(id) {
    const entry = this.subscriptions.get(id);
    if (!entry) return;
    this.send({ id, type: 'subscribe', payload: { query: entry.query, variables: entry.variables } });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }
}

export const live = new LiveClient();
