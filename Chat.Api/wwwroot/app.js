// Chat's browser client, no framework and no build step: this entry wires the ES modules beside it.
//   api.js           HTTP requests, ProblemDetails errors
//   session.js       tokens: refresh, sessionStorage
//   hub.js           the SignalR connection and the hub methods the page calls
//   sync.js          the conversation list at sign-in, /api/sync after every (re)connect, the live events
//   messages.js      the conversations' data: merging messages by id, unread counts, read markers
//   outbox.js        sending with a clientMessageId, pending until acknowledged, sent again after a reconnect
//   people.js        the profiles seen, and presence (UserOnline / UserOffline, "last seen …")
//   typing.js        "<name> is typing…" (UserTyping), and Typing while I type
//   blocking.js      the users I block, Block / Unblock
//   sidebar.js       the conversation list
//   search.js        finding people by name
//   conversation.js  the open conversation: header, history, message states, marking read
//   composer.js      the message box
//   auth.js          the log-in and sign-up forms
//   ui.js            the page's elements, the render pass, shared DOM helpers
//   state.js         everything the client remembers, in one object

import { postJson } from './api.js';
import { wireAuthForms } from './auth.js';
import { loadBlocked, toggleBlock } from './blocking.js';
import {
  messageRejected, onComposerInput, onComposerKeydown, refreshComposer, renderComposer, sendFromComposer,
} from './composer.js';
import {
  closeConversation, loadOlder, messageAction, openConversation, renderConversation, retryHistory, scrollToNewest,
} from './conversation.js';
import * as hub from './hub.js';
import { totalUnread } from './messages.js';
import {
  discardMessage, onRejected, restoreOutbox, resendAll, retryMessage,
} from './outbox.js';
import { startPresenceClock, userCameOnline, userWentOffline } from './people.js';
import { clearSearch, onSearchInput, onSearchKeydown, renderSearch } from './search.js';
import { forgetSession, onSessionEnded, restoreSession, storeSession } from './session.js';
import { loadMoreConversations, onPeopleKeydown, personClicked, renderSidebar } from './sidebar.js';
import { clearUserData, state } from './state.js';
import { liveRead, messageArrived, requestSync, startSync } from './sync.js';
import { peerTyping, renderTyping } from './typing.js';
import {
  dom, hideBanner, invalidate, onRender, showAuthView, showBanner, showChatView,
} from './ui.js';

function signIn(tokens) {
  state.epoch++;
  storeSession(tokens);
  hideBanner();
  enterChat();
  dom.main.focus();
}

function enterChat() {
  showChatView(state.session.user);
  restoreOutbox();
  startSync();
  loadBlocked();
  startPresenceClock();
  hub.connect();
  invalidate();
}

/** Connected, reconnected, or the connection renewed: catch up (messages, presence, blocks), and send what waits. */
function onConnected() {
  requestSync();
  loadBlocked();
  resendAll();
  invalidate(); // marks the open conversation read if that waited for the connection
}

/** Ends this window's session locally (the caller revokes the refresh token when it should). */
function endSession(message) {
  state.epoch++;
  hub.disconnect();
  forgetSession();
  clearUserData();
  closeConversation();
  clearSearch();
  dom.conversationList.replaceChildren();
  dom.input.value = '';
  refreshComposer();
  renderComposer();
  renderTyping();
  document.title = 'Chat';
  showAuthView();
  if (message) showBanner(message, { kind: 'info', scope: 'session' });
}

async function onLogout() {
  if (!state.session) return;
  if (state.refreshInFlight) await state.refreshInFlight.catch(() => {});
  const refreshToken = state.session?.refreshToken;
  endSession();
  dom.loginForm.elements.username.focus();
  if (refreshToken) {
    // The refresh token is the credential; a failure here only leaves a token that expires on its own.
    postJson('/api/auth/logout', { refreshToken }).catch(() => {});
  }
}

function updateTitle() {
  if (!state.session) return;
  const unread = totalUnread();
  document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
}

function wireEvents() {
  wireAuthForms(signIn);
  onSessionEnded(endSession);
  onRender(renderSidebar);
  onRender(renderSearch);
  onRender(renderConversation);
  onRender(renderTyping);
  onRender(renderComposer);
  onRender(updateTitle);

  hub.on('ReceiveMessage', messageArrived);
  hub.on('MessageSent', messageArrived);
  hub.on('MessagesRead', liveRead);
  hub.on('SyncNeeded', requestSync);
  hub.on('UserOnline', userCameOnline);
  hub.on('UserOffline', userWentOffline);
  hub.on('UserTyping', peerTyping);
  hub.onConnected(onConnected);
  onRejected(messageRejected);

  dom.logout.addEventListener('click', onLogout);
  dom.reconnect.addEventListener('click', hub.reconnectNow);
  dom.bannerClose.addEventListener('click', () => hideBanner());
  dom.banner.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hideBanner();
  });

  dom.searchInput.addEventListener('input', onSearchInput);
  dom.searchInput.addEventListener('keydown', onSearchKeydown);
  dom.searchResults.addEventListener('click', (event) => {
    const id = personClicked(event);
    if (id === null) return;
    clearSearch();
    openConversation(id, { focusInput: true });
  });
  dom.conversationList.addEventListener('click', (event) => {
    const id = personClicked(event);
    if (id !== null) openConversation(id, { focusInput: true });
  });
  for (const list of [dom.searchResults, dom.conversationList]) {
    list.addEventListener('keydown', onPeopleKeydown);
  }
  dom.moreConversations.addEventListener('click', loadMoreConversations);

  dom.blockToggle.addEventListener('click', () => toggleBlock(state.activePeerId));
  dom.loadOlder.addEventListener('click', loadOlder);
  dom.historyRetry.addEventListener('click', retryHistory);
  dom.messages.addEventListener('click', (event) => {
    const clicked = messageAction(event);
    if (clicked?.action === 'retry') retryMessage(clicked.clientMessageId);
    else if (clicked?.action === 'discard') discardMessage(clicked.clientMessageId);
  });
  dom.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (sendFromComposer()) scrollToNewest();
  });
  dom.input.addEventListener('keydown', (event) => {
    if (onComposerKeydown(event)) scrollToNewest();
  });
  dom.input.addEventListener('input', onComposerInput);

  // Back to this window: what the open conversation shows counts as read (the render marks it).
  document.addEventListener('visibilitychange', invalidate);
  window.addEventListener('online', hub.reconnectIfDisconnected);
}

function main() {
  wireEvents();
  refreshComposer();
  if (typeof window.signalR === 'undefined') {
    showAuthView();
    showBanner('The SignalR client (/lib/signalr/signalr.min.js) did not load: build the server with npm available, or reload.');
    return;
  }
  if (restoreSession()) {
    state.epoch++;
    enterChat();
  } else {
    showAuthView();
  }
}

main();
