// End-to-end: people chat through the page (Chat.Api/wwwroot) in Debian's Chromium, driven by playwright-core:
// alice and bob live (presence found by name, then kept by UserOnline / UserOffline, "typing…", "last seen"), then
// alice and carol, who is offline when alice writes to her (stored messages, unread badges, read ticks, history with
// "Load older", messages sent from another device), and alice blocking carol.
//
//   CHAT_URL=http://127.0.0.1:5080 node --test Chat.Tests/Browser/
//
// scripts/browser-test.sh publishes and starts the app, then runs this. Environment:
//   CHAT_URL          the running Chat (required)
//   CHAT_SCREENSHOTS  where the screenshots go (default: artifacts/browser in the repository)
//   CHROMIUM_PATH     the browser (default: /usr/bin/chromium, Debian's package `chromium`)
// Every wait has a deadline (WAIT_MS); nothing sleeps for a fixed time.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const WAIT_MS = 10_000;
// Presence__GraceSeconds (the server's default): UserOffline comes this long after the last connection ends.
const GRACE_MS = 5000;
const CHAT_URL = process.env.CHAT_URL;
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOTS = path.resolve(REPO_ROOT, process.env.CHAT_SCREENSHOTS || path.join('artifacts', 'browser'));

// Unique per run, within the 3–32 characters of [A-Za-z0-9_.-] that signup accepts.
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PASSWORD = 'correct horse battery staple';
const alice = { username: `alice_${RUN}`, email: `alice_${RUN}@example.com`, page: null, context: null };
const bob = { username: `bob_${RUN}`, email: `bob_${RUN}@example.com`, page: null, context: null };
const carol = { username: `carol_${RUN}`, email: `carol_${RUN}@example.com`, page: null, context: null };

let browser = null;
let failed = false;
const pageErrors = [];
const onlinePolls = []; // requests of GET /api/users/online (the page no longer polls it)

/** One step of the story: skipped once an earlier step failed, so one failure does not cascade into timeouts. */
function step(name, fn) {
  test(name, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);
const userItem = (page, username) => page.locator(`[data-testid="user-item"][data-username="${username}"]`);
const conversationItem = (page, username) =>
  byTestId(page, 'conversation-list').locator(`[data-testid="user-item"][data-username="${username}"]`);

/** Waits until `predicate(arg)`, run in the page, is true; fails with `what` after `timeout` ms (WAIT_MS). */
async function waitUntil(page, what, predicate, arg, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (error) {
    throw new Error(`timed out after ${timeout / 1000} s waiting until ${what}`, { cause: error });
  }
}

/** What `promise` resolves to; fails with `what` after WAIT_MS. */
async function withDeadline(promise, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitVisible(locator, what) {
  try {
    await locator.waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch (error) {
    throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`, { cause: error });
  }
}

async function waitConnected(user) {
  await waitUntil(user.page, `${user.username}'s status says Connected`, () => {
    const status = document.querySelector('[data-testid="connection-status"]');
    return status && !status.hidden && status.dataset.state === 'connected' && status.textContent.includes('Connected');
  });
}

async function openWindow(user) {
  user.context = await browser.newContext({ viewport: { width: 1100, height: 720 }, locale: 'en-GB' });
  user.page = await user.context.newPage();
  user.page.on('pageerror', (error) => pageErrors.push(`${user.username}: ${error.message}`));
  user.page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/users/online') onlinePolls.push(`${user.username}: ${request.url()}`);
  });
  await user.page.goto(CHAT_URL, { waitUntil: 'domcontentloaded', timeout: WAIT_MS });
  await waitVisible(byTestId(user.page, 'login-form'), `${user.username}'s login form`);
}

async function signUp(user, username = user.username) {
  const page = user.page;
  await byTestId(page, 'tab-signup').click();
  await byTestId(page, 'signup-username').fill(username);
  await byTestId(page, 'signup-email').fill(user.email);
  await byTestId(page, 'signup-password').fill(PASSWORD);
  await byTestId(page, 'signup-submit').click();
}

async function expectSignedIn(user) {
  await waitUntil(user.page, `${user.username} is shown as signed in`,
    (name) => document.querySelector('[data-testid="me-username"]')?.textContent === name, user.username);
  await waitConnected(user);
}

async function waitOnlineWithAvatar(viewer, other) {
  await waitUntil(viewer.page, `${viewer.username} sees ${other.username} online, with an avatar`, (name) => {
    const item = document.querySelector(`[data-testid="user-item"][data-username="${name}"]`);
    const img = item?.querySelector('img[data-testid="avatar"]');
    return item?.dataset.online === 'true' && /^https?:\/\//.test(img?.getAttribute('src') || '');
  }, other.username);
}

/**
 * Finds `other` with the search box (nobody is listed as online without a conversation any more) and waits until the
 * result shows them online, with an avatar. The box is emptied again unless `keep`.
 */
