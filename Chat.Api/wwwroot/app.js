// Chat's browser client: a plain ES module, no framework. The SignalR client is the global `signalR` from
// /lib/signalr/signalr.min.js (copied from npm by the build). Tokens live in sessionStorage, so each window (tab)
// holds its own sign-in and a reload keeps it; conversations live in memory only: the server stores no messages.

const MAX_MESSAGE_LENGTH = 4096; // as the server counts it: UTF-16 code units, like String.length
const POLL_INTERVAL_MS = 3000;
const REFRESH_MARGIN_MS = 60_000; // refresh the access token when it has less than this left
// Waits before connecting again: after the connection dropped (withAutomaticReconnect, which never gives up here),
// and after the server closed it. The last one repeats. Each wait varies by ±20 % so that a restarted server is
// not hit by every client at once.
const RECONNECT_DELAYS_MS = [0, 1000, 2000, 4000, 8000, 15_000];
const RESTART_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15_000];
const jitter = (ms) => Math.round(ms * (0.8 + Math.random() * 0.4));
const STORAGE_KEY = 'chat.session';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  statusText: $('status-text'),
  reconnect: $('reconnect'),
  me: $('me'),
  meAvatar: $('me-avatar'),
  meName: $('me-name'),
  logout: $('logout'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerClose: $('banner-close'),
  announcer: $('announcer'),
  main: $('main'),
  loadingView: $('loading-view'),
  authView: $('auth-view'),
  tabLogin: $('tab-login'),
  tabSignup: $('tab-signup'),
  loginForm: $('panel-login'),
  signupForm: $('panel-signup'),
  chatView: $('chat-view'),
  peopleList: $('people-list'),
  peopleEmpty: $('people-empty'),
  onlineCount: $('online-count'),
  conversationEmpty: $('conversation-empty'),
  conversationOpen: $('conversation-open'),
  peerAvatar: $('peer-avatar'),
  conversationTitle: $('conversation-title'),
  peerPresence: $('peer-presence'),
  messages: $('messages'),
  composer: $('composer'),
  input: $('message-input'),
  send: $('send'),
  charCount: $('char-count'),
};

// ---------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------

/** @type {{accessToken: string, refreshToken: string, expiresAt: number, lifetimeMs: number, user: {id: string, username: string, avatarUrl: string}} | null} */
let session = null;
let epoch = 0; // bumped at every sign-in and sign-out: async work of an older session checks it and stops
let refreshInFlight = null; // refresh tokens are single-use: at most one refresh at a time
let connection = null;
let restartTimer = 0;
let restartAttempts = 0;
let renewTimer = 0;
let connectionExpiresAt = 0; // when the access token that the current connection was opened with expires
let pollTimer = 0;
let pollRunning = false;
let sending = false;

const users = new Map(); // id -> {id, username, avatarUrl}, everyone this window has seen
const online = new Set(); // ids of the users online now, not counting me
const conversations = new Map(); // peer id -> {messages: [{id, direction, text, sentAt}], unread, draft}
const peopleItems = new Map(); // peer id -> <li>
const pendingProfiles = new Set();
let activePeerId = null;

class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** The session is over (logged out, or the refresh token no longer works). */
class SessionEndedError extends Error {
  constructor() {
    super('You are signed out.');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP API and tokens
// ---------------------------------------------------------------------------------------------------------------

async function toApiError(response) {
  let problem = {};
  try {
    if ((response.headers.get('Content-Type') || '').includes('json')) problem = await response.json();
  } catch {
    // not JSON after all: keep the status alone
  }
  const retryAfter = Number(response.headers.get('Retry-After')) || null;
  return new ApiError(response.status, problem, retryAfter);
}

const unreachable = () => new ApiError(0, {
  title: 'The server cannot be reached.',
  detail: 'Check your connection and try again.',
});

async function postJson(path, body) {
  try {
    return await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw unreachable();
  }
}

/** Calls the API; with auth, sends the access token, and on 401 refreshes once and tries again. */
async function api(path, { method = 'GET', body, auth = true } = {}) {
  const attempt = async () => {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = auth ? await getAccessToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { response, token };
    } catch {
      throw unreachable();
    }
  };

  let { response, token } = await attempt();
  if (auth && response.status === 401) {
    await refreshSession(token);
    ({ response } = await attempt());
    if (response.status === 401) {
      endSession('Your session has ended. Please log in again.');
      throw new SessionEndedError();
    }
  }
  if (!response.ok) throw await toApiError(response);
  return response.status === 204 ? null : response.json();
}

function storeSession(tokens) {
  const lifetimeMs = Math.max(1, Number(tokens.expiresIn) || 0) * 1000;
  session = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: Date.now() + lifetimeMs,
    lifetimeMs,
    user: tokens.user,
  };
  users.set(session.user.id, session.user);
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  } catch {
    // storage full or disabled: this window stays signed in until it is closed or reloaded
  }
}

function loadStoredSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (stored && stored.accessToken && stored.refreshToken && stored.user && stored.user.id) return stored;
  } catch {
    // unreadable: start signed out
  }
  return null;
}

function tokenIsFresh() {
  // With very short-lived tokens (a test setup), keep a quarter of the lifetime instead of a full minute.
  const margin = Math.min(REFRESH_MARGIN_MS, session.lifetimeMs / 4);
  return session.expiresAt - Date.now() > margin;
}

/** A valid access token, refreshed first when it expires within a minute. SignalR's accessTokenFactory. */
async function getAccessToken() {
  if (!session) throw new SessionEndedError();
  if (!tokenIsFresh()) await refreshSession();
  if (!session) throw new SessionEndedError();
  return session.accessToken;
}

/**
 * Exchanges the refresh token for new tokens. Only one refresh runs at a time (a refresh token works once:
 * presenting it twice would revoke the session); callers that come while one runs share its result. With
 * `staleToken`, the refresh is skipped when the session already moved past that access token.
 */
function refreshSession(staleToken) {
  if (refreshInFlight) return refreshInFlight;
  if (!session) return Promise.reject(new SessionEndedError());
  if (staleToken && session.accessToken !== staleToken && tokenIsFresh()) return Promise.resolve();

  const myEpoch = epoch;
  const refreshToken = session.refreshToken;
  refreshInFlight = (async () => {
    const response = await postJson('/api/auth/refresh', { refreshToken });
    if (myEpoch !== epoch) throw new SessionEndedError();
    if (response.status === 401) {
      endSession('Your session has ended. Please log in again.');
      throw new SessionEndedError();
    }
    if (!response.ok) throw await toApiError(response);
    const tokens = await response.json();
    if (myEpoch !== epoch) throw new SessionEndedError();
    storeSession(tokens);
  })().finally(() => {
    refreshInFlight = null;
  });
  return refreshInFlight;
}

// ---------------------------------------------------------------------------------------------------------------
// Banner, status, announcements
// ---------------------------------------------------------------------------------------------------------------

/** Shows a message in the banner; `scope` lets a later success clear only its own kind of error. */
function showBanner(text, { kind = 'error', scope = '' } = {}) {
  ui.bannerText.textContent = text;
  ui.banner.dataset.kind = kind;
  ui.banner.dataset.scope = scope;
  ui.banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  ui.banner.hidden = false;
}

function hideBanner(scope) {
  if (scope === undefined || ui.banner.dataset.scope === scope) {
    ui.banner.hidden = true;
    ui.bannerText.textContent = '';
  }
}

/** The text to show for an API error. */
function describe(error) {
  if (error instanceof ApiError) {
    const { title, detail } = error.problem;
    if (error.status === 429) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ' Try again shortly.';
      return `Too many attempts from this address.${wait}`;
    }
    if (title && detail) return `${title} ${detail}`;
    return title || detail || error.message;
  }
  return error && error.message ? error.message : String(error);
}

/** A hub error's own text, without SignalR's "An unexpected error occurred invoking 'SendRaw'..." prefix. */
function hubErrorText(error) {
  const raw = error && error.message ? error.message : String(error || 'The connection was lost.');
  const match = /HubException: ([\s\S]*)$/.exec(raw);
  if (match) return match[1].trim();
  if (/not in the 'Connected' State/i.test(raw)) return 'Not connected to the server right now.';
  return raw;
}

