// The composer: the message box of the open conversation, its character count, sending what it holds (the outbox
// takes it from there), telling the peer that I type, and saying so when I block the peer (nothing can be sent).

import { queueMessage } from './outbox.js';
import { displayName, userFor } from './people.js';
import { state } from './state.js';
import { userTyped } from './typing.js';
import { dom, hideBanner, showBanner } from './ui.js';

const MAX_MESSAGE_LENGTH = 4096; // as the server counts it: UTF-16 code units, like String.length

/** The box's height and character count, after its text changed (typing, or another conversation's draft). */
export function refreshComposer() {
  autosize();
  updateCharCount();
}

/** The person typed in the box: its size and count, and "typing…" for the peer (not for emptying it). */
export function onComposerInput() {
  refreshComposer();
  if (dom.input.value.trim()) userTyped(state.activePeerId);
}

/** While I block the open conversation's peer, the box is off and says why (the header's button unblocks). */
export function renderComposer() {
  const peerId = state.activePeerId;
  const blocked = Boolean(state.session && peerId && state.blocked.has(peerId));
  const text = blocked
    ? `You blocked ${displayName(userFor(peerId))}: neither of you can send messages to the other. `
      + 'Unblock them to write again.'
    : '';
  if (dom.composerBlocked.textContent !== text) dom.composerBlocked.textContent = text;
  dom.composerBlocked.hidden = !blocked;
  dom.composerHint.hidden = blocked;
  dom.composer.dataset.blocked = String(blocked);
  dom.input.disabled = blocked;
  dom.send.disabled = blocked;
  dom.input.placeholder = blocked ? 'Blocked' : 'Write a message…';
}

export function updateCharCount() {
  const length = dom.input.value.length;
  dom.charCount.textContent = `${length} / ${MAX_MESSAGE_LENGTH}`;
  dom.charCount.dataset.over = String(length > MAX_MESSAGE_LENGTH);
  dom.input.setAttribute('aria-invalid', String(length > MAX_MESSAGE_LENGTH));
}

function autosize() {
  dom.input.style.height = 'auto';
  dom.input.style.height = `${Math.min(dom.input.scrollHeight + 2, 160)}px`;
}

/**
 * Sends the box's text to the open conversation: it shows as pending at once, and the box empties. Returns
 * whether it went (an empty box does not; a message over the limit stays in the box, with an error).
 */
export function sendFromComposer() {
  if (!state.activePeerId || !state.session || state.blocked.has(state.activePeerId)) return false;
  const text = dom.input.value;
  if (!text.trim()) {
    dom.input.focus();
    return false;
  }
  if (text.length > MAX_MESSAGE_LENGTH) {
    showBanner(`Not sent: the message is ${text.length} characters long; the limit is ${MAX_MESSAGE_LENGTH}.`, { scope: 'send' });
    return false;
  }
  hideBanner('send');
  queueMessage(state.activePeerId, text);
  dom.input.value = '';
  refreshComposer();
  return true;
}

/** The server refused a message (it was not stored): say why. It stays in its conversation, marked "Not sent". */
export function messageRejected(_entry, reason) {
  showBanner(`Not sent: ${reason}`, { scope: 'send' });
}

/** Enter sends (Shift+Enter makes a new line); returns whether a message went. */
export function onComposerKeydown(event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return false;
  event.preventDefault();
  return sendFromComposer();
}
