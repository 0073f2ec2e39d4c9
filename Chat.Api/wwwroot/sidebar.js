// The sidebar's conversation list: newest first, each with its peer's presence (the online dot), the last message
// (or "typing…") and the unread count. A click opens the conversation (app.js listens). Search results (search.js)
// use the same items.

import { describe } from './api.js';
import { appendConversationList, CONVERSATIONS_PAGE, isOwn } from './messages.js';
import { pendingFor } from './outbox.js';
import {
  displayName, isMe, presenceLabel, presenceOf, takePresence, userFor,
} from './people.js';
import { authorizedJson } from './session.js';
import { state } from './state.js';
import { isTyping } from './typing.js';
import { dom, invalidate, renderAvatar, renderTime, showBanner } from './ui.js';

/** A person's <li> with its button: avatar (with the online dot), name, a second line, the unread badge. */
export function createPersonItem(testId = 'user-item') {
  const li = document.createElement('li');
  li.setAttribute('data-testid', testId);

  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'person';
  button.setAttribute('data-testid', 'user-button');

  const wrap = document.createElement('span');
  wrap.className = 'avatar-wrap';
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  const dot = document.createElement('span');
  dot.className = 'online-dot';
  dot.setAttribute('aria-hidden', 'true');
  wrap.append(avatar, dot);

  const main = document.createElement('span');
  main.className = 'person-main';
  const line = document.createElement('span');
  line.className = 'person-line';
  const nameText = document.createElement('span');
  nameText.className = 'person-name-text';
  nameText.setAttribute('data-testid', 'user-name');
  const time = document.createElement('time');
  time.className = 'person-time';
  line.append(nameText, time);
  const second = document.createElement('span');
  second.className = 'person-second';
  const presence = document.createElement('span');
  presence.className = 'person-presence';
  presence.setAttribute('data-testid', 'user-presence');
  const preview = document.createElement('span');
  preview.className = 'person-preview';
  preview.setAttribute('data-testid', 'last-message');
  const typing = document.createElement('span');
  typing.className = 'person-typing';
  typing.setAttribute('data-testid', 'user-typing');
  typing.textContent = 'typing…';
  typing.hidden = true;
  second.append(presence, preview, typing);
  main.append(line, second);

  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.setAttribute('data-testid', 'unread-badge');
  badge.hidden = true;
  const badgeCount = document.createElement('span');
  const badgeLabel = document.createElement('span');
  badgeLabel.className = 'visually-hidden';
  badgeLabel.textContent = ' unread';
  badge.append(badgeCount, badgeLabel);

  button.append(wrap, main, badge);
  li.append(button);
  li._parts = { button, avatar, nameText, time, presence, preview, typing, badge, badgeCount };
  return li;
}

/**
 * Brings a person's item up to date. With `preview` (a conversation), the second line is the last message (or
 * "typing…") and presence is for screen readers only; without, the second line is the presence.
 */
export function updatePersonItem(li, id, { preview = null, sentAt = '', unread = 0 } = {}) {
  const user = userFor(id);
  const self = isMe(id);
  const presence = presenceOf(id).state;
  const typing = preview !== null && isTyping(id);
  const parts = li._parts;
  li.dataset.userId = id;
  li.dataset.username = user.username || '';
  // "unknown" while their presence is on its way: neither the dot nor the greyed look.
  li.dataset.online = presence === 'unknown' ? 'unknown' : String(presence === 'online' || presence === 'self');
  li.dataset.presence = presence;
  parts.nameText.textContent = self ? `${displayName(user)} (you)` : displayName(user);
  const label = presenceLabel(id);
  if (parts.presence.textContent !== label) parts.presence.textContent = label;
  parts.presence.classList.toggle('visually-hidden', preview !== null);
  parts.preview.hidden = preview === null || typing;
  parts.preview.textContent = preview || '';
  parts.typing.hidden = !typing;
  renderTime(parts.time, sentAt, { dateIfOlder: true });
  parts.time.hidden = !sentAt;
  parts.badge.hidden = unread === 0;
  parts.badgeCount.textContent = unread > 99 ? '99+' : String(unread);
  if (id === state.activePeerId) parts.button.setAttribute('aria-current', 'true');
  else parts.button.removeAttribute('aria-current');
  renderAvatar(parts.avatar, user);
}

