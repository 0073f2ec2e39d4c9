// Conversations: kept in memory only (the server stores no messages), the open one's message list, and the
// composer that sends to it.

import { hubErrorText, isConnected, sendRaw } from './hub.js';
import { displayName, loadProfile, renderPeerHeader, renderPeople, userFor } from './people.js';
import { state } from './state.js';
import { announce, dom, hideBanner, showBanner } from './ui.js';

const MAX_MESSAGE_LENGTH = 4096; // as the server counts it: UTF-16 code units, like String.length

function ensureConversation(peerId) {
  let conversation = state.conversations.get(peerId);
  if (!conversation) {
    conversation = { messages: [], unread: 0, draft: '' };
    state.conversations.set(peerId, conversation);
    loadProfile(peerId);
  }
  return conversation;
}

export function openConversation(peerId, { focusInput = false } = {}) {
  if (state.activePeerId && state.activePeerId !== peerId) {
    const previous = state.conversations.get(state.activePeerId);
    if (previous) previous.draft = dom.input.value;
  }
  const conversation = ensureConversation(peerId);
  const switched = state.activePeerId !== peerId;
  state.activePeerId = peerId;
  conversation.unread = 0;

  dom.conversationEmpty.hidden = true;
  dom.conversationOpen.hidden = false;
  renderPeerHeader();
  if (switched) {
    dom.messages.replaceChildren(...conversation.messages.map(messageElement));
    dom.input.value = conversation.draft;
    autosize();
    updateCharCount();
    scrollToEnd();
  }
  renderPeople();
  updateTitle();
  if (focusInput) dom.input.focus();
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
  who.textContent = message.direction === 'out' ? 'You: ' : `${displayName(userFor(state.activePeerId))}: `;

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
  const list = dom.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollToEnd() {
  dom.messages.scrollTop = dom.messages.scrollHeight;
}

/**
 * Adds a message to its conversation, and to the list when that conversation is open. Returns false when the
 * conversation has it already: a message can arrive twice, by its receipt and by ReceiveMessage (a note to self),
 * or on two connections while hub.js renews the connection.
 */
function addMessage(peerId, message, { forceScroll = false } = {}) {
  const conversation = ensureConversation(peerId);
  if (conversation.messages.some((x) => x.id === message.id)) return false;
  conversation.messages.push(message);
  if (peerId === state.activePeerId) {
    const stick = forceScroll || nearEnd();
    dom.messages.append(messageElement(message));
    if (stick) scrollToEnd();
  }
  return true;
}

/** The hub's ReceiveMessage: a message to me (from me too, for a note to self). */
export function receiveMessage(m) {
  if (!state.session || !m || typeof m.text !== 'string') return;
  const direction = m.senderId === state.session.user.id ? 'out' : 'in';
  const peerId = direction === 'out' ? m.receiverId : m.senderId;
  if (!addMessage(peerId, { id: m.id, direction, text: m.text, sentAt: m.sentAt })) return;

  if (direction === 'in' && (peerId !== state.activePeerId || document.hidden)) {
    state.conversations.get(peerId).unread++;
  }
  renderPeople();
  updateTitle();
  if (direction === 'in') {
    const preview = m.text.length > 140 ? `${m.text.slice(0, 140)}…` : m.text;
    announce(`New message from ${displayName(userFor(peerId))}: ${preview}`);
  }
}

function updateTitle() {
  let unread = 0;
  for (const conversation of state.conversations.values()) unread += conversation.unread;
  document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
}

/** Back to this window: what shows in the open conversation counts as read. */
export function onVisibilityChange() {
  if (document.hidden || !state.activePeerId) return;
  const conversation = state.conversations.get(state.activePeerId);
  if (conversation && conversation.unread) {
    conversation.unread = 0;
    renderPeople();
    updateTitle();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The composer
// ---------------------------------------------------------------------------------------------------------------

export function updateCharCount() {
  const length = dom.input.value.length;
  dom.charCount.textContent = `${length} / ${MAX_MESSAGE_LENGTH}`;
  dom.charCount.dataset.over = String(length > MAX_MESSAGE_LENGTH);
  dom.input.setAttribute('aria-invalid', String(length > MAX_MESSAGE_LENGTH));
  updateSendButton();
}

function updateSendButton() {
  dom.send.disabled = state.sending;
}

export function autosize() {
  dom.input.style.height = 'auto';
  dom.input.style.height = `${Math.min(dom.input.scrollHeight + 2, 160)}px`;
}

export async function sendMessage() {
  if (state.sending || !state.activePeerId || !state.session) return;
  const peerId = state.activePeerId;
  const text = dom.input.value;
  if (!text.trim()) {
    dom.input.focus();
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

  state.sending = true;
  updateSendButton();
  const myEpoch = state.epoch;
  try {
    const receipt = await sendRaw(peerId, text);
    if (myEpoch !== state.epoch) return;
    addMessage(peerId, { id: receipt.id, direction: 'out', text, sentAt: receipt.sentAt }, { forceScroll: true });
    if (state.activePeerId === peerId) {
      if (dom.input.value === text) dom.input.value = '';
    } else {
      state.conversations.get(peerId).draft = '';
    }
    autosize();
    updateCharCount();
    hideBanner('send');
  } catch (error) {
    if (myEpoch === state.epoch) showBanner(`Not sent: ${hubErrorText(error)}`, { scope: 'send' });
  } finally {
    state.sending = false;
    updateSendButton();
  }
}
