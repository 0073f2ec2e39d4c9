// The open conversation: its header (the peer's presence, the Block button), its history from the server (the newest
// page first, older pages on request), its messages with their state (pending, sent, read by the peer), and marking
// it read while it is open and visible.

import { describe } from './api.js';
import { refreshComposer } from './composer.js';
import { isConnected, markRead } from './hub.js';
import {
  applyMarkReadAnswer, conversationWith, isOwn, markerIndex, prependHistory, setHistory,
} from './messages.js';
import { pendingFor } from './outbox.js';
import {
  displayName, isMe, presenceOf, refreshPresence, userFor,
} from './people.js';
import { authorizedJson } from './session.js';
import { state } from './state.js';
import {
  dom, fullTime, invalidate, lastSeenText, renderAvatar, renderTime,
} from './ui.js';

const HISTORY_PAGE = 50;

/** Opens the conversation with `peerId` (anyone: online or not, with messages or not). */
export function openConversation(peerId, { focusInput = false } = {}) {
  if (state.activePeerId && state.activePeerId !== peerId) {
    const previous = state.conversations.get(state.activePeerId);
    if (previous) previous.draft = dom.input.value;
  }
  const conversation = conversationWith(peerId);
  const switched = state.activePeerId !== peerId;
  state.activePeerId = peerId;
  if (!document.hidden && conversation.unread > 0) {
    // Shown now, so read: the badge goes at once, MarkRead follows once the history is there.
    conversation.readPending = true;
    conversation.unread = 0;
  }

  dom.conversationEmpty.hidden = true;
  dom.conversationOpen.hidden = false;
  if (switched) {
    dom.messages.replaceChildren();
    messageItems.clear();
    stickToEnd = true;
    dom.input.value = conversation.draft;
    refreshComposer();
    // Someone without a conversation: their presence comes with their profile (unless the search just read it).
    refreshPresence([peerId], { maxAgeMs: 5000 });
  }
  if (!conversation.history && !conversation.historyLoading) loadHistory(conversation);
  invalidate();
  if (focusInput) dom.input.focus();
}

/** Closes the open conversation (signing out). */
export function closeConversation() {
  state.activePeerId = null;
  messageItems.clear();
  dom.messages.replaceChildren();
  dom.conversationEmpty.hidden = false;
  dom.conversationOpen.hidden = true;
}

async function loadHistory(conversation) {
  const myEpoch = state.epoch;
  conversation.historyLoading = true;
  conversation.historyError = '';
  invalidate();
  try {
    const page = await authorizedJson(
      `/api/conversations/${encodeURIComponent(conversation.peerId)}/messages?limit=${HISTORY_PAGE}`);
    if (myEpoch !== state.epoch) return;
    setHistory(conversation, page);
  } catch (error) {
    if (myEpoch !== state.epoch) return;
    conversation.historyError = `Could not load the messages: ${describe(error)}`;
  } finally {
    if (myEpoch === state.epoch) {
      conversation.historyLoading = false;
      invalidate();
    }
  }
}

/** "Load older messages": the page stored right before the first message shown. */
export async function loadOlder() {
  const conversation = state.conversations.get(state.activePeerId);
  const history = conversation?.history;
  if (!history || !history.hasOlder || history.loadingOlder || !history.messages.length) return;
  const myEpoch = state.epoch;
  history.loadingOlder = true;
  conversation.historyError = '';
  invalidate();
  try {
    const before = encodeURIComponent(history.messages[0].id);
    const page = await authorizedJson(
      `/api/conversations/${encodeURIComponent(conversation.peerId)}/messages?limit=${HISTORY_PAGE}&before=${before}`);
    if (myEpoch !== state.epoch) return;
    if (state.activePeerId === conversation.peerId) keepScrollFromEnd = true;
    prependHistory(conversation, page);
  } catch (error) {
    if (myEpoch === state.epoch) conversation.historyError = `Could not load older messages: ${describe(error)}`;
  } finally {
    if (myEpoch === state.epoch) {
      history.loadingOlder = false;
      invalidate();
    }
  }
}

/** The person sent a message: show the newest one, wherever the list was scrolled. */
export function scrollToNewest() {
  stickToEnd = true;
  invalidate();
}

