// Blocking: the users I block (GET /api/users/blocked when signing in and after every reconnect), and blocking or
// unblocking the open conversation's peer (PUT / DELETE /api/users/{id}/block, the header's button). While I block
// someone, the server refuses messages either way and tells neither of us the other's presence or typing; the
// history stays. The header (conversation.js) and the composer (composer.js) show it.

import { describe } from './api.js';
import { displayName, isMe, loadPeer, rememberUser, userFor } from './people.js';
import { authorizedJson } from './session.js';
import { state } from './state.js';
import { typingStopped } from './typing.js';
import { announce, hideBanner, invalidate, showBanner } from './ui.js';

/** Reads the list of the users I block (another device of mine may have changed it). */
export async function loadBlocked() {
  if (state.blockList.loading || !state.session) return;
  const list = state.blockList;
  const myEpoch = state.epoch;
  let again = false;
  list.loading = true;
  try {
    const version = list.version;
    const answer = await authorizedJson('/api/users/blocked');
    if (myEpoch !== state.epoch || !Array.isArray(answer)) return;
    // A block or unblock made here meanwhile may or may not be in it: read it again.
    if (version !== list.version || state.blocking.size > 0) {
      again = true;
      return;
    }
    const ids = new Set();
    for (const user of answer) {
      if (!user || typeof user.id !== 'string') continue;
      rememberUser(user);
      ids.add(user.id);
    }
    state.blocked = ids;
    for (const id of ids) typingStopped(id);
    invalidate();
  } catch {
    // Kept as it was: the next reconnect reads it again (and the server refuses what a block forbids anyway).
  } finally {
    if (myEpoch === state.epoch) list.loading = false;
  }
  if (again) window.setTimeout(loadBlocked, 500);
}

/** The header's Block / Unblock button: blocks the peer, or unblocks them when blocked. */
export async function toggleBlock(peerId) {
  if (!state.session || !peerId || isMe(peerId) || state.blocking.has(peerId)) return;
  const block = !state.blocked.has(peerId);
  const name = displayName(userFor(peerId));
  const myEpoch = state.epoch;
  state.blocking.add(peerId);
  state.blockList.version++;
  invalidate();
  try {
    await authorizedJson(`/api/users/${encodeURIComponent(peerId)}/block`, { method: block ? 'PUT' : 'DELETE' });
    if (myEpoch !== state.epoch) return;
    if (block) {
      state.blocked.add(peerId);
      typingStopped(peerId);
      announce(`You blocked ${name}. Neither of you can send messages to the other.`);
    } else {
      state.blocked.delete(peerId);
      loadPeer(peerId); // their presence again: the server told nothing of it while they were blocked
      announce(`You unblocked ${name}.`);
    }
    hideBanner('block');
  } catch (error) {
    if (myEpoch === state.epoch) showBanner(`Could not ${block ? 'block' : 'unblock'} ${name}: ${describe(error)}`, { scope: 'block' });
  } finally {
    if (myEpoch === state.epoch) {
      state.blocking.delete(peerId);
      invalidate();
    }
  }
}