const STATUS_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
  offline: 'Offline',
};

function setStatus(state) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = STATUS_TEXT[state];
  ui.status.title = STATUS_TEXT[state];
  ui.reconnect.hidden = state !== 'disconnected';
  updateSendButton();
}

function announce(text) {
  // Cleared first so that the same text twice is read twice.
  ui.announcer.textContent = '';
  window.setTimeout(() => {
    ui.announcer.textContent = text;
  }, 50);
}

// ---------------------------------------------------------------------------------------------------------------
// Sign up, log in, log out
// ---------------------------------------------------------------------------------------------------------------

function selectTab(which) {
  const login = which === 'login';
  ui.tabLogin.setAttribute('aria-selected', String(login));
  ui.tabSignup.setAttribute('aria-selected', String(!login));
  ui.tabLogin.tabIndex = login ? 0 : -1;
  ui.tabSignup.tabIndex = login ? -1 : 0;
  ui.loginForm.hidden = !login;
  ui.signupForm.hidden = login;
}

function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
}

/** Puts each `errors` entry of a validation problem under its field; returns whether any field matched. */
function showFieldErrors(form, prefix, errors) {
  let first = null;
  for (const [field, messages] of Object.entries(errors || {})) {
    const input = form.querySelector(`#${prefix}-${CSS.escape(field)}`);
    const slot = form.querySelector(`#${prefix}-${CSS.escape(field)}-error`);
    if (!input || !slot) continue;
    input.setAttribute('aria-invalid', 'true');
    slot.textContent = [].concat(messages).join(' ');
    first ??= input;
  }
  first?.focus();
  return first !== null;
}

function showFormError(form, prefix, error) {
  if (error instanceof ApiError && error.status === 400 && error.problem.errors) {
    const matched = showFieldErrors(form, prefix, error.problem.errors);
    const extra = matched ? '' : ` ${Object.values(error.problem.errors).flat().join(' ')}`;
    showBanner(`Please correct the highlighted fields.${extra}`, { scope: 'auth' });
    return;
  }
  if (error instanceof ApiError && error.status === 409) {
    const field = error.problem.field || (/email/i.test(error.problem.title || '') ? 'email' : 'username');
    showFieldErrors(form, prefix, { [field]: [error.problem.title || 'Already taken.'] });
  }
  showBanner(describe(error), { scope: 'auth' });
}

async function withBusy(form, work) {
  const button = form.querySelector('button[type="submit"]');
  if (button.disabled) return;
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

async function onLogin(event) {
  event.preventDefault();
  const form = ui.loginForm;
  clearFieldErrors(form);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!username) missing.username = ['Enter your username or email.'];
  if (!password) missing.password = ['Enter your password.'];
  if (showFieldErrors(form, 'login', missing)) return;

  await withBusy(form, async () => {
    try {
      const tokens = await api('/api/auth/login', { method: 'POST', body: { username, password }, auth: false });
      form.reset();
      signIn(tokens);
    } catch (error) {
      showFormError(form, 'login', error);
    }
  });
}

async function onSignup(event) {
  event.preventDefault();
  const form = ui.signupForm;
  clearFieldErrors(form);
  const username = form.elements.username.value.trim();
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;

  await withBusy(form, async () => {
    try {
      await api('/api/auth/signup', { method: 'POST', body: { username, email, password }, auth: false });
    } catch (error) {
      showFormError(form, 'signup', error);
      return;
    }
    try {
      const tokens = await api('/api/auth/login', { method: 'POST', body: { username, password }, auth: false });
      form.reset();
      signIn(tokens);
    } catch (error) {
      // The account exists: send the person to the login form with their username filled in.
      form.reset();
      selectTab('login');
      ui.loginForm.elements.username.value = username;
      ui.loginForm.elements.password.focus();
      showBanner(`Your account was created, but logging in failed: ${describe(error)}`, { scope: 'auth' });
    }
  });
}

function signIn(tokens) {
  epoch++;
  storeSession(tokens);
  hideBanner();
  enterChat();
  ui.main.focus();
}

