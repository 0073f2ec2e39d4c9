// The signed-in session: its tokens, their refresh, and their copy in sessionStorage (so each window holds its own
// sign-in and a reload keeps it).

import { postJson, readJson, send, toApiError } from './api.js';
import { state } from './state.js';

const STORAGE_KEY = 'chat.session';
const REFRESH_MARGIN_MS = 60_000; // refresh the access token when it has less than this left
const ENDED_TEXT = 'Your session has ended. Please log in again.';

/** The session is over (logged out, or the refresh token no longer works). */
export class SessionEndedError extends Error {
  constructor() {
    super('You are signed out.');
  }
}

// What to do when the server refuses the session: set by app.js, which owns signing out.
const hooks = { ended: (_message) => {} };

export function onSessionEnded(handler) {
  hooks.ended = handler;
}

/** Signs this window out because the server refused its tokens; returns the error for the caller to throw. */
function sessionEnded() {
  hooks.ended(ENDED_TEXT);
  return new SessionEndedError();
}

export function storeSession(tokens) {
  const lifetimeMs = Math.max(1, Number(tokens.expiresIn) || 0) * 1000;
  state.session = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: Date.now() + lifetimeMs,
    lifetimeMs,
    user: tokens.user,
  };
  state.users.set(state.session.user.id, state.session.user);
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state.session));
  } catch {
    // storage full or disabled: this window stays signed in until it is closed or reloaded
  }
}

/** Takes up the session stored by this window before a reload; returns whether there was one. */
export function restoreSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (stored && stored.accessToken && stored.refreshToken && stored.user && stored.user.id) {
      state.session = stored;
      state.users.set(stored.user.id, stored.user);
      return true;
    }
  } catch {
    // unreadable: start signed out
  }
  state.session = null;
  return false;
}

/** Drops the tokens, here and in storage (revoking the refresh token is the caller's business). */
export function forgetSession() {
  state.session = null;
  state.refreshInFlight = null;
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

function tokenIsFresh() {
  // With very short-lived tokens (a test setup), keep a quarter of the lifetime instead of a full minute.
  const margin = Math.min(REFRESH_MARGIN_MS, state.session.lifetimeMs / 4);
  return state.session.expiresAt - Date.now() > margin;
}

/** A valid access token, refreshed first when it expires within a minute. SignalR's accessTokenFactory. */
export async function getAccessToken() {
  if (!state.session) throw new SessionEndedError();
  if (!tokenIsFresh()) await refreshSession();
  if (!state.session) throw new SessionEndedError();
  return state.session.accessToken;
}

/**
 * Exchanges the refresh token for new tokens. Only one refresh runs at a time (a refresh token works once:
 * presenting it twice would revoke the session); callers that come while one runs share its result. With
 * `staleToken`, the refresh is skipped when the session already moved past that access token.
 */
export function refreshSession(staleToken) {
  if (state.refreshInFlight) return state.refreshInFlight;
  const session = state.session;
  if (!session) return Promise.reject(new SessionEndedError());
  if (staleToken && session.accessToken !== staleToken && tokenIsFresh()) return Promise.resolve();

  const myEpoch = state.epoch;
  const refreshToken = session.refreshToken;
  state.refreshInFlight = (async () => {
    const response = await postJson('/api/auth/refresh', { refreshToken });
    if (myEpoch !== state.epoch) throw new SessionEndedError();
    if (response.status === 401) throw sessionEnded();
    if (!response.ok) throw await toApiError(response);
    const tokens = await response.json();
    if (myEpoch !== state.epoch) throw new SessionEndedError();
    storeSession(tokens);
  })().finally(() => {
    state.refreshInFlight = null;
  });
  return state.refreshInFlight;
}

/** Calls the API with the access token; on 401, refreshes once and tries again. */
export async function authorizedJson(path, { method = 'GET', body } = {}) {
  const attempt = async () => {
    const token = await getAccessToken();
    return { response: await send(path, { method, body, token }), token };
  };

  let { response, token } = await attempt();
  if (response.status === 401) {
    await refreshSession(token);
    ({ response } = await attempt());
    if (response.status === 401) throw sessionEnded();
  }
  return readJson(response);
}
