// The SignalR connection to /hubs/chat: connecting, reconnecting, renewing before the access token expires, the
// server's "too many connections" refusal, and the hub methods the page calls. The client is the global `signalR`
// from /lib/signalr/signalr.min.js (a classic script that index.html loads first).

import { getAccessToken, refreshSession, SessionEndedError } from './session.js';
import { state } from './state.js';
import { hideBanner, setStatus, showBanner } from './ui.js';

// Waits before connecting again: after the connection dropped (withAutomaticReconnect, which never gives up here),
// and after the server closed it. The last one repeats. Each wait varies by ±20 % so that a restarted server is
// not hit by every client at once.
const RECONNECT_DELAYS_MS = [0, 1000, 2000, 4000, 8000, 15_000];
const RESTART_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15_000];
const jitter = (ms) => Math.round(ms * (0.8 + Math.random() * 0.4));

const hub = state.hub;
const handlers = new Map(); // hub method -> handler, given to every connection this module opens
const hooks = { connected: () => {} };

/** Handles a hub method the server calls (registered before connect()). */
export function on(method, handler) {
  handlers.set(method, handler);
}

/**
 * Runs `handler` whenever a connection is up: the first one, after every reconnect, and after a renewal swapped
 * connections (what the server sent meanwhile may have reached neither: the handler syncs).
 */
export function onConnected(handler) {
  hooks.connected = handler;
}

/** Opens the signed-in user's connection (and retries with backoff when that fails). */
export function connect() {
  hub.connection = createConnection();
  hub.restartAttempts = 0;
  startConnection();
}

/** Closes the connection and cancels every retry (signing out). */
export function disconnect() {
  const closing = hub.connection;
  hub.connection = null;
  if (closing) closing.stop().catch(() => {});
  window.clearTimeout(hub.restartTimer);
  window.clearTimeout(hub.renewTimer);
  hub.restartAttempts = 0;
}

/** The Reconnect button: try again now, from the shortest wait. */
export function reconnectNow() {
  hub.restartAttempts = 0;
  hideBanner('connection');
  startConnection();
}

/** Back online: retry now instead of waiting out the backoff. */
export function reconnectIfDisconnected() {
  const connection = hub.connection;
  if (state.session && connection && connection.state === signalR.HubConnectionState.Disconnected) reconnectNow();
}

export function isConnected() {
  return hub.connection !== null && hub.connection.state === signalR.HubConnectionState.Connected;
}

/**
 * Stores a message ({receiverId, text, clientMessageId}); resolves to the server's receipt
 * ({id, receiverId, sentAt, clientMessageId}). Call only when isConnected().
 */
export function send(message) {
  return hub.connection.invoke('Send', message);
}

/** Moves my read marker in the conversation with `peerId` to `upToId`; resolves to {peerId, upToId, unreadCount}. */
export function markRead(peerId, upToId) {
  if (!isConnected()) return Promise.reject(new Error('Not connected to the server right now.'));
  return hub.connection.invoke('MarkRead', peerId, upToId);
}

/**
 * Tells `peerId` that I am typing (the server forwards it as UserTyping, or drops it). Fire and forget: `send`,
 * not `invoke`, so no answer comes back for it; a call lost with the connection is of no consequence.
 */
export function typing(peerId) {
  if (isConnected()) hub.connection.send('Typing', peerId).catch(() => {});
}

/** Whether the server refused the call (a HubException), as opposed to the connection failing under it. */
export function isHubRejection(error) {
  return /HubException: /.test(error && error.message ? error.message : String(error || ''));
}

/** A hub error's own text, without SignalR's "An unexpected error occurred invoking 'Send'..." prefix. */
export function hubErrorText(error) {
  const raw = error && error.message ? error.message : String(error || 'The connection was lost.');
  const match = /HubException: ([\s\S]*)$/.exec(raw);
  if (match) return match[1].trim();
  if (/not in the 'Connected' State/i.test(raw)) return 'Not connected to the server right now.';
  return raw;
}