/** "Try again" after the history failed to load. */
export function retryHistory() {
  const conversation = state.conversations.get(state.activePeerId);
  if (!conversation) return;
  if (!conversation.history) {
    if (!conversation.historyLoading) loadHistory(conversation);
  } else {
    loadOlder();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Marking read
// ---------------------------------------------------------------------------------------------------------------

/**
 * While the conversation is open and the page visible, what it shows is read: MarkRead up to its last message,
 * whenever it has unread messages (opened with some, or new ones came). At most one call at a time per
 * conversation; a failed one is tried again at the next change (the sync after a reconnect brings the server's
 * count back).
 */
function markVisibleRead() {
  const conversation = state.conversations.get(state.activePeerId);
  if (!conversation || document.hidden || !conversation.history) return;
  if (conversation.unread === 0 && !conversation.readPending) return;
  const messages = conversation.history.messages;
  const last = messages[messages.length - 1];
  conversation.unread = 0; // shown, so read here; an answer or a sync that says otherwise brings it back
  if (!last || last.id === conversation.readUpTo) {
    conversation.readPending = false;
    return;
  }
  if (conversation.markingUpTo !== null) return; // its answer recounts, and the next render marks the rest
  if (!isConnected()) {
    conversation.readPending = true; // marked once connected (app.js renders then)
    return;
  }
  conversation.readPending = false;
  const myEpoch = state.epoch;
  conversation.markingUpTo = last.id;
  markRead(conversation.peerId, last.id)
    .then((answer) => {
      if (myEpoch === state.epoch) applyMarkReadAnswer(conversation, answer);
    })
    .catch(() => {
      // Not marked: the count comes back with the next sync, and the next change tries again.
    })
    .finally(() => {
      conversation.markingUpTo = null;
      if (myEpoch === state.epoch) invalidate();
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

const messageItems = new Map(); // message id or client message id -> its <li>, in the open conversation
let stickToEnd = true; // scroll to the newest message at the next render
let keepScrollFromEnd = false; // older messages went in front: keep what was in view where it was

/** The header's presence line. */
function presenceText({ state: presence, lastSeenAt }) {
  switch (presence) {
    case 'self': return 'Notes to yourself';
    case 'blocked': return 'Blocked: no messages either way';
    case 'online': return 'Online';
    case 'offline': return lastSeenAt ? `Offline · ${lastSeenText(lastSeenAt)}` : 'Offline: your messages wait for them';
    default: return '';
  }
}

/** The open conversation, as state.js has it. */
export function renderConversation() {
  if (!state.session || !state.activePeerId) return;
  const conversation = state.conversations.get(state.activePeerId);
  if (!conversation) return;
  renderHeader(conversation.peerId);
  renderHistoryStart(conversation);
  renderMessages(conversation);
  markVisibleRead();
}

function renderHeader(peerId) {
  const peer = userFor(peerId);
  const name = displayName(peer);
  const presence = presenceOf(peerId);
  dom.conversationTitle.textContent = name;
  dom.peerPresence.textContent = presenceText(presence);
  dom.peerPresence.dataset.presence = presence.state;
  dom.peerPresence.dataset.online = String(presence.state === 'online' || presence.state === 'self');
  dom.peerPresence.title = presence.lastSeenAt ? `Last seen ${fullTime(presence.lastSeenAt)}` : '';
  renderAvatar(dom.peerAvatar, peer);

  const blocked = state.blocked.has(peerId);
  const action = blocked ? 'Unblock' : 'Block';
  dom.blockToggle.hidden = isMe(peerId);
  dom.blockToggle.textContent = action;
  dom.blockToggle.setAttribute('aria-label', `${action} ${name}`);
  dom.blockToggle.dataset.blocked = String(blocked);
  dom.blockToggle.disabled = state.blocking.has(peerId);
}

function renderHistoryStart(conversation) {
  const history = conversation.history;
  let status = '';
  if (conversation.historyError) status = conversation.historyError;
  else if (!history) status = conversation.historyLoading ? 'Loading messages…' : '';
  else if (history.loadingOlder) status = 'Loading older messages…';
  else if (!history.hasOlder) {
    status = history.messages.length || pendingFor(conversation.peerId).length
      ? 'This is the beginning of the conversation.'
      : 'No messages yet. Say hello!';
  }
  dom.historyStatus.textContent = status;
  dom.historyStatus.dataset.error = String(Boolean(conversation.historyError));
  dom.historyRetry.hidden = !conversation.historyError;
  dom.loadOlder.hidden = !history || !history.hasOlder || history.loadingOlder || Boolean(conversation.historyError);
}

function nearEnd() {
  const scroller = dom.messageScroller;
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function renderMessages(conversation) {
  const scroller = dom.messageScroller;
  const stick = stickToEnd || nearEnd();
  const fromEnd = scroller.scrollHeight - scroller.scrollTop;

  const stored = conversation.history ? conversation.history.messages : [];
  const readUpTo = markerIndex(conversation, conversation.peerReadUpTo);
  const rows = stored.map((message, index) => ({
    key: message.id,
    message,
    status: isOwn(message) ? (index <= readUpTo ? 'read' : 'sent') : '',
  }));
  // Waiting for the server: after the stored ones (unless a synced copy is shown already).
  const shown = new Set(stored.map((m) => m.clientMessageId).filter(Boolean));
  for (const entry of pendingFor(conversation.peerId)) {
    if (shown.has(entry.clientMessageId)) continue;
    rows.push({
      key: `pending:${entry.clientMessageId}`,
      message: { id: '', senderId: state.session.user.id, text: entry.text, sentAt: entry.createdAt },
      clientMessageId: entry.clientMessageId,
      status: entry.failed ? 'failed' : 'pending',
      reason: entry.failed || '',
    });
  }

  const keys = new Set(rows.map((row) => row.key));
  for (const [key, li] of messageItems) {
    if (!keys.has(key)) {
      li.remove();
      messageItems.delete(key);
    }
  }
  rows.forEach((row, index) => {
    let li = messageItems.get(row.key);
    if (!li) {
      li = messageElement(row.message);
      if (row.clientMessageId) li.dataset.clientMessageId = row.clientMessageId;
      messageItems.set(row.key, li);
    }
    setStatus(li, row.status, row.reason);
    if (dom.messages.children[index] !== li) dom.messages.insertBefore(li, dom.messages.children[index] || null);
  });

  if (keepScrollFromEnd) scroller.scrollTop = scroller.scrollHeight - fromEnd;
  else if (stick) scroller.scrollTop = scroller.scrollHeight;
  keepScrollFromEnd = false;
  if (conversation.history) stickToEnd = false;
}

const STATUS_TEXT = { pending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent' };
const STATUS_MARK = { pending: '', sent: '✓', read: '✓✓', failed: '' };

function messageElement(message) {
  const li = document.createElement('li');
  li.className = 'message';
  li.setAttribute('data-testid', 'message');
  const direction = isOwn(message) ? 'out' : 'in';
  li.dataset.direction = direction;
  if (message.id) li.dataset.messageId = message.id;

  const who = document.createElement('span');
  who.className = 'visually-hidden';
  who.textContent = direction === 'out' ? 'You: ' : `${displayName(userFor(message.senderId))}: `;

  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.setAttribute('data-testid', 'message-text');
  bubble.textContent = message.text;

  const meta = document.createElement('div');
  meta.className = 'message-meta';
  const time = document.createElement('time');
  renderTime(time, message.sentAt);
  meta.append(time);
  if (direction === 'out') {
    const status = document.createElement('span');
    status.className = 'message-status';
    status.setAttribute('data-testid', 'message-status');
    const mark = document.createElement('span');
    mark.className = 'message-status-mark';
    mark.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'message-status-text';
    status.append(mark, label);
    meta.append(status);
    li._status = { status, mark, label };
  }

  li.append(who, bubble, meta);
  return li;
}

function setStatus(li, status, reason = '') {
  if (!li._status || (li.dataset.status === status && li._status.reason === reason)) return;
  li.dataset.status = status;
  const parts = li._status;
  parts.reason = reason;
  parts.status.dataset.status = status;
  parts.mark.textContent = STATUS_MARK[status];
  parts.label.textContent = STATUS_TEXT[status];
  parts.status.title = reason ? `${STATUS_TEXT[status]}: ${reason}` : STATUS_TEXT[status];
  // Pending and failed show their word; sent and read show ticks, their word is for screen readers.
  parts.label.classList.toggle('visually-hidden', status === 'sent' || status === 'read');
  parts.actions?.remove();
  parts.actions = null;
  if (status === 'failed') {
    // A message the server refused: send it again, or drop it (app.js listens on the list).
    const actions = document.createElement('span');
    actions.className = 'message-actions';
    actions.append(actionButton('retry', 'Retry'), actionButton('discard', 'Delete'));
    parts.status.after(actions);
    parts.actions = actions;
  }
}

function actionButton(action, text) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link-button';
  button.dataset.action = action;
  button.setAttribute('data-testid', `message-${action}`);
  button.textContent = text;
  return button;
}

/** The action of a click on a failed message's Retry or Delete: {action, clientMessageId}, or null. */
export function messageAction(event) {
  const button = event.target.closest('button[data-action]');
  const li = button?.closest('li[data-client-message-id]');
  return li ? { action: button.dataset.action, clientMessageId: li.dataset.clientMessageId } : null;
}