/** The id of the person whose button `event` (a click in one of the sidebar's lists) hit, or null. */
export function personClicked(event) {
  const button = event.target.closest('button.person');
  return button ? button.parentElement.dataset.userId : null;
}

/** The conversations shown: the open one first while it has nothing stored yet, then the server's order. */
function conversationIds() {
  const ids = [...state.order];
  for (const entry of state.outbox) {
    // Sent to someone new and not acknowledged yet: on top, where it will be.
    if (!ids.includes(entry.peerId)) ids.unshift(entry.peerId);
  }
  if (state.activePeerId && !ids.includes(state.activePeerId)) ids.unshift(state.activePeerId);
  return ids;
}

function previewOf(conversation, peerId) {
  const pending = pendingFor(peerId);
  if (pending.length) {
    const newest = pending[pending.length - 1];
    return { text: `${newest.failed ? 'Not sent' : 'You'}: ${newest.text}`, sentAt: newest.createdAt };
  }
  const last = conversation?.lastMessage;
  if (!last) return { text: 'No messages yet', sentAt: '' };
  return { text: isOwn(last) && !isMe(peerId) ? `You: ${last.text}` : last.text, sentAt: last.sentAt };
}

export function renderSidebar() {
  if (!state.session) return;
  const ids = conversationIds();
  renderList(dom.conversationList, state.conversationItems, ids, (li, id) => {
    const conversation = state.conversations.get(id);
    const { text, sentAt } = previewOf(conversation, id);
    const preview = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    updatePersonItem(li, id, { preview: preview.replace(/\s+/g, ' '), sentAt, unread: conversation?.unread || 0 });
  });
  dom.conversationsEmpty.hidden = ids.length > 0;
  dom.moreConversations.hidden = !state.moreConversations || state.loadingMoreConversations;
}

/** Makes `list` hold one item per id, in order, moving only what is out of place (the focused button stays). */
function renderList(list, items, ids, update) {
  const wanted = new Set(ids);
  for (const [id, li] of items) {
    if (!wanted.has(id)) {
      li.remove();
      items.delete(id);
    }
  }
  ids.forEach((id, index) => {
    let li = items.get(id);
    if (!li) {
      li = createPersonItem();
      items.set(id, li);
    }
    update(li, id);
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
}

/** "Show older conversations": the next page of the server's list. */
export async function loadMoreConversations() {
  if (state.loadingMoreConversations || !state.order.length) return;
  const last = state.conversations.get(state.order[state.order.length - 1])?.lastMessage;
  if (!last) return;
  const myEpoch = state.epoch;
  const asOf = Date.now();
  state.loadingMoreConversations = true;
  invalidate();
  try {
    const list = await authorizedJson(
      `/api/conversations?limit=${CONVERSATIONS_PAGE}&before=${encodeURIComponent(last.id)}`);
    if (myEpoch === state.epoch && Array.isArray(list)) {
      appendConversationList(list, CONVERSATIONS_PAGE);
      for (const item of list) takePresence(item?.peer, asOf);
    }
  } catch (error) {
    if (myEpoch === state.epoch) showBanner(`Could not load older conversations: ${describe(error)}`, { scope: 'sync' });
  } finally {
    if (myEpoch === state.epoch) {
      state.loadingMoreConversations = false;
      invalidate();
    }
  }
}

/** Arrow keys, Home and End move the focus through the sidebar's people (search results, conversations). */
export function onPeopleKeydown(event) {
  const nav = event.currentTarget.closest('nav');
  const buttons = [...nav.querySelectorAll('button.person')].filter((b) => b.offsetParent !== null);
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
