// The conversations and their messages, as state.js holds them: merging what the server tells (the conversation
// list, history pages, sync pages, live events, receipts) by message id, keeping each conversation in stored order,
// and keeping the last message, the unread count and both read markers of each conversation current.
//
// Message ids are opaque: this module never compares them, it only matches them. Order comes from the server:
// history pages and sync pages are in stored order, and the conversation list is newest first.

import { isMe, loadProfile, rememberUser } from './people.js';
import { OUTBOX_KEY, saveForUser, state } from './state.js';
import { invalidate } from './ui.js';

/** How many conversations one request of the list asks for. */
export const CONVERSATIONS_PAGE = 50;

/** @typedef {import('./state.js').Message} Message */
/** @typedef {import('./state.js').Conversation} Conversation */

export function isMessage(m) {
  return Boolean(m) && typeof m.id === 'string' && typeof m.senderId === 'string'
    && typeof m.receiverId === 'string' && typeof m.text === 'string';
}

/** The other user of a message's conversation (me, for a note to self). */
export function peerOf(message) {
  return isMe(message.senderId) ? message.receiverId : message.senderId;
}

export function isOwn(message) {
  return isMe(message.senderId);
}

/** The conversation with `peerId`, created (empty) when there is none yet. */
export function conversationWith(peerId) {
  let conversation = state.conversations.get(peerId);
  if (!conversation) {
    conversation = {
      peerId,
      lastMessage: null,
      unread: 0,
      readUpTo: null,
      peerReadUpTo: null,
      history: null,
      historyLoading: false,
      historyError: '',
      arrivedWhileLoading: [],
      readPending: false,
      markingUpTo: null,
      draft: '',
    };
    state.conversations.set(peerId, conversation);
    loadProfile(peerId);
  }
  return conversation;
}

function moveToFront(peerId) {
  const at = state.order.indexOf(peerId);
  if (at === 0) return;
  if (at > 0) state.order.splice(at, 1);
  state.order.unshift(peerId);
}

// ---------------------------------------------------------------------------------------------------------------
// The conversation list (GET /api/conversations)
// ---------------------------------------------------------------------------------------------------------------

function takeSummary(conversation, item) {
  conversation.lastMessage = item.lastMessage;
  conversation.unread = Number(item.unreadCount) || 0;
  conversation.readUpTo = item.readUpTo ?? null;
  conversation.peerReadUpTo = item.peerReadUpTo ?? null;
}

/**
 * Takes the conversation list as the truth (signing in, reloading). Returns the id of the newest message it
 * accounts for (the first conversation's last message), or null: sync.js skips the messages up to it.
 */
export function applyConversationList(list, limit) {
  state.order = [];
  for (const item of list) {
    if (!item || !item.peer || !isMessage(item.lastMessage)) continue;
    rememberUser(item.peer);
    takeSummary(conversationWith(item.peer.id), item);
    state.order.push(item.peer.id);
  }
  state.moreConversations = list.length >= limit;
  invalidate();
  return state.order.length ? state.conversations.get(state.order[0]).lastMessage.id : null;
}

/** Appends an older page of the conversation list ("Show older conversations"); known conversations stay as they are. */
export function appendConversationList(list, limit) {
  for (const item of list) {
    if (!item || !item.peer || !isMessage(item.lastMessage) || state.order.includes(item.peer.id)) continue;
    rememberUser(item.peer);
    const conversation = conversationWith(item.peer.id);
    if (!conversation.lastMessage) takeSummary(conversation, item);
    state.order.push(item.peer.id);
  }
  state.moreConversations = list.length >= limit;
  invalidate();
}

/**
 * After a reconnect: the markers may have moved while no event could reach this window. A conversation whose last
 * message is the one this window knows takes the server's unread count too (otherwise messages are still on the
 * way, and the count this window keeps is the better one).
 */
export function reconcileConversationList(list) {
  for (const item of list) {
    if (!item || !item.peer || !isMessage(item.lastMessage)) continue;
    const conversation = state.conversations.get(item.peer.id);
    if (!conversation) continue;
    rememberUser(item.peer);
    if (item.readUpTo) conversation.readUpTo = item.readUpTo;
    if (item.peerReadUpTo) conversation.peerReadUpTo = item.peerReadUpTo;
    if (conversation.lastMessage?.id === item.lastMessage.id && conversation.markingUpTo === null) {
      conversation.unread = Number(item.unreadCount) || 0;
    }
  }
  invalidate();
}

// ---------------------------------------------------------------------------------------------------------------
// New messages: live, synced, and receipts
// ---------------------------------------------------------------------------------------------------------------

/** A sent message the server stored: it leaves the outbox (matched by its clientMessageId). */
function settleOutbox(message) {
  if (!message.clientMessageId || !isOwn(message)) return;
  const before = state.outbox.length;
  state.outbox = state.outbox.filter((entry) => entry.clientMessageId !== message.clientMessageId);
  if (state.outbox.length !== before) saveForUser(OUTBOX_KEY, state.outbox.map(storedEntry));
}

/** An outbox entry as sessionStorage keeps it. */
export function storedEntry({ clientMessageId, peerId, text, createdAt, failed }) {
  return { clientMessageId, peerId, text, createdAt, failed };
}