/** Ends this window's session locally (the caller revokes the refresh token when it should). */
function endSession(message) {
  epoch++;
  const closing = connection;
  connection = null;
  if (closing) closing.stop().catch(() => {});
  window.clearTimeout(restartTimer);
  window.clearTimeout(renewTimer);
  window.clearTimeout(pollTimer);
  pollRunning = false;
  restartAttempts = 0;
  session = null;
  refreshInFlight = null;
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
  users.clear();
  online.clear();
  conversations.clear();
  peopleItems.clear();
  pendingProfiles.clear();
  activePeerId = null;
  ui.peopleList.replaceChildren();
  ui.messages.replaceChildren();
  ui.input.value = '';
  updateCharCount();
  document.title = 'Chat';
  showAuth();
  if (message) showBanner(message, { kind: 'info', scope: 'session' });
}

async function onLogout() {
  if (!session) return;
  if (refreshInFlight) await refreshInFlight.catch(() => {});
  const refreshToken = session?.refreshToken;
  endSession();
  ui.loginForm.elements.username.focus();
  if (refreshToken) {
    // The refresh token is the credential; a failure here only leaves a token that expires on its own.
    postJson('/api/auth/logout', { refreshToken }).catch(() => {});
  }
}

function showAuth() {
  ui.loadingView.hidden = true;
  ui.chatView.hidden = true;
  ui.me.hidden = true;
  ui.status.hidden = true;
  ui.authView.hidden = false;
  selectTab('login');
  setStatus('offline');
}

// ---------------------------------------------------------------------------------------------------------------
// The hub connection
// ---------------------------------------------------------------------------------------------------------------

function createConnection() {
  const hub = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/chat', { accessTokenFactory: getAccessToken }) // ?access_token= on WebSockets
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: (context) =>
        jitter(RECONNECT_DELAYS_MS[Math.min(context.previousRetryCount, RECONNECT_DELAYS_MS.length - 1)]),
    })
    .configureLogging(signalR.LogLevel.Warning)
    .build();

  hub.on('ReceiveMessage', onReceiveMessage);
  hub.onreconnecting(() => {
    if (hub === connection) setStatus('reconnecting');
  });
  hub.onreconnected(() => {
    if (hub !== connection) return;
    setStatus('connected');
    hideBanner('connection');
    scheduleRenewal();
    pollNow();
  });
  // Closed for good: the server ended it (the access token expired), or automatic reconnection gave up.
  hub.onclose((error) => {
    if (hub !== connection || !session) return; // signed out, or replaced
    const text = error ? hubErrorText(error) : '';
    if (/too many connections/i.test(text)) {
      setStatus('disconnected');
      showBanner(text, { scope: 'connection' });
      return;
    }
    scheduleRestart();
  });
  return hub;
}

async function startConnection() {
  window.clearTimeout(restartTimer);
  const hub = connection;
  if (!hub || !session || hub.state !== signalR.HubConnectionState.Disconnected) return;
  setStatus(restartAttempts > 0 ? 'reconnecting' : 'connecting');
  const tokenUsed = session.accessToken;
  try {
    await hub.start();
    if (hub !== connection) return;
    restartAttempts = 0;
    setStatus('connected');
    hideBanner('connection');
    scheduleRenewal();
    pollNow();
  } catch (error) {
    if (hub !== connection || !session || error instanceof SessionEndedError) return;
    const text = hubErrorText(error);
    if (/too many connections/i.test(text)) {
      setStatus('disconnected');
      showBanner(text, { scope: 'connection' });
      return;
    }
    if (error && error.statusCode === 401) {
      // The server refused this access token (e.g. its signing key changed): get a new one before retrying.
      try {
        await refreshSession(tokenUsed);
      } catch {
        if (!session) return;
      }
    }
    scheduleRestart();
  }
}

function scheduleRestart() {
  window.clearTimeout(restartTimer);
  const delay = jitter(RESTART_DELAYS_MS[Math.min(restartAttempts, RESTART_DELAYS_MS.length - 1)]);
  restartAttempts++;
  setStatus('reconnecting');
  restartTimer = window.setTimeout(startConnection, delay);
}

