// Finding people by name (GET /api/users/search, as the person types, debounced): the way to start a conversation
// with someone, online or not. Each result shows its presence (read with its profile, people.js). A result opens
// the conversation (app.js listens on the list).

import { describe } from './api.js';
import { refreshPresence, rememberUser } from './people.js';
import { authorizedJson } from './session.js';
import { state } from './state.js';
import { createPersonItem, updatePersonItem } from './sidebar.js';
import { dom, invalidate } from './ui.js';

const DEBOUNCE_MS = 250;
const MIN_LENGTH = 2;
const MAX_LENGTH = 32; // the server's limit, the longest username
const RESULTS = 10;

const items = new Map(); // user id -> its <li> in the results

/** The search box changed: search once the typing pauses. */
export function onSearchInput() {
  const search = state.search;
  window.clearTimeout(search.timer);
  search.seq++; // an answer for an older query is dropped
  search.query = dom.searchInput.value.trim();
  search.results = null;
  search.error = '';
  search.busy = search.query.length >= MIN_LENGTH;
  if (search.busy) search.timer = window.setTimeout(runSearch, DEBOUNCE_MS);
  invalidate();
}

async function runSearch() {
  const search = state.search;
  const mySeq = search.seq;
  const myEpoch = state.epoch;
  const query = search.query.slice(0, MAX_LENGTH);
  try {
    const found = await authorizedJson(`/api/users/search?q=${encodeURIComponent(query)}&limit=${RESULTS}`);
    if (myEpoch !== state.epoch || mySeq !== state.search.seq) return;
    search.results = Array.isArray(found) ? found.filter((u) => u && typeof u.id === 'string') : [];
    search.results.forEach(rememberUser);
    refreshPresence(search.results.map((user) => user.id));
  } catch (error) {
    if (myEpoch !== state.epoch || mySeq !== state.search.seq) return;
    search.error = `Search failed: ${describe(error)}`;
  } finally {
    if (myEpoch === state.epoch && mySeq === state.search.seq) {
      search.busy = false;
      invalidate();
    }
  }
}

/** Empties the box and the results (a result was picked, Escape, signing out). */
export function clearSearch() {
  dom.searchInput.value = '';
  onSearchInput();
}

export function onSearchKeydown(event) {
  if (event.key === 'Escape' && dom.searchInput.value) {
    event.preventDefault();
    clearSearch();
  } else if (event.key === 'ArrowDown') {
    const first = dom.searchResults.querySelector('button.person');
    if (first) {
      event.preventDefault();
      first.focus();
    }
  }
}

function statusText(search) {
  if (!search.query) return '';
  if (search.query.length < MIN_LENGTH) return `Type at least ${MIN_LENGTH} characters.`;
  if (search.error) return search.error;
  if (search.busy || !search.results) return 'Searching…';
  if (!search.results.length) return `Nobody's username starts with “${search.query}”.`;
  return search.results.length === 1 ? '1 person found.' : `${search.results.length} people found.`;
}

export function renderSearch() {
  const search = state.search;
  const text = statusText(search);
  if (dom.searchStatus.textContent !== text) dom.searchStatus.textContent = text;
  dom.searchStatus.hidden = !text;

  const results = search.results || [];
  const wanted = new Set(results.map((u) => u.id));
  for (const [id, li] of items) {
    if (!wanted.has(id)) {
      li.remove();
      items.delete(id);
    }
  }
  results.forEach((user, index) => {
    let li = items.get(user.id);
    if (!li) {
      li = createPersonItem('search-result');
      items.set(user.id, li);
    }
    updatePersonItem(li, user.id);
    if (dom.searchResults.children[index] !== li) dom.searchResults.insertBefore(li, dom.searchResults.children[index] || null);
  });
  dom.searchResults.hidden = results.length === 0;
}