function createConnection() {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/chat', { accessTokenFactory: getAccessToken }) // ?access_token= on WebSockets
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: (context) =>
        jitter(RECONNECT_DELAYS_MS[Math.min(context.previousRetryCount, RECONNECT_DELAYS_MS.length - 1)]),
    })
    .configureLogging(signalR.LogLevel.Warning)
    .build();

  for (const [method, handler] of handlers) connection.on(method, handler);
  connection.onreconnecting(() => {
    if (connection === hub.connection) setStatus('reconnecting');
  });
  connection.onreconnected(() => {
    if (connection === hub.connection) connected();
  });
  // Closed for good: the server ended it (the access token expired), or automatic reconnection gave up.
  connection.onclose((error) => {
    if (connection !== hub.connection || !state.session) return; // signed out, or replaced
    if (error && refusedAsTooMany(error)) return;
    scheduleRestart();
  });
  return connection;
}

function connected() {
  setStatus('connected');
  hideBanner('connection');
  scheduleRenewal();
  hooks.connected();
}

/**
 * The server refuses a connection beyond its per-user limit. Retrying would only be refused again while the
 * others stay open, so this waits for the person to close one and press Reconnect.
 */
function refusedAsTooMany(error) {
  const text = hubErrorText(error);
  // Beyond the cap the negotiation itself is refused (429), or, on an older server, the started connection.
  if (!/too many connections|status code '429'/i.test(text)) return false;
  setStatus('disconnected');
  showBanner(text, { scope: 'connection' });
  return true;
}

async function startConnection() {
  window.clearTimeout(hub.restartTimer);
  const connection = hub.connection;
  if (!connection || !state.session || connection.state !== signalR.HubConnectionState.Disconnected) return;
  setStatus(hub.restartAttempts > 0 ? 'reconnecting' : 'connecting');
  const tokenUsed = state.session.accessToken;
  try {
    await connection.start();
    if (connection !== hub.connection) return;
    hub.restartAttempts = 0;
    connected();
  } catch (error) {
    if (connection !== hub.connection || !state.session || error instanceof SessionEndedError) return;
    if (refusedAsTooMany(error)) return;
    if (error && error.statusCode === 401) {
      // The server refused this access token (e.g. its signing key changed): get a new one before retrying.
      try {
        await refreshSession(tokenUsed);
      } catch {
        if (!state.session) return;
      }
    }
    scheduleRestart();
  }
}

function scheduleRestart() {
  window.clearTimeout(hub.restartTimer);
  const delay = jitter(RESTART_DELAYS_MS[Math.min(hub.restartAttempts, RESTART_DELAYS_MS.length - 1)]);
  hub.restartAttempts++;
  setStatus('reconnecting');
  hub.restartTimer = window.setTimeout(startConnection, delay);
}

/**
 * The server closes a connection when the access token it was opened with expires. Shortly before that, open the
 * next connection (with a fresh token) and only then close the old one, so that the status never flickers and live
 * delivery goes on. Messages that reach both are shown once (by id); the sync after the swap fills any gap.
 */
function scheduleRenewal() {
  window.clearTimeout(hub.renewTimer);
  if (!state.session) return;
  hub.expiresAt = state.session.expiresAt;
  const lead = Math.min(30_000, state.session.lifetimeMs / 6);
  hub.renewTimer = window.setTimeout(renewConnection, Math.max(1000, hub.expiresAt - Date.now() - lead));
}

async function renewConnection() {
  const old = hub.connection;
  if (!state.session || !old || old.state !== signalR.HubConnectionState.Connected) return; // startConnection's job
  const myEpoch = state.epoch;
  const next = createConnection();
  try {
    await next.start();
  } catch {
    // The old connection works until its token expires; after that, onclose starts again.
    if (myEpoch === state.epoch && hub.connection === old && hub.expiresAt - Date.now() > 5000) {
      hub.renewTimer = window.setTimeout(renewConnection, 3000);
    }
    return;
  }
  if (myEpoch !== state.epoch || hub.connection !== old) {
    next.stop().catch(() => {});
    return;
  }
  hub.connection = next;
  window.clearTimeout(hub.restartTimer);
  hub.restartAttempts = 0;
  setStatus('connected');
  scheduleRenewal();
  old.stop().catch(() => {});
  hooks.connected();
}
