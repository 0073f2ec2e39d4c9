// The people: the profiles this window has seen, and their presence. Contacts (the users I share a conversation
// with) are kept current by the hub's UserOnline / UserOffline, after the conversation list gave the starting point;
// anyone else's presence is read with their profile (GET /api/users/{id}) when they are shown (a search result, an
// open conversation). Nothing is polled. The sidebar (sidebar.js), the search results (search.js) and the
// conversation header (conversation.js) show it.

import { authorizedJson } from './session.js';
import { state } from './state.js';
import { announce, invalidate, lastSeenText } from './ui.js';

const CLOCK_MS = 30_000; // how often "last seen 5 min ago" is brought up to date
const GRACE_MS = 5000; // the server's Presence__GraceSeconds (its default)
const RECENT_DEPARTURE_MS = 30_000;

/** Remembers the profiles that an answer of the server carried ({id, username, avatarUrl}). */
export function rememberUser(user) {
  if (user && typeof user.id === 'string') {
    state.users.set(user.id, { id: user.id, username: user.username, avatarUrl: user.avatarUrl });
  }
}

export function userFor(id) {
  return state.users.get(id) || { id, username: '', avatarUrl: '' };
}

export function displayName(user) {
  return user.username || 'Unknown user';
}

export function isMe(id) {
  return state.session !== null && id === state.session.user.id;
}

// ---------------------------------------------------------------------------------------------------------------
// Presence
// ---------------------------------------------------------------------------------------------------------------

/**
 * Takes the presence that an answer of the server carried (a `peer` of the conversation list, a profile:
 * {id, online, lastSeenAt}), unless an event told something newer since the request started (`asOf`).
 */
export function takePresence(user, asOf) {
  if (!user || typeof user.id !== 'string' || typeof user.online !== 'boolean') return;
  const known = state.presence.get(user.id);
  if (known && known.at > asOf) return;
  const lastSeenAt = user.online ? null : (user.lastSeenAt ?? null);
  state.presence.set(user.id, { online: user.online, lastSeenAt, at: asOf });
  if (lastSeenAt) recheckAfterGrace(user.id, lastSeenAt);
  invalidate();
}

/**
 * The server's HTTP answers say "offline" as soon as someone's last connection ends, but its events wait out a
 * grace period (Presence__GraceSeconds, 5 s by default): someone who is back within it is never announced with
 * UserOnline. So an "offline" that is only seconds old may not last: it is read once more after the grace period.
 * Once per departure (per lastSeenAt), and only for departures less than half a minute old by this clock.
 */
function recheckAfterGrace(id, lastSeenAt) {
  const left = Date.parse(lastSeenAt);
  // Not for a departure long past, nor for every departure when this clock is far behind the server's.
  if (!(Math.abs(Date.now() - left) < RECENT_DEPARTURE_MS)) return;
  if (state.presenceRechecks.get(id)?.lastSeenAt === lastSeenAt) return; // read again already (or about to be)
  window.clearTimeout(state.presenceRechecks.get(id)?.timer);
  const timer = window.setTimeout(() => loadPeer(id), GRACE_MS + 1500);
  state.presenceRechecks.set(id, { lastSeenAt, timer });
}

/** The hub's UserOnline({userId}): a contact came online. */
export function userCameOnline(event) {
  if (!state.session || !event || typeof event.userId !== 'string') return;
  const was = state.presence.get(event.userId);
  state.presence.set(event.userId, { online: true, lastSeenAt: null, at: Date.now() });
  if (!was?.online) announcePresence(event.userId, 'is online');
  invalidate();
}

/** The hub's UserOffline({userId, lastSeenAt}): a contact's last connection ended. */
export function userWentOffline(event) {
  if (!state.session || !event || typeof event.userId !== 'string') return;
  const was = state.presence.get(event.userId);
  state.presence.set(event.userId, { online: false, lastSeenAt: event.lastSeenAt ?? null, at: Date.now() });
  if (was?.online !== false) announcePresence(event.userId, 'went offline');
  invalidate();
}

/** Reads out a change of the open conversation's peer (the others' show as their dot). */
function announcePresence(id, what) {
  if (id === state.activePeerId && !isMe(id)) announce(`${displayName(userFor(id))} ${what}.`);
}

/**
 * What to show of someone's presence: 'self', 'blocked' (I block them: the server tells nothing of them),
 * 'online', 'offline' (with `lastSeenAt` when known), or 'unknown' (not learned yet).
 * @returns {{state: 'self' | 'blocked' | 'online' | 'offline' | 'unknown', lastSeenAt: string | null}}
 */
export function presenceOf(id) {
  if (isMe(id)) return { state: 'self', lastSeenAt: null };
  if (state.blocked.has(id)) return { state: 'blocked', lastSeenAt: null };
  const known = state.presence.get(id);
  if (!known) return { state: 'unknown', lastSeenAt: null };
  return { state: known.online ? 'online' : 'offline', lastSeenAt: known.online ? null : known.lastSeenAt };
}

/** A short description of someone's presence, for lists: "online", "last seen 5 min ago", "offline"... */
export function presenceLabel(id) {
  const presence = presenceOf(id);
  switch (presence.state) {
    case 'self': return 'you';
    case 'blocked': return 'blocked';
    case 'online': return 'online';
    case 'offline': return presence.lastSeenAt ? lastSeenText(presence.lastSeenAt) : 'offline';
    default: return '';
  }
}

/**
 * Whether the hub's events keep this person's presence current: a contact (a conversation with a stored message)
 * whose presence is known, whom I do not block. The others' is read with their profile when they are shown.
 */
function presenceIsLive(id) {
  return isMe(id) || (state.presence.has(id) && state.order.includes(id) && !state.blocked.has(id));
}

/**
 * Reads the profile and presence of the people shown now (search results, an open conversation), unless events
 * keep it current or it was read less than `maxAgeMs` ago (the search result that was just picked).
 */
export function refreshPresence(ids, { maxAgeMs = 0 } = {}) {
  const since = Date.now() - maxAgeMs;
  for (const id of ids) {
    if (!presenceIsLive(id) && !(state.presence.get(id)?.at > since)) loadPeer(id);
  }
}

/** Fetches the profile (and presence) of someone this window has not seen (a message from a user not in any list). */
export function loadProfile(id) {
  if (!state.users.has(id)) loadPeer(id);
}

/** GET /api/users/{id}: {id, username, avatarUrl, online, lastSeenAt}. One request per person at a time. */
export async function loadPeer(id) {
  if (state.pendingProfiles.has(id) || !state.session) return;
  state.pendingProfiles.add(id);
  const myEpoch = state.epoch;
  const asOf = Date.now();
  try {
    const user = await authorizedJson(`/api/users/${encodeURIComponent(id)}`);
    if (myEpoch !== state.epoch) return;
    rememberUser(user);
    takePresence(user, asOf);
    invalidate();
  } catch {
    // shown as "Unknown user" (presence unknown) until a list or an event names them
  } finally {
    if (myEpoch === state.epoch) state.pendingProfiles.delete(id);
  }
}

/** Signed in: "last seen …" texts are re-rendered every half minute (nothing is fetched). */
export function startPresenceClock() {
  window.clearInterval(state.presenceClock);
  state.presenceClock = window.setInterval(invalidate, CLOCK_MS);
}
