// Typing: "<name> is typing…" in the open conversation while its peer types (the hub's UserTyping; it goes ~3 s
// after the last one, or at once when a message from them arrives), and Typing(peerId) while I type in the
// composer, at most once a second (the server forwards at most one every 2 s per pair anyway).

import { isConnected, typing } from './hub.js';
import { displayName, isMe, userFor } from './people.js';
import { state } from './state.js';
import { dom, invalidate } from './ui.js';

const SHOWN_MS = 3000; // "typing…" goes this long after the last UserTyping
const SEND_EVERY_MS = 1000; // at most one Typing call per this long (to the same peer)

/** The hub's UserTyping({userId}): that user is typing to me. */
export function peerTyping(event) {
  if (!state.session || !event || typeof event.userId !== 'string' || isMe(event.userId)) return;
  if (state.blocked.has(event.userId)) return; // the server forwards none, but a block may have just been made
  const peers = state.typing.peers;
  window.clearTimeout(peers.get(event.userId));
  peers.set(event.userId, window.setTimeout(() => typingStopped(event.userId), SHOWN_MS));
  invalidate();
}

/** That user's "typing…" goes (it timed out, a message from them came, or I blocked them). */
export function typingStopped(userId) {
  const timer = state.typing.peers.get(userId);
  if (timer === undefined) return;
  window.clearTimeout(timer);
  state.typing.peers.delete(userId);
  invalidate();
}

export function isTyping(userId) {
  return state.typing.peers.has(userId);
}

/** I typed in the conversation with `peerId`: tell them (not more than once a second). */
export function userTyped(peerId) {
  if (!peerId || isMe(peerId) || state.blocked.has(peerId) || !isConnected()) return;
  const now = Date.now();
  if (state.typing.sentTo === peerId && now - state.typing.sentAt < SEND_EVERY_MS) return;
  state.typing.sentTo = peerId;
  state.typing.sentAt = now;
  typing(peerId);
}

/** The open conversation's typing line (a polite live region: the text is read out when it appears). */
export function renderTyping() {
  const peerId = state.activePeerId;
  const text = state.session && peerId && isTyping(peerId) ? `${displayName(userFor(peerId))} is typing…` : '';
  if (dom.typing.textContent !== text) dom.typing.textContent = text;
}
