// The people: who is online (polled), the profiles this window has seen, and the list of people on the left.

import { authorizedJson } from './session.js';
import { state } from './state.js';
import { dom, renderAvatar } from './ui.js';

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
    renderPeople();
    renderPeerHeader();
  } catch {
    // Keep the last list: the connection status tells when the server is unreachable.
  } finally {
    if (myEpoch === state.epoch) {
      state.poll.running = false;
      if (state.session) state.poll.timer = window.setTimeout(pollOnline, POLL_INTERVAL_MS);
    }
  }
}

export function userFor(id) {
  return state.users.get(id) || { id, username: '', avatarUrl: '' };
}

export function displayName(user) {
  return user.username || 'Unknown user';
}

/** Fetches the profile of someone this window has not seen yet (a message from a user not in the list). */
export async function loadProfile(id) {
  if (state.users.has(id) || state.pendingProfiles.has(id)) return;
  state.pendingProfiles.add(id);
  const myEpoch = state.epoch;
  try {
    const user = await authorizedJson(`/api/users/${encodeURIComponent(id)}`);
    if (myEpoch !== state.epoch) return;
    state.users.set(user.id, user);
    renderPeople();
    if (state.activePeerId === id) renderPeerHeader();
  } catch {
    // shown as "Unknown user" until the online list names them
  } finally {
    state.pendingProfiles.delete(id);
  }
}

function createPersonItem(id) {
  const li = document.createElement('li');
  li.setAttribute('data-testid', 'user-item');
  li.dataset.userId = id;

  // A click opens the conversation: app.js listens on the whole list.
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

/** The id of the person whose button `event` (a click in the people list) hit, or null. */
export function personClicked(event) {
  const button = event.target.closest('button.person');
  return button ? button.parentElement.dataset.userId : null;
}

/** The people list: everyone online and everyone with a conversation, by name. */
export function renderPeople() {
  if (!state.session) return;
  const ids = new Set([...state.online, ...state.conversations.keys()]);
  ids.delete(state.session.user.id);
  const sorted = [...ids].sort((a, b) => {
    const byName = displayName(userFor(a)).localeCompare(displayName(userFor(b)), undefined, { sensitivity: 'base' });
    return byName || (a < b ? -1 : a > b ? 1 : 0);
  });

  for (const [id, li] of state.peopleItems) {
    if (!ids.has(id)) {
      li.remove();
      state.peopleItems.delete(id);
    }
  }

  sorted.forEach((id, index) => {
    let li = state.peopleItems.get(id);
    if (!li) {
      li = createPersonItem(id);
      state.peopleItems.set(id, li);
    }
    const user = userFor(id);
    const isOnline = state.online.has(id);
    const unread = state.conversations.get(id)?.unread || 0;
    const parts = li._parts;
    li.dataset.username = user.username || '';
    li.dataset.online = String(isOnline);
    parts.nameText.textContent = displayName(user);
    parts.presence.textContent = isOnline ? 'online' : 'offline';
    parts.badge.hidden = unread === 0;
    parts.badgeCount.textContent = unread > 99 ? '99+' : String(unread);
    if (id === state.activePeerId) parts.button.setAttribute('aria-current', 'true');
    else parts.button.removeAttribute('aria-current');
    renderAvatar(parts.avatar, user);
    // Move only what is out of place, so that the focused button stays where it is.
    if (dom.peopleList.children[index] !== li) dom.peopleList.insertBefore(li, dom.peopleList.children[index] || null);
  });

  dom.onlineCount.textContent = state.online.size ? `(${state.online.size})` : '';
  dom.peopleEmpty.hidden = sorted.length > 0;
}

/** The open conversation's header: the peer's name, presence and avatar. */
export function renderPeerHeader() {
  if (!state.activePeerId) return;
  const peer = userFor(state.activePeerId);
  const isOnline = state.online.has(state.activePeerId);
  dom.conversationTitle.textContent = displayName(peer);
  dom.peerPresence.textContent = isOnline ? 'Online' : 'Offline: messages reach them only while they are online';
  dom.peerPresence.dataset.online = String(isOnline);
  renderAvatar(dom.peerAvatar, peer);
}

/** Arrow keys, Home and End move the focus through the list. */
export function onPeopleKeydown(event) {
  const buttons = [...dom.peopleList.querySelectorAll('button.person')];
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
