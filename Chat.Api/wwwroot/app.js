// Chat's browser client, no framework and no build step: this entry wires the ES modules beside it.
//   api.js           HTTP requests, ProblemDetails errors
//   session.js       tokens: refresh, sessionStorage
//   hub.js           the SignalR connection
//   people.js        who is online, the people list
//   conversation.js  conversations (in memory only: the server stores no messages), the composer
//   auth.js          the log-in and sign-up forms
//   ui.js            the page's elements, shared DOM helpers
//   state.js         everything the client remembers, in one object

import { postJson } from './api.js';
import { wireAuthForms } from './auth.js';
import {
  autosize, onVisibilityChange, openConversation, receiveMessage, sendMessage, updateCharCount,
} from './conversation.js';
import * as hub from './hub.js';
import { onPeopleKeydown, personClicked, pollNow, renderPeople, stopPolling } from './people.js';
import { forgetSession, onSessionEnded, restoreSession, storeSession } from './session.js';
import { clearPeopleAndConversations, state } from './state.js';
import { dom, hideBanner, showAuthView, showBanner, showChatView } from './ui.js';

function signIn(tokens) {
  state.epoch++;
  storeSession(tokens);
  hideBanner();
  enterChat();
  dom.main.focus();
}

function enterChat() {
  showChatView(state.session.user);
  renderPeople();
  hub.connect();
  pollNow();
}

/** Ends this window's session locally (the caller revokes the refresh token when it should). */
function endSession(message) {
  state.epoch++;
  hub.disconnect();
  stopPolling();
  forgetSession();
  clearPeopleAndConversations();
  dom.peopleList.replaceChildren();
  dom.messages.replaceChildren();
  dom.input.value = '';
  updateCharCount();
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

function wireEvents() {
  wireAuthForms(signIn);
  onSessionEnded(endSession);
  hub.on('ReceiveMessage', receiveMessage);

  dom.logout.addEventListener('click', onLogout);
  dom.reconnect.addEventListener('click', hub.reconnectNow);
  dom.bannerClose.addEventListener('click', () => hideBanner());
  dom.banner.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hideBanner();
  });

  dom.peopleList.addEventListener('click', (event) => {
    const id = personClicked(event);
    if (id !== null) openConversation(id, { focusInput: true });
  });
  dom.peopleList.addEventListener('keydown', onPeopleKeydown);

  dom.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendMessage();
  });
  dom.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage();
    }
  });
  dom.input.addEventListener('input', () => {
    autosize();
    updateCharCount();
  });

  document.addEventListener('visibilitychange', onVisibilityChange);
  window.addEventListener('online', hub.reconnectIfDisconnected);
}

function main() {
  wireEvents();
  updateCharCount();
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