async function findOnlineWithAvatar(viewer, other, { keep = false } = {}) {
  const search = byTestId(viewer.page, 'search-input');
  await search.fill('');
  await search.fill(other.username);
  await waitUntil(viewer.page, `${viewer.username} finds ${other.username} online, with an avatar`, (name) => {
    const item = document.querySelector(`[data-testid="search-result"][data-username="${name}"]`);
    const img = item?.querySelector('img[data-testid="avatar"]');
    return item?.dataset.online === 'true' && /^https?:\/\//.test(img?.getAttribute('src') || '');
  }, other.username);
  if (!keep) await search.fill('');
}

const typingText = (page) => byTestId(page, 'typing-indicator').textContent();

async function messages(page) {
  return page.locator('[data-testid="message"]').evaluateAll((items) => items.map((li) => ({
    direction: li.dataset.direction,
    text: li.querySelector('[data-testid="message-text"]').textContent,
    elementsInBubble: li.querySelector('[data-testid="message-text"]').children.length,
    time: li.querySelector('time')?.textContent || '',
    status: li.querySelector('[data-testid="message-status"]')?.dataset.status || '',
  })));
}

/** Waits until the open conversation shows exactly `expected` ([direction, text, status?] each, oldest first). */
async function waitConversation(page, what, expected) {
  await waitUntil(page, what, (rows) => {
    const items = [...document.querySelectorAll('[data-testid="message"]')];
    return items.length === rows.length && items.every((li, i) => {
      const [direction, text, status] = rows[i];
      return li.dataset.direction === direction
        && li.querySelector('[data-testid="message-text"]').textContent === text
        && (status === undefined || li.querySelector('[data-testid="message-status"]')?.dataset.status === status);
    });
  }, expected);
}

/** The usernames in the conversation list, top to bottom. */
async function conversationOrder(page) {
  return byTestId(page, 'conversation-list').locator('[data-testid="user-item"]')
    .evaluateAll((items) => items.map((li) => li.dataset.username));
}

async function logIn(user) {
  await byTestId(user.page, 'login-username').fill(user.username);
  await byTestId(user.page, 'login-password').fill(PASSWORD);
  await byTestId(user.page, 'login-password').press('Enter');
  await expectSignedIn(user);
}

async function openConversationWith(viewer, other) {
  await conversationItem(viewer.page, other.username).locator('button').click();
  await waitUntil(viewer.page, `${viewer.username}'s conversation with ${other.username} is open`,
    (name) => document.querySelector('[data-testid="conversation-title"]')?.textContent === name, other.username);
}

/**
 * Puts the test between a page and the hub: records the page's Send invocations, can drop the server's receipts
 * for them (the message is stored, the page never hears so) or its ReceiveMessage calls (live delivery missed),
 * call the page as the server would (SyncNeeded), cut the connection, and refuse reconnecting.
 */
const hubTap = {
  sends: [], // the argument of every Send the page invoked
  dropReceipts: false,
  dropLive: null, // (message) => void: set, ReceiveMessage calls go there instead of to the page
  refuse: false, // negotiate fails: the page cannot reconnect
  sockets: [], // [page side, server side] of every hub WebSocket
  /** Calls `target` on the page as the server would, on its newest connection. */
  invoke(target, ...args) {
    const [page] = this.sockets[this.sockets.length - 1];
    page.send(`${JSON.stringify({ type: 1, target, arguments: args })}\x1e`);
  },
  cut() {
    for (const [page, server] of this.sockets.splice(0)) {
      page.close().catch(() => {});
      server.close().catch(() => {});
    }
  },
};
const hubRecords = (frame) => String(frame).split('\x1e').filter(Boolean).map((record) => JSON.parse(record));

async function tapHub(page) {
  await page.route('**/hubs/chat/negotiate**', (route) => (hubTap.refuse ? route.abort() : route.continue()));
  await page.routeWebSocket(/\/hubs\/chat/, (ws) => {
    const server = ws.connectToServer();
    hubTap.sockets.push([ws, server]);
    ws.onMessage((frame) => {
      for (const m of hubRecords(frame)) if (m.type === 1 && m.target === 'Send') hubTap.sends.push(m.arguments[0]);
      server.send(frame);
    });
    server.onMessage((frame) => {
      if (!hubTap.dropReceipts && !hubTap.dropLive) {
        ws.send(frame);
        return;
      }
      const kept = hubRecords(frame).filter((m) => {
        // A completion (type 3) whose result carries a clientMessageId is a Send's receipt.
        if (hubTap.dropReceipts && m.type === 3 && m.result && 'clientMessageId' in m.result) return false;
        if (hubTap.dropLive && m.type === 1 && m.target === 'ReceiveMessage') {
          hubTap.dropLive(m.arguments[0]);
          return false;
        }
        return true;
      });
      if (kept.length) ws.send(kept.map((m) => `${JSON.stringify(m)}\x1e`).join(''));
    });
  });
}

async function screenshot(user, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  await user.page.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
  return file;
}