/**
 * The server closes a connection when the access token it was opened with expires. Shortly before that, open the
 * next connection (with a fresh token) and only then close the old one, so that no message arrives while this
 * window has no connection: the server keeps no messages. Messages that reach both are shown once (by id).
 */
function scheduleRenewal() {
  window.clearTimeout(renewTimer);
  if (!session) return;
  connectionExpiresAt = session.expiresAt;
  const lead = Math.min(30_000, session.lifetimeMs / 6);
  renewTimer = window.setTimeout(renewConnection, Math.max(1000, connectionExpiresAt - Date.now() - lead));
}

async function renewConnection() {
  const old = connection;
  if (!session || !old || old.state !== signalR.HubConnectionState.Connected) return; // startConnection's job
  const myEpoch = epoch;
  const next = createConnection();
  try {
    await next.start();
  } catch {
    // The old connection works until its token expires; after that, onclose starts again.
    if (myEpoch === epoch && connection === old && connectionExpiresAt - Date.now() > 5000) {
      renewTimer = window.setTimeout(renewConnection, 3000);
    }
    return;
  }
  if (myEpoch !== epoch || connection !== old) {
    next.stop().catch(() => {});
    return;
  }
  connection = next;
  window.clearTimeout(restartTimer);
  restartAttempts = 0;
  setStatus('connected');
  scheduleRenewal();
  old.stop().catch(() => {});
}

function reconnectNow() {
  restartAttempts = 0;
  hideBanner('connection');
  startConnection();
}

function isConnected() {
  return connection !== null && connection.state === signalR.HubConnectionState.Connected;
}

// ---------------------------------------------------------------------------------------------------------------
// Who is online
// ---------------------------------------------------------------------------------------------------------------

function pollNow() {
  if (pollRunning || !session) return;
  window.clearTimeout(pollTimer);
  pollOnline();
}

async function pollOnline() {
  const myEpoch = epoch;
  pollRunning = true;
  try {
    const list = await api('/api/users/online');
    if (myEpoch !== epoch) return;
    online.clear();
    for (const user of list) {
      if (user.id === session.user.id) continue;
      users.set(user.id, user);
      online.add(user.id);
    }
    renderPeople();
    if (activePeerId) renderConversationHeader();
  } catch {
    // Keep the last list: the connection status tells when the server is unreachable.
  } finally {
    if (myEpoch === epoch) {
      pollRunning = false;
      if (session) pollTimer = window.setTimeout(pollOnline, POLL_INTERVAL_MS);
    }
  }
}

function userFor(id) {
  return users.get(id) || { id, username: '', avatarUrl: '' };
}

function displayName(user) {
  return user.username || 'Unknown user';
}

/** Fetches the profile of someone this window has not seen yet (a message from a user not in the list). */
async function loadProfile(id) {
  if (users.has(id) || pendingProfiles.has(id)) return;
  pendingProfiles.add(id);
  const myEpoch = epoch;
  try {
    const user = await api(`/api/users/${encodeURIComponent(id)}`);
    if (myEpoch !== epoch) return;
    users.set(user.id, user);
    renderPeople();
    if (activePeerId === id) renderConversationHeader();
  } catch {
    // shown as "Unknown user" until the online list names them
  } finally {
    pendingProfiles.delete(id);
  }
}

