// Sending: every message gets a clientMessageId (a UUID) and waits in the outbox, shown as pending, until the
// server acknowledges it. A send that the connection lost (or that could not start while disconnected) is sent
// again, with the same clientMessageId, once connected: the server stores it once whatever the number of tries.
// A send the server refused (a HubException: bad input, rate limit, database down...) was not stored: it stays,
// marked failed with the reason, until the person sends it again or deletes it, and is not sent again on its own.
// The outbox is kept in sessionStorage, so a reload sends what was left.

import { hubErrorText, isConnected, isHubRejection, send } from './hub.js';
import { storedEntry } from './messages.js';
import { loadForUser, OUTBOX_KEY, saveForUser, state } from './state.js';
import { messageArrived } from './sync.js';
import { invalidate } from './ui.js';

const RETRY_WHILE_CONNECTED_MS = 1500; // the call died with a connection that was replaced (renewal)
const RETRIES_WHILE_CONNECTED = 5; // then it waits for the next connect

const hooks = { rejected: (_entry, _reason) => {} };

/** What to do when the server refuses a message: composer.js tells the person. */
export function onRejected(handler) {
  hooks.rejected = handler;
}

function save() {
  saveForUser(OUTBOX_KEY, state.outbox.map(storedEntry));
}

/** Takes up the messages this window had not got acknowledged before a reload. */
export function restoreOutbox() {
  const stored = loadForUser(OUTBOX_KEY);
  state.outbox = Array.isArray(stored)
    ? stored.filter((e) => e && typeof e.clientMessageId === 'string' && typeof e.peerId === 'string' && typeof e.text === 'string')
      .map((e) => ({ ...e, failed: typeof e.failed === 'string' ? e.failed : null, inFlight: false }))
    : [];
  invalidate();
}

function newClientMessageId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Pages served over plain HTTP from another host than localhost have no randomUUID: 32 random hex digits.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Queues `text` for `peerId` and sends it now when connected. */
export function queueMessage(peerId, text) {
  const entry = {
    clientMessageId: newClientMessageId(),
    peerId,
    text,
    createdAt: new Date().toISOString(),
    failed: null, // the server's reason, once it refused the message
    inFlight: false,
  };
  state.outbox.push(entry);
  save();
  invalidate();
  deliver(entry);
  return entry;
}

/** The messages waiting for `peerId`, oldest first. */
export function pendingFor(peerId) {
  return state.outbox.filter((entry) => entry.peerId === peerId);
}

/** Connected (again): sends everything still waiting, oldest first (not the ones the server refused). */
export function resendAll() {
  for (const entry of [...state.outbox]) {
    if (entry.failed) continue;
    entry.retries = 0;
    deliver(entry);
  }
}

/** "Retry" on a message the server refused: sends it again (same clientMessageId: it was never stored). */
export function retryMessage(clientMessageId) {
  const entry = state.outbox.find((e) => e.clientMessageId === clientMessageId);
  if (!entry || !entry.failed) return;
  entry.failed = null;
  entry.retries = 0;
  save();
  invalidate();
  deliver(entry);
}

/** "Delete" on a message the server refused. */
export function discardMessage(clientMessageId) {
  state.outbox = state.outbox.filter((e) => !(e.clientMessageId === clientMessageId && e.failed));
  save();
  invalidate();
}

async function deliver(entry) {
  if (entry.inFlight || entry.failed || !isConnected() || !state.outbox.includes(entry)) return;
  const myEpoch = state.epoch;
  const me = state.session.user.id;
  entry.inFlight = true;
  try {
    const receipt = await send({ receiverId: entry.peerId, text: entry.text, clientMessageId: entry.clientMessageId });
    if (myEpoch !== state.epoch) return;
    // Like a live message: held while the first sync runs, and counted once whichever way it comes.
    messageArrived({
      id: receipt.id,
      senderId: me,
      receiverId: receipt.receiverId ?? entry.peerId,
      text: entry.text,
      sentAt: receipt.sentAt,
      clientMessageId: receipt.clientMessageId ?? entry.clientMessageId,
    });
    // Acknowledged: out of the outbox (the merge does it too, by clientMessageId, unless the message was held).
    if (state.outbox.includes(entry)) {
      state.outbox = state.outbox.filter((e) => e !== entry);
      save();
    }
  } catch (error) {
    if (myEpoch !== state.epoch || !state.outbox.includes(entry)) return;
    if (isHubRejection(error)) {
      entry.failed = hubErrorText(error);
      save();
      hooks.rejected(entry, entry.failed);
    } else if (isConnected() && (entry.retries = (entry.retries || 0) + 1) <= RETRIES_WHILE_CONNECTED) {
      // The connection it went out on is gone but another one is up: try again shortly.
      window.setTimeout(() => deliver(entry), RETRY_WHILE_CONNECTED_MS);
    }
    // Otherwise it waits for the next connect (resendAll).
  } finally {
    entry.inFlight = false;
    invalidate();
  }
}