// Colons (the server splits "receiverId:text" at the first one), markup that must stay text, and non-ASCII.
const FIRST = 'Hi Bob: lunch at 12:30? <b>bring</b> the <img src=x onerror=alert(1)> plan ✓';
const REPLY = 'Yes: 12:30 works.\nSee you there!';
const TO_CAROL = 'Carol, are you free on Friday? Lunch at 12:30 🙂';
const RESENT = 'This one is sent twice, and arrives once';
const MISSED = 'Live delivery lost this one: sync brings it';
const BLOCKED = 'Are you still there? (refused while blocked)';
const FROM_ELSEWHERE = 50; // messages alice sends from "another device": with TO_CAROL, more than one history page (50)

before(async () => {
  if (!CHAT_URL) return;
  assert.ok(existsSync(CHROMIUM_PATH), `no browser at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH)`);
  // Playwright gives every launch a fresh, empty profile (--user-data-dir in a new temp directory). The network
  // flags keep Chromium from calling Google's services, which this machine's closed network refuses.
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  if (failed) {
    // Whatever the windows showed when it went wrong.
    for (const user of [alice, bob, carol]) {
      if (user.page && !user.page.isClosed()) {
        await screenshot(user, `${user.username.split('_')[0]}-failed.png`).catch(() => {});
      }
    }
  }
  await browser?.close();
});

