// Keeping up with the server: the conversation list when signing in, GET /api/sync after every (re)connect and
// every SyncNeeded, and the live events (ReceiveMessage, MessageSent, MessagesRead). Live and synced messages both
// go through messages.js, which counts each message id once. Every conversation list read also brings the peers'
// presence (people.js), which the hub's events may have missed while disconnected.
//
// The first run takes the conversation list as the truth, then syncs from the stored cursor (from the very first
// message without one): the messages up to the list's newest last message are already counted in it and are
// skipped; the ones after it are new. Live events that come before that first run ends are held and applied after
// it (skipping the ones it accounted for). Every later run syncs from the cursor, then compares read markers with
// the conversation list (MessagesRead events may have been missed while disconnected).

import { describe } from './api.js';
import {
  applyConversationList, applyMessagesRead, CONVERSATIONS_PAGE, mergeMessages, reconcileConversationList,
} from './messages.js';
import { displayName, takePresence, userFor } from './people.js';
import { authorizedJson, SessionEndedError } from './session.js';
import { loadForUser, saveForUser, state, SYNC_KEY } from './state.js';
import { typingStopped } from './typing.js';
import { announce, hideBanner, invalidate, showBanner } from './ui.js';

const SYNC_PAGE = 500;
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

class Stale extends Error {} // the session changed while a request ran

/** Signed in: the first run (conversation list, then sync) starts now, and live events wait for it. */
export function startSync() {
  const stored = loadForUser(SYNC_KEY);
  if (stored && typeof stored.cursor === 'string') {
    state.sync.cursor = stored.cursor;
    state.sync.lastId = typeof stored.lastId === 'string' ? stored.lastId : null;
  }
  requestSync();
}

/** Syncs now, or right after the run in progress (which may have read its last page already). */
export function requestSync() {
  const sync = state.sync;
  if (!state.session) return;
  if (sync.running) {
    sync.again = true;
    return;
  }
  window.clearTimeout(sync.retryTimer);
  run(sync);
}

async function run(sync) {
  const myEpoch = state.epoch;
  sync.running = true;
  try {
    do {
      sync.again = false;
      if (sync.ready) {
        await pull(sync, myEpoch, null);
        reconcileConversationList(await fetchConversationList(myEpoch));
      } else {
        await firstRun(sync, myEpoch);
      }
    } while (sync.again);
    sync.retries = 0;
    hideBanner('sync');
  } catch (error) {
    if (error instanceof Stale || error instanceof SessionEndedError || myEpoch !== state.epoch) return;
    const delay = error.retryAfter
      ? error.retryAfter * 1000
      : RETRY_DELAYS_MS[Math.min(sync.retries, RETRY_DELAYS_MS.length - 1)];
    sync.retries++;
    if (sync.retries === 3) showBanner(`Could not load your messages: ${describe(error)} Retrying…`, { scope: 'sync' });
    sync.retryTimer = window.setTimeout(requestSync, delay);
  } finally {
    sync.running = false;
  }
}

async function fetchJson(path, myEpoch) {
  const answer = await authorizedJson(path);
  if (myEpoch !== state.epoch) throw new Stale();
  return answer;
}

/** The newest page of the conversation list; its peers' presence goes to people.js. */
async function fetchConversationList(myEpoch) {
  const asOf = Date.now();
  const list = await fetchJson(`/api/conversations?limit=${CONVERSATIONS_PAGE}`, myEpoch);
  if (!Array.isArray(list)) return [];
  for (const item of list) takePresence(item?.peer, asOf);
  return list;
}

async function firstRun(sync, myEpoch) {
  const list = await fetchConversationList(myEpoch);
  const newest = applyConversationList(list, CONVERSATIONS_PAGE);
  // The cursor may stand right at the list's newest message already (a reload with nothing new).
  const fence = newest !== null && newest !== sync.lastId ? newest : null;
  const accounted = new Set();
  await pull(sync, myEpoch, fence, accounted);
  sync.ready = true;
  const held = sync.held;
  sync.held = [];
  for (const event of held) {
    if (event.read) applyMessagesRead(event.read);
    else announceIncoming(mergeMessages([event.message], { skip: accounted }));
  }
  invalidate();
}

/**
 * Reads sync pages from the cursor until the server has no more. With `fence`, the messages up to and including
 * it are already counted (in the conversation list): their ids go into `accounted` instead.
 */
async function pull(sync, myEpoch, fence, accounted) {
  let fenceOpen = fence !== null;
  for (;;) {
    const query = new URLSearchParams({ limit: String(SYNC_PAGE) });
    if (sync.cursor !== null) query.set('after', sync.cursor);
    const page = await fetchJson(`/api/sync?${query}`, myEpoch);
    const messages = Array.isArray(page.messages) ? page.messages : [];
    let skip = null;
    if (fenceOpen) {
      const at = messages.findIndex((m) => m && m.id === fence);
      const old = at < 0 ? messages : messages.slice(0, at + 1);
      for (const m of old) if (m && typeof m.id === 'string') accounted.add(m.id);
      skip = accounted;
      if (at >= 0) fenceOpen = false;
    }
    announceIncoming(mergeMessages(messages, { skip }));

    if (messages.length) sync.lastId = messages[messages.length - 1].id;
    if (typeof page.cursor === 'string') sync.cursor = page.cursor;
    saveForUser(SYNC_KEY, { cursor: sync.cursor, lastId: sync.lastId });
    if (!page.hasMore || !messages.length) break;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Live events
// ---------------------------------------------------------------------------------------------------------------

/**
 * A message that came outside sync: ReceiveMessage (to me), MessageSent (mine, from another of my connections), or
 * the receipt of one this window sent.
 */
export function messageArrived(message) {
  if (!state.session || !message) return;
  if (!state.sync.ready) {
    state.sync.held.push({ message });
    return;
  }
  announceIncoming(mergeMessages([message]));
}

/** MessagesRead: a read marker moved. */
export function liveRead(event) {
  if (!state.session || !event) return;
  if (!state.sync.ready) {
    state.sync.held.push({ read: event });
    return;
  }
  applyMessagesRead(event);
}

/** Reads out new messages from others (the newest one, and how many more came with it); their "typing…" ends. */
function announceIncoming(incoming) {
  if (!incoming.length) return;
  for (const message of incoming) typingStopped(message.senderId);
  const last = incoming[incoming.length - 1];
  const preview = last.text.length > 140 ? `${last.text.slice(0, 140)}…` : last.text;
  const more = incoming.length > 1 ? ` (and ${incoming.length - 1} more new messages)` : '';
  announce(`New message from ${displayName(userFor(last.senderId))}: ${preview}${more}`);
}