function hashHue(text) {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** Fills an avatar element: the picture, over the user's initial (shown when the picture cannot load). */
function renderAvatar(span, user) {
  span.dataset.initial = (user.username || '?').charAt(0);
  span.style.setProperty('--avatar-bg', `hsl(${hashHue(user.id || '?')} 42% 52%)`);
  let img = span.querySelector('img');
  const url = /^https?:\/\//i.test(user.avatarUrl || '') ? user.avatarUrl : '';
  if (!url) {
    img?.remove();
    return;
  }
  if (!img) {
    img = document.createElement('img');
    img.alt = '';
    img.decoding = 'async';
    img.referrerPolicy = 'no-referrer';
    img.setAttribute('data-testid', 'avatar');
    img.addEventListener('error', () => img.classList.add('failed'));
    img.addEventListener('load', () => img.classList.remove('failed'));
    span.append(img);
  }
  if (img.getAttribute('src') !== url) {
    img.classList.remove('failed');
    img.src = url;
  }
}

function createPersonItem(id) {
  const li = document.createElement('li');
  li.setAttribute('data-testid', 'user-item');
  li.dataset.userId = id;

  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'person';
  button.setAttribute('data-testid', 'user-button');
  button.addEventListener('click', () => openConversation(id, { focusInput: true }));

  const wrap = document.createElement('span');
  wrap.className = 'avatar-wrap';
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  const dot = document.createElement('span');
  dot.className = 'online-dot';
  dot.setAttribute('aria-hidden', 'true');
  wrap.append(avatar, dot);

  const name = document.createElement('span');
  name.className = 'person-name';
  const nameText = document.createElement('span');
  nameText.className = 'person-name-text';
  nameText.setAttribute('data-testid', 'user-name');
  const presence = document.createElement('span');
  presence.className = 'person-presence';
  name.append(nameText, presence);

  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.setAttribute('data-testid', 'unread-badge');
  badge.hidden = true;
  const badgeCount = document.createElement('span');
  const badgeLabel = document.createElement('span');
  badgeLabel.className = 'visually-hidden';
  badgeLabel.textContent = ' unread';
  badge.append(badgeCount, badgeLabel);

  button.append(wrap, name, badge);
  li.append(button);
  li._parts = { button, avatar, nameText, presence, badge, badgeCount };
  return li;
}

function renderPeople() {
  if (!session) return;
  const ids = new Set([...online, ...conversations.keys()]);
  ids.delete(session.user.id);
  const sorted = [...ids].sort((a, b) => {
    const byName = displayName(userFor(a)).localeCompare(displayName(userFor(b)), undefined, { sensitivity: 'base' });
    return byName || (a < b ? -1 : a > b ? 1 : 0);
  });

  for (const [id, li] of peopleItems) {
    if (!ids.has(id)) {
      li.remove();
      peopleItems.delete(id);
    }
  }

  sorted.forEach((id, index) => {
    let li = peopleItems.get(id);
    if (!li) {
      li = createPersonItem(id);
      peopleItems.set(id, li);
    }
    const user = userFor(id);
    const isOnline = online.has(id);
    const unread = conversations.get(id)?.unread || 0;
    const parts = li._parts;
    li.dataset.username = user.username || '';
    li.dataset.online = String(isOnline);
    parts.nameText.textContent = displayName(user);
    parts.presence.textContent = isOnline ? 'online' : 'offline';
    parts.badge.hidden = unread === 0;
    parts.badgeCount.textContent = unread > 99 ? '99+' : String(unread);
    if (id === activePeerId) parts.button.setAttribute('aria-current', 'true');
    else parts.button.removeAttribute('aria-current');
    renderAvatar(parts.avatar, user);
    // Move only what is out of place, so that the focused button stays where it is.
    if (ui.peopleList.children[index] !== li) ui.peopleList.insertBefore(li, ui.peopleList.children[index] || null);
  });

  ui.onlineCount.textContent = online.size ? `(${online.size})` : '';
  ui.peopleEmpty.hidden = sorted.length > 0;
}

function onPeopleKeydown(event) {
  const buttons = [...ui.peopleList.querySelectorAll('button.person')];
  const index = buttons.indexOf(document.activeElement);
  if (index < 0) return;
  let next = null;
  if (event.key === 'ArrowDown') next = buttons[Math.min(index + 1, buttons.length - 1)];
  else if (event.key === 'ArrowUp') next = buttons[Math.max(index - 1, 0)];
  else if (event.key === 'Home') next = buttons[0];
  else if (event.key === 'End') next = buttons[buttons.length - 1];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------------------------

function ensureConversation(peerId) {
  let conversation = conversations.get(peerId);
  if (!conversation) {
    conversation = { messages: [], unread: 0, draft: '' };
    conversations.set(peerId, conversation);
    loadProfile(peerId);
  }
  return conversation;
}

function openConversation(peerId, { focusInput = false } = {}) {
  if (activePeerId && activePeerId !== peerId) {
    const previous = conversations.get(activePeerId);
    if (previous) previous.draft = ui.input.value;
  }
  const conversation = ensureConversation(peerId);
  const switched = activePeerId !== peerId;
  activePeerId = peerId;
  conversation.unread = 0;

  ui.conversationEmpty.hidden = true;
  ui.conversationOpen.hidden = false;
  renderConversationHeader();
  if (switched) {
    ui.messages.replaceChildren(...conversation.messages.map(messageElement));
    ui.input.value = conversation.draft;
    autosize();
    updateCharCount();
    scrollToEnd();
  }
  renderPeople();
  updateTitle();
  if (focusInput) ui.input.focus();
}

function renderConversationHeader() {
  if (!activePeerId) return;
  const peer = userFor(activePeerId);
  const isOnline = online.has(activePeerId);
  ui.conversationTitle.textContent = displayName(peer);
  ui.peerPresence.textContent = isOnline ? 'Online' : 'Offline: messages reach them only while they are online';
  ui.peerPresence.dataset.online = String(isOnline);
  renderAvatar(ui.peerAvatar, peer);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function messageElement(message) {
  const li = document.createElement('li');
  li.className = 'message';
  li.setAttribute('data-testid', 'message');
  li.dataset.direction = message.direction;
  li.dataset.messageId = message.id;

  const who = document.createElement('span');
  who.className = 'visually-hidden';
  who.textContent = message.direction === 'out' ? 'You: ' : `${displayName(userFor(activePeerId))}: `;

  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.setAttribute('data-testid', 'message-text');
  bubble.textContent = message.text;

  const time = document.createElement('time');
  const sentAt = new Date(message.sentAt);
  if (!Number.isNaN(sentAt.getTime())) {
    time.dateTime = sentAt.toISOString();
    time.textContent = timeFormat.format(sentAt);
    time.title = fullTimeFormat.format(sentAt);
  }

  li.append(who, bubble, time);
  return li;
}

function nearEnd() {
  const list = ui.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollToEnd() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function appendToActive(message, { forceScroll = false } = {}) {
  const stick = forceScroll || nearEnd();
  ui.messages.append(messageElement(message));
  if (stick) scrollToEnd();
}

function onReceiveMessage(m) {
  if (!session || !m || typeof m.text !== 'string') return;
  const me = session.user.id;
  const direction = m.senderId === me ? 'out' : 'in';
  const peerId = direction === 'out' ? m.receiverId : m.senderId;
  const conversation = ensureConversation(peerId);
  if (conversation.messages.some((x) => x.id === m.id)) return; // a note to self also comes back as a receipt
  const message = { id: m.id, direction, text: m.text, sentAt: m.sentAt };
  conversation.messages.push(message);

  const isActive = peerId === activePeerId;
  if (isActive) appendToActive(message);
  if (direction === 'in' && (!isActive || document.hidden)) conversation.unread++;
  renderPeople();
  updateTitle();
  if (direction === 'in') {
    const preview = m.text.length > 140 ? `${m.text.slice(0, 140)}…` : m.text;
    announce(`New message from ${displayName(userFor(peerId))}: ${preview}`);
  }
}

function updateTitle() {
  let unread = 0;
  for (const conversation of conversations.values()) unread += conversation.unread;
  document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
}

// ---------------------------------------------------------------------------------------------------------------
// Composer
// ---------------------------------------------------------------------------------------------------------------

function updateCharCount() {
  const length = ui.input.value.length;
  ui.charCount.textContent = `${length} / ${MAX_MESSAGE_LENGTH}`;
  ui.charCount.dataset.over = String(length > MAX_MESSAGE_LENGTH);
  ui.input.setAttribute('aria-invalid', String(length > MAX_MESSAGE_LENGTH));
  updateSendButton();
}

function updateSendButton() {
  ui.send.disabled = sending;
}

function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 160)}px`;
}

async function sendMessage() {
  if (sending || !activePeerId || !session) return;
  const peerId = activePeerId;
  const text = ui.input.value;
  if (!text.trim()) {
    ui.input.focus();
    return;
  }
  if (text.length > MAX_MESSAGE_LENGTH) {
    showBanner(`Not sent: the message is ${text.length} characters long; the limit is ${MAX_MESSAGE_LENGTH}.`, { scope: 'send' });
    return;
  }
  if (!isConnected()) {
    showBanner('Not sent: not connected to the server. Your message is still in the box; send it again once the status says Connected.', { scope: 'send' });
    return;
  }

  sending = true;
  updateSendButton();
  const myEpoch = epoch;
  try {
    // receiverId:text: the server splits at the first ':', so the text may hold more colons.
    const receipt = await connection.invoke('SendRaw', `${peerId}:${text}`);
    if (myEpoch !== epoch) return;
    const conversation = ensureConversation(peerId);
    const message = { id: receipt.id, direction: 'out', text, sentAt: receipt.sentAt };
    if (!conversation.messages.some((x) => x.id === message.id)) {
      conversation.messages.push(message);
      if (activePeerId === peerId) appendToActive(message, { forceScroll: true });
    }
    if (activePeerId === peerId) {
      if (ui.input.value === text) ui.input.value = '';
    } else {
      conversation.draft = '';
    }
    autosize();
    updateCharCount();
    hideBanner('send');
  } catch (error) {
    if (myEpoch === epoch) showBanner(`Not sent: ${hubErrorText(error)}`, { scope: 'send' });
  } finally {
    sending = false;
    updateSendButton();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------------------------------

function enterChat() {
  ui.loadingView.hidden = true;
  ui.authView.hidden = true;
  ui.chatView.hidden = false;
  ui.me.hidden = false;
  ui.status.hidden = false;
  ui.meName.textContent = session.user.username;
  renderAvatar(ui.meAvatar, session.user);
  ui.conversationEmpty.hidden = false;
  ui.conversationOpen.hidden = true;
  renderPeople();

  connection = createConnection();
  restartAttempts = 0;
  startConnection();
  pollNow();
}

function wireEvents() {
  ui.loginForm.addEventListener('submit', onLogin);
  ui.signupForm.addEventListener('submit', onSignup);
  ui.tabLogin.addEventListener('click', () => selectTab('login'));
  ui.tabSignup.addEventListener('click', () => selectTab('signup'));
  for (const tab of [ui.tabLogin, ui.tabSignup]) {
    tab.addEventListener('keydown', (event) => {
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
      event.preventDefault();
      const other = tab === ui.tabLogin ? ui.tabSignup : ui.tabLogin;
      const target = event.key === 'Home' ? ui.tabLogin : event.key === 'End' ? ui.tabSignup : other;
      selectTab(target === ui.tabLogin ? 'login' : 'signup');
      target.focus();
    });
  }

  ui.logout.addEventListener('click', onLogout);
  ui.reconnect.addEventListener('click', reconnectNow);
  ui.bannerClose.addEventListener('click', () => hideBanner());
  ui.banner.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hideBanner();
  });

  ui.peopleList.addEventListener('keydown', onPeopleKeydown);

  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendMessage();
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage();
    }
  });
  ui.input.addEventListener('input', () => {
    autosize();
    updateCharCount();
  });

  document.addEventListener('visibilitychange', () => {
    if (document.hidden || !activePeerId) return;
    const conversation = conversations.get(activePeerId);
    if (conversation && conversation.unread) {
      conversation.unread = 0;
      renderPeople();
      updateTitle();
    }
  });
  // Back online: retry now instead of waiting out the backoff.
  window.addEventListener('online', () => {
    if (session && connection && connection.state === signalR.HubConnectionState.Disconnected) reconnectNow();
  });
}

function main() {
  wireEvents();
  updateCharCount();
  if (typeof window.signalR === 'undefined') {
    showAuth();
    showBanner('The SignalR client (/lib/signalr/signalr.min.js) did not load: build the server with npm available, or reload.');
    return;
  }
  session = loadStoredSession();
  if (session) {
    users.set(session.user.id, session.user);
    epoch++;
    enterChat();
  } else {
    showAuth();
  }
}

main();
