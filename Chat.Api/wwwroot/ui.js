// The page's elements and the DOM helpers that several modules share: banner, connection status, announcements,
// avatars, times, which view shows, and the render pass that brings the page up to date with state.js.

const $ = (id) => document.getElementById(id);

export const dom = {
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
  searchInput: $('search-input'),
  searchStatus: $('search-status'),
  searchResults: $('search-results'),
  conversationList: $('conversation-list'),
  conversationsEmpty: $('conversations-empty'),
  moreConversations: $('more-conversations'),
  conversationEmpty: $('conversation-empty'),
  conversationOpen: $('conversation-open'),
  peerAvatar: $('peer-avatar'),
  conversationTitle: $('conversation-title'),
  peerPresence: $('peer-presence'),
  blockToggle: $('block-toggle'),
  messageScroller: $('message-scroller'),
  loadOlder: $('load-older'),
  historyStatus: $('history-status'),
  historyRetry: $('history-retry'),
  messages: $('messages'),
  typing: $('typing'),
  composer: $('composer'),
  input: $('message-input'),
  send: $('send'),
  composerHint: $('composer-hint'),
  composerBlocked: $('composer-blocked'),
  charCount: $('char-count'),
};

// ---------------------------------------------------------------------------------------------------------------
// Rendering: modules change state.js and call invalidate(); the renderers (registered by app.js) then run once,
// in a microtask, however many changes came together. Not requestAnimationFrame: it stops in a hidden tab, and the
// title's unread count must stay current there.
// ---------------------------------------------------------------------------------------------------------------

const renderers = [];
let renderQueued = false;

export function onRender(renderer) {
  renderers.push(renderer);
}

/** Something in state.js changed: re-render the page (once, soon). */
export function invalidate() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    for (const render of renderers) render();
  });
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dateYearFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Fills a <time> element with `iso` (a timestamp): the time of day, or the date when it is not today. */
export function renderTime(time, iso, { dateIfOlder = false } = {}) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) {
    time.removeAttribute('datetime');
    time.textContent = '';
    time.title = '';
    return;
  }
  const today = new Date().toDateString() === at.toDateString();
  time.dateTime = at.toISOString();
  time.textContent = dateIfOlder && !today ? dateFormat.format(at) : timeFormat.format(at);
  time.title = fullTimeFormat.format(at);
}

/** The date and time of `iso` in full (a tooltip), or '' when it is no timestamp. */
export function fullTime(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : fullTimeFormat.format(at);
}

/** "last seen just now", "last seen 5 min ago", "last seen 3 h ago", "last seen 2 days ago", "last seen on 5 Dec". */
export function lastSeenText(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return 'offline';
  const minutes = Math.floor((Date.now() - at.getTime()) / 60_000); // a clock behind the server's: "just now"
  if (minutes < 1) return 'last seen just now';
  if (minutes < 60) return `last seen ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `last seen ${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 7) return `last seen ${days} day${days === 1 ? '' : 's'} ago`;
  const sameYear = at.getFullYear() === new Date().getFullYear();
  return `last seen on ${(sameYear ? dateFormat : dateYearFormat).format(at)}`;
}

/** Shows a message in the banner; `scope` lets a later success clear only its own kind of error. */
export function showBanner(text, { kind = 'error', scope = '' } = {}) {
  dom.bannerText.textContent = text;
  dom.banner.dataset.kind = kind;
  dom.banner.dataset.scope = scope;
  dom.banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  dom.banner.hidden = false;
}

export function hideBanner(scope) {
  if (scope === undefined || dom.banner.dataset.scope === scope) {
    dom.banner.hidden = true;
    dom.bannerText.textContent = '';
  }
}

const STATUS_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
  offline: 'Offline',
};

export function setStatus(state) {
  dom.status.dataset.state = state;
  dom.statusText.textContent = STATUS_TEXT[state];
  dom.status.title = STATUS_TEXT[state];
  dom.reconnect.hidden = state !== 'disconnected';
}

export function announce(text) {
  // Cleared first so that the same text twice is read twice.
  dom.announcer.textContent = '';
  window.setTimeout(() => {
    dom.announcer.textContent = text;
  }, 50);
}

function hashHue(text) {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** Fills an avatar element: the picture, over the user's initial (shown when the picture cannot load). */
export function renderAvatar(span, user) {
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

export function selectTab(which) {
  const login = which === 'login';
  dom.tabLogin.setAttribute('aria-selected', String(login));
  dom.tabSignup.setAttribute('aria-selected', String(!login));
  dom.tabLogin.tabIndex = login ? 0 : -1;
  dom.tabSignup.tabIndex = login ? -1 : 0;
  dom.loginForm.hidden = !login;
  dom.signupForm.hidden = login;
}

/** Signed out: the log-in form. */
export function showAuthView() {
  dom.loadingView.hidden = true;
  dom.chatView.hidden = true;
  dom.me.hidden = true;
  dom.status.hidden = true;
  dom.authView.hidden = false;
  selectTab('login');
  setStatus('offline');
}

/** Signed in as `user`: the conversation list, and no conversation open yet. */
export function showChatView(user) {
  dom.loadingView.hidden = true;
  dom.authView.hidden = true;
  dom.chatView.hidden = false;
  dom.me.hidden = false;
  dom.status.hidden = false;
  dom.meName.textContent = user.username;
  renderAvatar(dom.meAvatar, user);
  dom.conversationEmpty.hidden = false;
  dom.conversationOpen.hidden = true;
}
