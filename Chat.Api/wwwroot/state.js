// Everything the client remembers while the page is open, in one object, grouped by the module that keeps each
// part up to date (the others read it).

export const state = {
  /** Bumped at every sign-in and sign-out: async work started for an older session checks it and stops. */
  epoch: 0,

  // session.js
  /** @type {{accessToken: string, refreshToken: string, expiresAt: number, lifetimeMs: number, user: {id: string, username: string, avatarUrl: string}} | null} */
  session: null,
  /** The refresh that is running: refresh tokens are single-use, so at most one at a time. */
  refreshInFlight: null,

  // hub.js
  hub: {
    connection: null,
    restartTimer: 0,
    restartAttempts: 0,
    renewTimer: 0,
    expiresAt: 0, // when the access token that the current connection was opened with expires
  },

  // people.js
  users: new Map(), // id -> {id, username, avatarUrl}, everyone this window has seen
  online: new Set(), // ids of the users online now, not counting me
  pendingProfiles: new Set(), // ids whose profile is being fetched
  peopleItems: new Map(), // peer id -> its <li> in the people list
  poll: { timer: 0, running: false },

  // conversation.js
  conversations: new Map(), // peer id -> {messages: [{id, direction, text, sentAt}], unread, draft}
  activePeerId: null,
  sending: false,
};

/** Forgets the people and conversations of the session that ended. */
export function clearPeopleAndConversations() {
  state.users.clear();
  state.online.clear();
  state.conversations.clear();
  state.peopleItems.clear();
  state.pendingProfiles.clear();
  state.activePeerId = null;
}