/**
 * Merges `batch` (messages in stored order: one sync page, or a single live message or receipt) into the
 * conversations. A message already counted is skipped; a new one goes into its conversation's history (when
 * loaded) before the messages that the batch says come after it, becomes the conversation's last message unless
 * the batch says a known one comes later, and counts as unread when it is from the peer and after my marker.
 * Sent messages it holds leave the outbox. Returns the new messages from others.
 *
 * @param {Message[]} batch
 * @param {{skip?: Set<string>}} options skip: ids accounted for already (held live events during the first sync)
 */
export function mergeMessages(batch, { skip } = {}) {
  const valid = batch.filter(isMessage);
  const position = new Map(valid.map((m, index) => [m.id, index]));
  const incoming = [];
  valid.forEach((message, index) => {
    settleOutbox(message);
    if (state.seen.has(message.id) || skip?.has(message.id)) return;
    state.seen.add(message.id);

    const comesLater = (id) => id !== null && id !== undefined && (position.get(id) ?? -1) > index;
    const peerId = peerOf(message);
    const conversation = conversationWith(peerId);
    if (conversation.history) insertInOrder(conversation.history.messages, message, comesLater);
    else if (conversation.historyLoading) conversation.arrivedWhileLoading.push(message);

    if (!conversation.lastMessage || !comesLater(conversation.lastMessage.id)) {
      conversation.lastMessage = message;
      moveToFront(peerId);
    }
    if (!isOwn(message)) {
      if (!comesLater(conversation.readUpTo)) conversation.unread++;
      incoming.push(message);
    }
  });
  if (valid.length) invalidate();
  return incoming;
}

/** Puts `message` into `messages` (stored order) unless it is there: before the first one that comes later. */
function insertInOrder(messages, message, comesLater) {
  if (messages.some((m) => m.id === message.id)) return;
  const at = messages.findIndex((m) => comesLater(m.id));
  if (at < 0) messages.push(message);
  else messages.splice(at, 0, message);
}

// ---------------------------------------------------------------------------------------------------------------
// History (GET /api/conversations/{peerId}/messages)
// ---------------------------------------------------------------------------------------------------------------

/** The newest page of a conversation arrived: it becomes the history, with what came meanwhile after it. */
export function setHistory(conversation, page) {
  const messages = (page.messages || []).filter(isMessage);
  const ids = new Set(messages.map((m) => m.id));
  for (const message of conversation.arrivedWhileLoading) {
    if (!ids.has(message.id)) {
      messages.push(message);
      ids.add(message.id);
    }
  }
  conversation.arrivedWhileLoading = [];
  conversation.history = { messages, hasOlder: Boolean(page.hasMore), loadingOlder: false };
  conversation.historyError = '';
  recountUnread(conversation);
  invalidate();
}

/** An older page (`before` the first message shown) goes in front. */
export function prependHistory(conversation, page) {
  const history = conversation.history;
  const known = new Set(history.messages.map((m) => m.id));
  const older = (page.messages || []).filter((m) => isMessage(m) && !known.has(m.id));
  history.messages.unshift(...older);
  history.hasOlder = Boolean(page.hasMore);
  invalidate();
}

// ---------------------------------------------------------------------------------------------------------------
// Read markers
// ---------------------------------------------------------------------------------------------------------------

/** Where the loaded history shows the marker `upToId`: its index, or -1. */
export function markerIndex(conversation, upToId) {
  if (!conversation.history || !upToId) return -1;
  return conversation.history.messages.findIndex((m) => m.id === upToId);
}

/** With my marker inside the loaded history, the unread count is what comes after it from the peer. */
function recountUnread(conversation) {
  const at = markerIndex(conversation, conversation.readUpTo);
  if (at < 0) {
    if (conversation.lastMessage && conversation.readUpTo === conversation.lastMessage.id) conversation.unread = 0;
    return;
  }
  conversation.unread = conversation.history.messages.slice(at + 1).filter((m) => !isOwn(m)).length;
}

/** The hub's MessagesRead: someone's read marker moved in one of my conversations. */
export function applyMessagesRead(event) {
  if (!event || typeof event.readerId !== 'string' || typeof event.peerId !== 'string' || !event.upToId) return;
  if (isMe(event.readerId)) {
    // I read (here, or on another device): my marker in the conversation with peerId.
    const conversation = conversationWith(event.peerId);
    conversation.readUpTo = event.upToId;
    recountUnread(conversation);
  }
  if (isMe(event.peerId)) {
    // The peer read my messages: their marker in our conversation.
    conversationWith(event.readerId).peerReadUpTo = event.upToId;
  }
  invalidate();
}

/** The answer of MarkRead: my marker as it now stands. */
export function applyMarkReadAnswer(conversation, answer) {
  if (answer && answer.upToId) conversation.readUpTo = answer.upToId;
  recountUnread(conversation);
  invalidate();
}

/** Every unread message, over all conversations (the page title's count). */
export function totalUnread() {
  let unread = 0;
  for (const conversation of state.conversations.values()) unread += conversation.unread;
  return unread;
}