if (!CHAT_URL) {
  test('CHAT_URL is set', () => {
    assert.fail('CHAT_URL is not set: run scripts/browser-test.sh, or start Chat and run '
      + 'CHAT_URL=http://localhost:5080 node --test Chat.Tests/Browser/');
  });
} else {
  step('alice signs up through the page and is connected', async () => {
    await openWindow(alice);
    await signUp(alice);
    await expectSignedIn(alice);
  });

  step('bob is told that alice\'s username is taken (409), then signs up as himself', async () => {
    await openWindow(bob);
    await signUp(bob, alice.username);
    const banner = byTestId(bob.page, 'error-banner');
    await waitVisible(banner, 'the error banner');
    assert.match(await banner.textContent(), /username is already taken/i);
    assert.match(await byTestId(bob.page, 'signup-username-error').textContent(), /already taken/i);
    await byTestId(bob.page, 'error-banner-dismiss').click();
    assert.equal(await banner.isVisible(), false);

    await byTestId(bob.page, 'signup-username').fill(bob.username);
    await byTestId(bob.page, 'signup-submit').click();
    await expectSignedIn(bob);
  });

  step('each sees the other online, with an avatar', async () => {
    await findOnlineWithAvatar(alice, bob);
    await findOnlineWithAvatar(bob, alice);
  });

  step('bob logs out and logs back in with the login form', async () => {
    await byTestId(bob.page, 'logout').click();
    await waitVisible(byTestId(bob.page, 'login-form'), 'the login form after logging out');
    assert.equal(await bob.page.evaluate(() => sessionStorage.length), 0, 'logging out clears the stored tokens');
    await byTestId(bob.page, 'login-username').fill(bob.username);
    await byTestId(bob.page, 'login-password').fill(PASSWORD);
    await byTestId(bob.page, 'login-password').press('Enter');
    await expectSignedIn(bob);
    await findOnlineWithAvatar(alice, bob);
    await findOnlineWithAvatar(bob, alice);
  });

  step('alice opens a conversation with bob and sends a message with colons (Enter sends)', async () => {
    const page = alice.page;
    await findOnlineWithAvatar(alice, bob, { keep: true });
    await page.locator(`[data-testid="search-result"][data-username="${bob.username}"] button`).click();
    await waitUntil(page, 'the conversation with bob is open',
      (name) => document.querySelector('[data-testid="conversation-title"]')?.textContent === name, bob.username);
    const input = byTestId(page, 'message-input');
    assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the message box has the focus');
    assert.equal(await byTestId(page, 'peer-presence').textContent(), 'Online');
    await input.fill(FIRST);
    assert.equal(await byTestId(page, 'char-count').textContent(), `${FIRST.length} / 4096`);
    await input.press('Enter');
    await waitUntil(page, 'alice\'s message is shown as sent (acknowledged by the server)', () => {
      const out = document.querySelectorAll('[data-testid="message"][data-direction="out"]');
      return out.length === 1 && ['sent', 'read'].includes(out[0].dataset.status);
    });
    const [sent] = await messages(page);
    assert.equal(sent.text, FIRST);
    assert.equal(sent.elementsInBubble, 0, 'user text is shown as text, never as markup');
    assert.match(sent.time, /\d/);
    assert.equal(await input.inputValue(), '', 'the box is emptied after sending');
  });

  step('bob gets an unread badge, opens the conversation and reads it', async () => {
    const page = bob.page;
    const badge = userItem(page, alice.username).locator('[data-testid="unread-badge"]');
    await waitVisible(badge, 'the unread badge on alice');
    assert.match(await badge.textContent(), /^1\b/);
    await userItem(page, alice.username).locator('button').click();
    await waitUntil(page, 'alice\'s message is shown to bob', () =>
      document.querySelectorAll('[data-testid="message"][data-direction="in"]').length === 1);
    const [received] = await messages(page);
    assert.deepEqual([received.direction, received.text, received.elementsInBubble], ['in', FIRST, 0]);
    assert.equal(await badge.isVisible(), false, 'opening the conversation clears the badge');
    // Contacts now: each shows in the other's conversation list, online.
    await waitOnlineWithAvatar(bob, alice);
    await waitOnlineWithAvatar(alice, bob);
    assert.equal(await byTestId(page, 'peer-presence').textContent(), 'Online');
  });

  step('bob types: alice sees "bob is typing…", which goes by itself about 3 s after the last keystroke', async () => {
    const page = alice.page;
    const typing = `${bob.username} is typing…`;
    await byTestId(bob.page, 'message-input').pressSequentially('Yes');
    await waitUntil(page, 'alice sees that bob is typing', (text) =>
      document.querySelector('[data-testid="typing-indicator"]')?.textContent === text, typing);
    const seenAt = Date.now();
    assert.equal(await byTestId(page, 'typing-indicator').getAttribute('aria-live'), 'polite');
    assert.equal(await conversationItem(page, bob.username).locator('[data-testid="user-typing"]').isVisible(), true,
      'the conversation list says "typing…" too');
    await screenshot(alice, 'alice-typing.png');
    await waitUntil(page, 'bob\'s "typing…" goes by itself', () =>
      document.querySelector('[data-testid="typing-indicator"]')?.textContent === '', undefined, 3000 + WAIT_MS);
    const shownMs = Date.now() - seenAt;
    assert.ok(shownMs >= 2000, `"typing…" showed for about 3 s after bob's last keystroke (${shownMs} ms)`);
    assert.equal(await conversationItem(page, bob.username).locator('[data-testid="user-typing"]').isVisible(), false);
    assert.equal(await conversationItem(page, bob.username).locator('[data-testid="last-message"]').isVisible(), true,
      'the last message shows again');
    await byTestId(bob.page, 'message-input').fill('');
  });

  step('bob replies (Shift+Enter makes a new line, the button sends) and alice sees it', async () => {
    const input = byTestId(bob.page, 'message-input');
    const [firstLine, secondLine] = REPLY.split('\n');
    await input.fill(firstLine);
    await waitUntil(alice.page, 'alice sees bob typing his reply', (text) =>
      document.querySelector('[data-testid="typing-indicator"]')?.textContent === text, `${bob.username} is typing…`);
    // Records, in alice's page, what the typing line said just before the reply showed, and right as it did.
    await alice.page.evaluate((text) => {
      const typing = document.querySelector('[data-testid="typing-indicator"]');
      const arrived = () => [...document.querySelectorAll('[data-testid="message-text"]')].some((el) => el.textContent === text);
      let before = typing.textContent;
      window.replyArrival = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (arrived()) {
            observer.disconnect();
            resolve({ before, after: typing.textContent });
          } else {
            before = typing.textContent;
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      });
    }, REPLY);
    await input.press('Shift+Enter');
    await input.pressSequentially(secondLine);
    assert.equal(await input.inputValue(), REPLY);
    await byTestId(bob.page, 'send').click();
    await waitUntil(bob.page, 'bob\'s reply is shown as sent (acknowledged by the server)', () => {
      const out = document.querySelectorAll('[data-testid="message"][data-direction="out"]');
      return out.length === 1 && ['sent', 'read'].includes(out[0].dataset.status);
    });

    await waitUntil(alice.page, 'alice sees bob\'s reply', (text) => {
      const items = [...document.querySelectorAll('[data-testid="message"][data-direction="in"]')];
      return items.some((li) => li.querySelector('[data-testid="message-text"]').textContent === text);
    }, REPLY);
    const conversation = await messages(alice.page);
    assert.deepEqual(conversation.map((m) => [m.direction, m.text]), [['out', FIRST], ['in', REPLY]]);
    const arrival = await withDeadline(alice.page.evaluate(() => window.replyArrival), 'the reply in alice\'s page');
    assert.deepEqual(arrival, { before: `${bob.username} is typing…`, after: '' },
      '"typing…" showed until the reply came, and went with it');
  });

  step('screenshots of both windows', async () => {
    await alice.page.locator('[data-testid="message-input"]').fill('Sounds good: see you');
    await screenshot(alice, 'alice.png');
    await screenshot(bob, 'bob.png');
    await alice.page.locator('[data-testid="message-input"]').fill('');
  });

  step('a message over 4096 characters is refused with a visible error', async () => {
    const page = alice.page;
    const input = byTestId(page, 'message-input');
    await input.fill('x'.repeat(4097));
    assert.equal(await byTestId(page, 'char-count').textContent(), '4097 / 4096');
    assert.equal(await byTestId(page, 'char-count').getAttribute('data-over'), 'true');
    await input.press('Enter');
    const banner = byTestId(page, 'error-banner');
    await waitVisible(banner, 'the error banner');
    assert.match(await banner.textContent(), /4097 characters long; the limit is 4096/);
    assert.equal((await messages(page)).length, 2, 'nothing was added to the conversation');
    assert.equal((await input.inputValue()).length, 4097, 'the text stays in the box');
    await byTestId(page, 'error-banner-dismiss').click();
    await input.fill('');
  });

  step('bob closes his window and alice sees him go offline, "last seen just now", within the grace period and a few seconds', async () => {
    const page = alice.page;
    const deadline = Date.now() + GRACE_MS + 5000;
    await bob.context.close();
    await waitUntil(page, 'bob is shown offline in alice\'s conversation list', (name) => {
      const item = document.querySelector(`[data-testid="conversation-list"] [data-testid="user-item"][data-username="${name}"]`);
      return item?.dataset.online === 'false';
    }, bob.username, Math.max(1, deadline - Date.now()));
    await waitUntil(page, 'alice\'s conversation header says when bob was last seen', () =>
      /^Offline · last seen (just now|1 min ago)$/.test(document.querySelector('[data-testid="peer-presence"]').textContent),
    undefined, Math.max(1, deadline - Date.now()));
    assert.match(await byTestId(page, 'peer-presence').textContent(), /offline/i);
    assert.match(await byTestId(page, 'peer-presence').getAttribute('title'), /^Last seen \S/);
    assert.match(await conversationItem(page, bob.username).locator('[data-testid="user-presence"]').textContent(),
      /^last seen (just now|1 min ago)$/);
    assert.equal(await typingText(page), '');
    assert.equal(await byTestId(page, 'connection-status').getAttribute('data-state'), 'connected');
    await screenshot(alice, 'alice-last-seen.png');
  });

  step('carol signs up and logs out: she is offline and has never talked to alice', async () => {
    await openWindow(carol);
    await signUp(carol);
    await expectSignedIn(carol);
    await byTestId(carol.page, 'logout').click();
    await waitVisible(byTestId(carol.page, 'login-form'), 'carol\'s login form after logging out');
    await carol.context.close();
    carol.page = null;
  });

  step('alice finds carol by name and writes to her while she is offline', async () => {
    const page = alice.page;
    const result = page.locator(`[data-testid="search-result"][data-username="${carol.username}"]`);
    // Carol logged out moments ago: for the server she stays online through the grace period (no UserOffline has
    // gone out yet). Search again until the results show her offline: within the grace period and a few seconds.
    const deadline = Date.now() + 15_000;
    for (let shown = ''; shown !== 'false'; ) {
      assert.ok(Date.now() < deadline, 'carol was not shown offline in alice\'s search results within 15 s');
      await byTestId(page, 'search-input').fill('');
      await byTestId(page, 'search-input').fill(carol.username.slice(0, -2));
      await waitVisible(result, 'carol in alice\'s search results');
      await page.waitForTimeout(1000); // the result's presence comes from a request of its own
      shown = await result.getAttribute('data-online');
    }
    await result.locator('button').click();
    await waitUntil(page, 'the conversation with carol is open',
      (name) => document.querySelector('[data-testid="conversation-title"]')?.textContent === name, carol.username);
    assert.equal(await byTestId(page, 'search-input').inputValue(), '', 'picking a result empties the search');
    assert.match(await byTestId(page, 'peer-presence').textContent(), /offline/i);
    await waitUntil(page, 'the empty history is loaded', () =>
      /no messages yet/i.test(document.querySelector('[data-testid="history-status"]')?.textContent || ''));
    assert.equal((await messages(page)).length, 0, 'nothing from the conversation with bob shows here');

    await byTestId(page, 'message-input').fill(TO_CAROL);
    await byTestId(page, 'message-input').press('Enter');
    await waitConversation(page, 'alice\'s message to carol is acknowledged', [['out', TO_CAROL, 'sent']]);
    assert.deepEqual(await conversationOrder(page), [carol.username, bob.username], 'the newest conversation first');
    assert.match(await conversationItem(page, carol.username).locator('[data-testid="last-message"]').textContent(),
      /Carol, are you free on Friday\?/);
  });

  step('carol logs in later: the message waits for her, with an unread badge on alice', async () => {
    await openWindow(carol);
    await logIn(carol);
    // Contacts since alice's message: alice's page hears of it (UserOnline), without asking the server.
    await waitUntil(alice.page, 'alice sees carol come online in her conversation list', (name) =>
      document.querySelector(`[data-testid="conversation-list"] [data-testid="user-item"][data-username="${name}"]`)
        ?.dataset.online === 'true', carol.username);
    await waitUntil(alice.page, 'alice\'s conversation header says carol is online', () =>
      document.querySelector('[data-testid="peer-presence"]').textContent === 'Online');
    const item = conversationItem(carol.page, alice.username);
    const badge = item.locator('[data-testid="unread-badge"]');
    await waitVisible(badge, 'the unread badge on carol\'s conversation with alice');
    assert.match(await badge.textContent(), /^1\b/);
    assert.equal(await item.locator('[data-testid="last-message"]').textContent(), TO_CAROL);
    assert.equal(await carol.page.title(), '(1) Chat');
  });

  step('carol opens the conversation, and alice\'s page shows her message as read', async () => {
    await openConversationWith(carol, alice);
    await waitConversation(carol.page, 'carol sees alice\'s message', [['in', TO_CAROL]]);
    assert.equal(await conversationItem(carol.page, alice.username).locator('[data-testid="unread-badge"]').isVisible(),
      false, 'opening the conversation clears the badge');
    await waitConversation(alice.page, 'alice sees her message to carol as read', [['out', TO_CAROL, 'read']]);
    await waitUntil(carol.page, 'carol\'s title has no unread count', () => document.title === 'Chat');
  });

  step('messages alice sends from another device show in her page (MessageSent) and reach carol live', async () => {
    const texts = Array.from({ length: FROM_ELSEWHERE }, (_, i) => `From my phone #${i + 1}`);
    const carolId = await alice.page.evaluate(
      (name) => document.querySelector(`[data-testid="user-item"][data-username="${name}"]`).dataset.userId, carol.username);
    // A second hub connection of alice's, opened with her token: another device, as far as the server can tell.
    await alice.page.evaluate(async ({ receiverId, texts }) => {
      const { accessToken } = JSON.parse(sessionStorage.getItem('chat.session'));
      const connection = new signalR.HubConnectionBuilder()
        .withUrl('/hubs/chat', { accessTokenFactory: () => accessToken })
        .configureLogging(signalR.LogLevel.Error)
        .build();
      await connection.start();
      try {
        for (const [index, text] of texts.entries()) {
          // The server takes 20 messages at once, then 10 a second: past the burst, keep under that pace.
          if (index >= 18) await new Promise((resolve) => setTimeout(resolve, 110));
          await connection.invoke('Send', { receiverId, text, clientMessageId: crypto.randomUUID() });
        }
      } finally {
        await connection.stop();
      }
    }, { receiverId: carolId, texts });

    const expected = [['out', TO_CAROL, 'read'], ...texts.map((text) => ['out', text])];
    await waitConversation(alice.page, 'alice\'s page shows what her other device sent, in order', expected);
    await waitConversation(carol.page, 'carol gets them live, in order',
      [['in', TO_CAROL], ...texts.map((text) => ['in', text])]);
    // Carol has the conversation open: she reads them as they come, and alice sees that.
    await waitConversation(alice.page, 'alice sees all of them read by carol',
      [['out', TO_CAROL, 'read'], ...texts.map((text) => ['out', text, 'read'])]);
  });

  step('carol reloads: the history comes from the server, the newest 50 first, "Load older" brings the rest', async () => {
    const page = carol.page;
    await page.reload({ waitUntil: 'domcontentloaded', timeout: WAIT_MS });
    await expectSignedIn(carol);
    await waitVisible(conversationItem(page, alice.username), 'carol\'s conversation with alice after the reload');
    assert.equal(await conversationItem(page, alice.username).locator('[data-testid="unread-badge"]').isVisible(), false,
      'everything was read before the reload');
    await openConversationWith(carol, alice);
    const texts = Array.from({ length: FROM_ELSEWHERE }, (_, i) => `From my phone #${i + 1}`);
    await waitConversation(page, 'the newest 50 messages', texts.map((text) => ['in', text]));
    const loadOlder = byTestId(page, 'load-older');
    await waitVisible(loadOlder, 'the "Load older messages" button');
    await loadOlder.click();
    await waitConversation(page, 'the whole conversation after "Load older"',
      [['in', TO_CAROL], ...texts.map((text) => ['in', text])]);
    assert.equal(await loadOlder.isVisible(), false, 'nothing older is left to load');
    assert.match(await byTestId(page, 'history-status').textContent(), /beginning of the conversation/i);
  });

  step('alice reloads: her conversations (newest first) and their history come from the server', async () => {
    const page = alice.page;
    await tapHub(page); // for the next step: the reload opens a new hub connection, through the tap
    await page.reload({ waitUntil: 'domcontentloaded', timeout: WAIT_MS });
    await expectSignedIn(alice);
    await waitUntil(page, 'alice\'s conversation list is loaded', (names) => {
      const items = [...document.querySelectorAll('[data-testid="conversation-list"] [data-testid="user-item"]')];
      return items.map((li) => li.dataset.username).join() === names.join();
    }, [carol.username, bob.username]);
    await openConversationWith(alice, bob);
    // Bob read alice's message (he opened the conversation) before he answered.
    await waitConversation(page, 'the conversation with bob, with alice\'s message read', [['out', FIRST, 'read'], ['in', REPLY]]);
    await screenshot(alice, 'alice-history.png');
    await screenshot(carol, 'carol.png');
  });

  step('a message that live delivery missed comes with the sync that SyncNeeded starts, with its unread badge', async () => {
    const page = alice.page;
    // Alice has the conversation with bob open: carol's message counts as unread.
    const dropped = new Promise((resolve) => {
      hubTap.dropLive = resolve;
    });
    await openConversationWith(carol, alice);
    await byTestId(carol.page, 'message-input').fill(MISSED);
    await byTestId(carol.page, 'message-input').press('Enter');
    const missed = await withDeadline(dropped, 'the server\'s ReceiveMessage call to alice');
    hubTap.dropLive = null;
    assert.equal(missed.text, MISSED);
    assert.notEqual(await conversationItem(page, carol.username).locator('[data-testid="last-message"]').textContent(),
      MISSED, 'alice\'s page did not get it live');

    hubTap.invoke('SyncNeeded');
    const badge = conversationItem(page, carol.username).locator('[data-testid="unread-badge"]');
    await waitVisible(badge, 'the unread badge on alice\'s conversation with carol');
    assert.match(await badge.textContent(), /^1\b/);
    assert.equal(await conversationItem(page, carol.username).locator('[data-testid="last-message"]').textContent(), MISSED);
    assert.deepEqual(await conversationOrder(page), [carol.username, bob.username]);
    assert.equal(await page.title(), '(1) Chat');
  });

  step('a message whose receipt was lost is sent again after the reconnect, with the same clientMessageId, and arrives once', async () => {
    const page = alice.page;
    const lastStatus = () => page.evaluate(() => document.querySelector('[data-testid="message"]:last-child').dataset.status);
    await openConversationWith(alice, carol);
    await waitUntil(page, 'the history with carol is loaded, the message that sync brought last', (text) => {
      const items = document.querySelectorAll('[data-testid="message"]');
      return items.length === 50 && items[49].querySelector('[data-testid="message-text"]').textContent === text;
    }, MISSED);
    assert.equal(await conversationItem(page, carol.username).locator('[data-testid="unread-badge"]').isVisible(), false,
      'opening the conversation clears the badge');
    await waitConversation(carol.page, 'carol sees her message read by alice', [
      ['in', TO_CAROL], ...Array.from({ length: FROM_ELSEWHERE }, (_, i) => ['in', `From my phone #${i + 1}`]),
      ['out', MISSED, 'read']]);

    hubTap.dropReceipts = true;
    await byTestId(page, 'message-input').fill(RESENT);
    await byTestId(page, 'message-input').press('Enter');
    await waitUntil(carol.page, 'carol gets the message (so the server stored it)', (text) =>
      [...document.querySelectorAll('[data-testid="message-text"]')].some((el) => el.textContent === text), RESENT);
    assert.equal(await lastStatus(), 'pending', 'no receipt: still pending');

    hubTap.refuse = true;
    hubTap.dropReceipts = false;
    hubTap.cut();
    await waitUntil(page, 'alice\'s status says the connection is lost', () =>
      document.querySelector('[data-testid="connection-status"]').dataset.state !== 'connected');
    assert.equal(await lastStatus(), 'pending', 'still pending while disconnected');

    hubTap.refuse = false;
    await waitConnected(alice);
    await waitUntil(page, 'the message is acknowledged after the reconnect', () =>
      ['sent', 'read'].includes(document.querySelector('[data-testid="message"]:last-child')?.dataset.status));
    const sends = hubTap.sends.filter((m) => m.text === RESENT);
    assert.equal(sends.length, 2, 'sent once, and once more after the reconnect');
    assert.match(sends[0].clientMessageId, /^[0-9a-f-]{36}$/);
    assert.equal(sends[1].clientMessageId, sends[0].clientMessageId, 'the same clientMessageId both times');

    // Carol has the conversation open: she reads it, and alice sees that.
    await waitUntil(page, 'alice sees it read', () =>
      document.querySelector('[data-testid="message"]:last-child')?.dataset.status === 'read');
    for (const user of [alice, carol]) {
      const texts = (await messages(user.page)).map((m) => m.text);
      assert.equal(texts.filter((text) => text === RESENT).length, 1, `${user.username} shows it once`);
      assert.equal(texts[texts.length - 1], RESENT);
    }
  });

  step('messages the server refuses (over the rate limit) are marked "Not sent", with the reason shown', async () => {
    const page = alice.page;
    await openConversationWith(alice, bob);
    // 30 messages at once: more than the server's burst of 20.
    await page.evaluate(() => {
      const input = document.querySelector('[data-testid="message-input"]');
      for (let i = 1; i <= 30; i++) {
        input.value = `Quick one #${i}`;
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      }
    });
    await waitUntil(page, 'every quick message is answered (acknowledged or refused)', () => {
      const quick = [...document.querySelectorAll('[data-testid="message"]')]
        .filter((li) => li.querySelector('[data-testid="message-text"]').textContent.startsWith('Quick one #'));
      return quick.length === 30 && quick.every((li) => ['sent', 'read', 'failed'].includes(li.dataset.status));
    });
    const quick = (await messages(page)).filter((m) => m.text.startsWith('Quick one #'));
    const failed = quick.filter((m) => m.status === 'failed');
    assert.ok(failed.length > 0 && failed.length < 30, `some were refused (${failed.length} of 30)`);
    await waitVisible(byTestId(page, 'error-banner'), 'the error banner');
    assert.match(await byTestId(page, 'error-banner').textContent(), /Not sent: .*rate limit/i);

    // Delete takes a refused message away; the others stay, marked.
    const refused = page.locator('[data-testid="message"][data-status="failed"]');
    await refused.first().locator('[data-testid="message-discard"]').click();
    await waitUntil(page, 'one refused message fewer', (count) =>
      document.querySelectorAll('[data-testid="message"][data-status="failed"]').length === count, failed.length - 1);
    await byTestId(page, 'error-banner-dismiss').click();
  });

  step('alice blocks carol: her composer says so, carol\'s send is refused with the block error; unblocking lets it through', async () => {
    const page = alice.page;
    const toggle = byTestId(page, 'block-toggle');
    await openConversationWith(alice, carol);
    assert.equal(await toggle.textContent(), 'Block');
    assert.equal(await toggle.getAttribute('aria-label'), `Block ${carol.username}`);
    await toggle.click();
    await waitUntil(page, 'the button says Unblock', () => {
      const button = document.querySelector('[data-testid="block-toggle"]');
      return button.textContent === 'Unblock' && !button.disabled;
    });
    const notice = byTestId(page, 'composer-blocked');
    await waitVisible(notice, 'the composer\'s "blocked" notice');
    assert.match(await notice.textContent(), new RegExp(`^You blocked ${carol.username}: neither of you can send`));
    assert.equal(await byTestId(page, 'message-input').isDisabled(), true, 'the box is off while blocked');
    assert.equal(await byTestId(page, 'send').isDisabled(), true);
    assert.match(await byTestId(page, 'peer-presence').textContent(), /blocked/i);

    // Carol has the conversation with alice open.
    await byTestId(carol.page, 'message-input').fill(BLOCKED);
    await byTestId(carol.page, 'message-input').press('Enter');
    await waitUntil(carol.page, 'carol\'s message is marked "Not sent"', (text) => {
      const last = document.querySelector('[data-testid="message"]:last-child');
      return last?.dataset.status === 'failed' && last.querySelector('[data-testid="message-text"]').textContent === text;
    }, BLOCKED);
    const banner = byTestId(carol.page, 'error-banner');
    await waitVisible(banner, 'carol\'s error banner');
    const refusal = `Not sent: ${alice.username} does not accept messages from ${carol.username}: the message was not stored.`;
    const shown = await banner.textContent();
    assert.ok(shown.includes(refusal), `carol's banner says "${refusal}" (it says "${shown}")`);
    await screenshot(alice, 'alice-blocked.png');
    await screenshot(carol, 'carol-blocked.png');
    assert.equal((await messages(page)).some((m) => m.text === BLOCKED), false, 'the refused message never reached alice');

    await toggle.click();
    await waitUntil(page, 'unblocked: the button says Block, the box is on, carol\'s presence is back', () =>
      document.querySelector('[data-testid="block-toggle"]').textContent === 'Block'
      && !document.querySelector('[data-testid="message-input"]').disabled
      && document.querySelector('[data-testid="composer-blocked"]').hidden
      && document.querySelector('[data-testid="peer-presence"]').textContent === 'Online');
    await byTestId(carol.page, 'error-banner-dismiss').click();
    await carol.page.locator('[data-testid="message"][data-status="failed"] [data-testid="message-retry"]').click();
    await waitUntil(carol.page, 'carol\'s message is sent after the unblock', (text) => {
      const last = document.querySelector('[data-testid="message"]:last-child');
      return ['sent', 'read'].includes(last?.dataset.status) && last.querySelector('[data-testid="message-text"]').textContent === text;
    }, BLOCKED);
    await waitUntil(page, 'alice gets it', (text) => {
      const items = [...document.querySelectorAll('[data-testid="message"][data-direction="in"] [data-testid="message-text"]')];
      return items.length > 0 && items[items.length - 1].textContent === text;
    }, BLOCKED);
  });

  step('no page polled GET /api/users/online', () => {
    assert.deepEqual(onlinePolls, []);
  });

  step('no uncaught errors in any page', () => {
    assert.deepEqual(pageErrors, []);
  });

  // Last, as it reloads alice's page once more: the blocks a page shows come from the server when it starts.
  step('a block shows after a reload (GET /api/users/blocked), the history stays readable; unblocking ends it', async () => {
    const page = alice.page;
    const toggle = byTestId(page, 'block-toggle');
    await openConversationWith(alice, carol);
    await toggle.click();
    await waitUntil(page, 'the button says Unblock', () => {
      const button = document.querySelector('[data-testid="block-toggle"]');
      return button.textContent === 'Unblock' && !button.disabled;
    });
    await page.reload({ waitUntil: 'domcontentloaded', timeout: WAIT_MS });
    await expectSignedIn(alice);
    await openConversationWith(alice, carol);
    await waitUntil(page, 'after the reload, the conversation with carol shows as blocked, with its history', (text) => {
      const items = [...document.querySelectorAll('[data-testid="message-text"]')];
      return document.querySelector('[data-testid="block-toggle"]').textContent === 'Unblock'
        && !document.querySelector('[data-testid="composer-blocked"]').hidden
        && document.querySelector('[data-testid="message-input"]').disabled
        && items.length > 0 && items[items.length - 1].textContent === text;
    }, BLOCKED);
    await toggle.click();
    await waitUntil(page, 'unblocked again', () =>
      document.querySelector('[data-testid="block-toggle"]').textContent === 'Block'
      && !document.querySelector('[data-testid="message-input"]').disabled);
    assert.deepEqual(pageErrors, []);
  });
}
