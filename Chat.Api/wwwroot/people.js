// The people: who is online (polled from GET /api/users/online), and the profiles this window has seen. The
// sidebar (sidebar.js) and the conversation header show them.

import { authorizedJson } from './session.js';
import { state } from './state.js';
import { invalidate } from './ui.js';

const POLL_INTERVAL_MS = 3000;

/** Polls the online list now instead of at the next tick (after connecting, for instance). */
export function pollNow() {
  if (state.poll.running || !state.session) return;
  window.clearTimeout(state.poll.timer);
  pollOnline();
}

export function stopPolling() {
  window.clearTimeout(state.poll.timer);
  state.poll.running = false;
}

async function pollOnline() {
  const myEpoch = state.epoch;
  state.poll.running = true;
  try {
    const list = await authorizedJson('/api/users/online');
    if (myEpoch !== state.epoch) return;
    state.online.clear();
    for (const user of list) {
      if (user.id === state.session.user.id) continue;
      state.users.set(user.id, user);
      state.online.add(user.id);
    }
    invalidate();
  } catch {
    // Keep the last list: the connection status tells when the server is unreachable.
  } finally {
    if (myEpoch === state.epoch) {
      state.poll.running = false;
      if (state.session) state.poll.timer = window.setTimeout(pollOnline, POLL_INTERVAL_MS);
    }
  }
}

/** Remembers the profiles that an answer of the server carried ({id, username, avatarUrl}). */
export function rememberUser(user) {
  if (user && typeof user.id === 'string') state.users.set(user.id, user);
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

/** Fetches the profile of someone this window has not seen yet (a message from a user not in any list). */
export async function loadProfile(id) {
  if (state.users.has(id) || state.pendingProfiles.has(id)) return;
  state.pendingProfiles.add(id);
  const myEpoch = state.epoch;
  try {
    const user = await authorizedJson(`/api/users/${encodeURIComponent(id)}`);
    if (myEpoch !== state.epoch) return;
    rememberUser(user);
    invalidate();
  } catch {
    // shown as "Unknown user" until a list names them
  } finally {
    state.pendingProfiles.delete(id);
  }
}
