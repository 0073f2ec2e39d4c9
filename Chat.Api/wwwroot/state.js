// Everything the client remembers while the page is open, in one object, grouped by the module that keeps each
// part up to date (the others read it). The few parts that outlive a reload (the sync cursor, unsent messages)
// are kept in sessionStorage, beside the session, through saveForUser/loadForUser.

export const state = {
  /** Bumped at every sign-in and sign-out: async work started for an older session checks it and stops. */
  epoch: 0,

  // session.js
  /** @type {{accessToken: string, refreshToken: string, expiresAt: number, lifetimeMs: number, user: {id: string, username: string, avatarUrl: string}} | null} */
  session: null,
  /** The refresh that is running: refresh tokens are single-use, so at most one at a time. */
  refreshInFlight: null,

  // hub.js
  hub: {
    connection: null,
    restartTimer: 0,
    restartAttempts: 0,
    renewTimer: 0,
    expiresAt: 0, // when the access token that the current connection was opened with expires
  },

  // people.js
  users: new Map(), // id -> {id, username, avatarUrl}, everyone this window has seen
  /**
   * id -> {online, lastSeenAt, at}: what this window knows of a user's presence, from the conversation list, a
   * profile (GET /api/users/{id}) or the hub's UserOnline / UserOffline. `at` is when it was learned (Date.now()
   * when an event came, the request's start for an answer): an answer never overwrites a newer event.
   * @type {Map<string, {online: boolean, lastSeenAt: string | null, at: number}>}
   */
  presence: new Map(),
  pendingProfiles: new Set(), // ids whose profile is being fetched
  /**
   * id -> a departure read over HTTP, read again after the grace period (people.js)
   * @type {Map<string, {lastSeenAt: string, timer: number}>}
   */
  presenceRechecks: new Map(),
  presenceClock: 0, // re-renders "last seen …" now and then

  // typing.js
  typing: {
    /** @type {Map<string, number>} peer id -> the timer that ends their "typing…" */
    peers: new Map(),
    sentTo: null, // the peer of the last Typing call this window made
    sentAt: 0, // and when
  },

  // blocking.js
  blocked: new Set(), // ids of the users I block
  blocking: new Set(), // ids whose block or unblock request runs
  blockList: { loading: false, version: 0 }, // version: bumped by every block or unblock made here

  // messages.js: the conversations and the messages in them
  /** @type {Map<string, Conversation>} peer id -> conversation */
  conversations: new Map(),
  /** Peer ids of the conversations that hold a stored message, the most recent first (the server's order). */
  order: [],
  /** Ids of the messages already counted into the conversations (last message, unread), live or synced. */
  seen: new Set(),
  /** Whether the server may list more conversations than `order` holds (older ones). */
  moreConversations: false,
  loadingMoreConversations: false,

  // outbox.js: messages sent but not yet acknowledged, oldest first
  /** @type {{clientMessageId: string, peerId: string, text: string, createdAt: string, inFlight: boolean}[]} */
  outbox: [],

  // sync.js
  sync: newSyncState(),

  // search.js
  search: { timer: 0, seq: 0, query: '', results: null, busy: false, error: '' },

  // sidebar.js
  conversationItems: new Map(), // peer id -> its <li> in the conversation list

  // conversation.js
  activePeerId: null,
};

/**
 * @typedef {{id: string, senderId: string, receiverId: string, text: string, sentAt: string, clientMessageId: string | null}} Message
 * @typedef {{
 *   peerId: string,
 *   lastMessage: Message | null,   // the newest stored message known
 *   unread: number,                // messages from the peer after my read marker
 *   readUpTo: string | null,       // my read marker (a message id)
 *   peerReadUpTo: string | null,   // the peer's read marker: my messages up to it are read
 *   history: {messages: Message[], hasOlder: boolean, loadingOlder: boolean} | null, // loaded, stored order
 *   historyLoading: boolean,
 *   historyError: string,
 *   arrivedWhileLoading: Message[],
 *   readPending: boolean,          // opened with unread messages: mark read once the history shows
 *   markingUpTo: string | null,    // the MarkRead call in flight
 *   draft: string,
 * }} Conversation
 */

function newSyncState() {
  return {
    cursor: null, // hands back to /api/sync as `after`
    lastId: null, // the id of the last message the cursor covers
    ready: false, // the conversations are loaded and synced once: live events apply directly
    running: false,
    again: false,
    retryTimer: 0,
    retries: 0,
    held: [], // live events that came before `ready`
  };
}

/** Forgets everything about the signed-in user (signing out). */
export function clearUserData() {
  window.clearTimeout(state.sync.retryTimer);
  window.clearTimeout(state.search.timer);
  state.users.clear();
  state.presence.clear();
  state.pendingProfiles.clear();
  for (const { timer } of state.presenceRechecks.values()) window.clearTimeout(timer);
  state.presenceRechecks.clear();
  window.clearInterval(state.presenceClock);
  state.presenceClock = 0;
  for (const timer of state.typing.peers.values()) window.clearTimeout(timer);
  state.typing = { peers: new Map(), sentTo: null, sentAt: 0 };
  state.blocked = new Set();
  state.blocking.clear();
  state.blockList = { loading: false, version: 0 };
  state.conversations.clear();
  state.order = [];
  state.seen.clear();
  state.moreConversations = false;
  state.loadingMoreConversations = false;
  state.outbox = [];
  state.sync = newSyncState();
  state.search = { timer: 0, seq: state.search.seq + 1, query: '', results: null, busy: false, error: '' };
  state.conversationItems.clear();
  state.activePeerId = null;
  for (const key of STORED_KEYS) removeStored(key);
}

// ---------------------------------------------------------------------------------------------------------------
// Per-window storage of state that should survive a reload (sessionStorage, like the session itself).
// ---------------------------------------------------------------------------------------------------------------

export const SYNC_KEY = 'chat.sync';
export const OUTBOX_KEY = 'chat.outbox';
const STORED_KEYS = [SYNC_KEY, OUTBOX_KEY];

/** Stores `value` for the signed-in user. */
export function saveForUser(key, value) {
  if (!state.session) return;
  try {
    sessionStorage.setItem(key, JSON.stringify({ userId: state.session.user.id, value }));
  } catch {
    // storage full or disabled: kept in memory only
  }
}

/** What saveForUser stored for the signed-in user, or null (nothing, or another user's). */
export function loadForUser(key) {
  if (!state.session) return null;
  try {
    const stored = JSON.parse(sessionStorage.getItem(key) || 'null');
    return stored && stored.userId === state.session.user.id ? stored.value : null;
  } catch {
    return null;
  }
}

function removeStored(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // nothing stored
  }
}
