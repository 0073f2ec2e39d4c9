// End-to-end: two people chat through the page (Chat.Api/wwwroot) in Debian's Chromium, driven by playwright-core.
//
//   CHAT_URL=http://127.0.0.1:5080 node --test Chat.Tests/Browser/
//
// scripts/browser-test.sh publishes and starts the app, then runs this. Environment:
//   CHAT_URL          the running Chat (required)
//   CHAT_SCREENSHOTS  where alice.png and bob.png go (default: artifacts/browser in the repository)
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
const CHAT_URL = process.env.CHAT_URL;
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOTS = path.resolve(REPO_ROOT, process.env.CHAT_SCREENSHOTS || path.join('artifacts', 'browser'));

// Unique per run, within the 3–32 characters of [A-Za-z0-9_.-] that signup accepts.
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PASSWORD = 'correct horse battery staple';
const alice = { username: `alice_${RUN}`, email: `alice_${RUN}@example.com`, page: null, context: null };
const bob = { username: `bob_${RUN}`, email: `bob_${RUN}@example.com`, page: null, context: null };

let browser = null;
let failed = false;
const pageErrors = [];

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

/** Waits until `predicate(arg)`, run in the page, is true; fails with `what` after WAIT_MS. */
async function waitUntil(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: WAIT_MS, polling: 100 });
  } catch (error) {
    throw new Error(`timed out after ${WAIT_MS / 1000} s waiting until ${what}`, { cause: error });
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

async function messages(page) {
  return page.locator('[data-testid="message"]').evaluateAll((items) => items.map((li) => ({
    direction: li.dataset.direction,
    text: li.querySelector('[data-testid="message-text"]').textContent,
    elementsInBubble: li.querySelector('[data-testid="message-text"]').children.length,
    time: li.querySelector('time')?.textContent || '',
  })));
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
    for (const user of [alice, bob]) {
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
    await waitOnlineWithAvatar(alice, bob);
    await waitOnlineWithAvatar(bob, alice);
  });

  step('bob logs out and logs back in with the login form', async () => {
    await byTestId(bob.page, 'logout').click();
    await waitVisible(byTestId(bob.page, 'login-form'), 'the login form after logging out');
    assert.equal(await bob.page.evaluate(() => sessionStorage.length), 0, 'logging out clears the stored tokens');
    await byTestId(bob.page, 'login-username').fill(bob.username);
    await byTestId(bob.page, 'login-password').fill(PASSWORD);
    await byTestId(bob.page, 'login-password').press('Enter');
    await expectSignedIn(bob);
    await waitOnlineWithAvatar(alice, bob);
    await waitOnlineWithAvatar(bob, alice);
  });

  step('alice opens a conversation with bob and sends a message with colons (Enter sends)', async () => {
    const page = alice.page;
    await userItem(page, bob.username).locator('button').click();
    await waitUntil(page, 'the conversation with bob is open',
      (name) => document.querySelector('[data-testid="conversation-title"]')?.textContent === name, bob.username);
    const input = byTestId(page, 'message-input');
    assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the message box has the focus');
    await input.fill(FIRST);
    assert.equal(await byTestId(page, 'char-count').textContent(), `${FIRST.length} / 4096`);
    await input.press('Enter');
    await waitUntil(page, 'alice\'s message is shown as sent', () =>
      document.querySelectorAll('[data-testid="message"][data-direction="out"]').length === 1);
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
  });

  step('bob replies (Shift+Enter makes a new line, the button sends) and alice sees it', async () => {
    const input = byTestId(bob.page, 'message-input');
    const [firstLine, secondLine] = REPLY.split('\n');
    await input.fill(firstLine);
    await input.press('Shift+Enter');
    await input.pressSequentially(secondLine);
    assert.equal(await input.inputValue(), REPLY);
    await byTestId(bob.page, 'send').click();
    await waitUntil(bob.page, 'bob\'s reply is shown as sent', () =>
      document.querySelectorAll('[data-testid="message"][data-direction="out"]').length === 1);

    await waitUntil(alice.page, 'alice sees bob\'s reply', (text) => {
      const items = [...document.querySelectorAll('[data-testid="message"][data-direction="in"]')];
      return items.some((li) => li.querySelector('[data-testid="message-text"]').textContent === text);
    }, REPLY);
    const conversation = await messages(alice.page);
    assert.deepEqual(conversation.map((m) => [m.direction, m.text]), [['out', FIRST], ['in', REPLY]]);
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

  step('bob closes his window and alice sees him go offline', async () => {
    await bob.context.close();
    await waitUntil(alice.page, 'bob is shown offline (or gone) in alice\'s list', (name) => {
      const item = document.querySelector(`[data-testid="user-item"][data-username="${name}"]`);
      return !item || item.dataset.online === 'false';
    }, bob.username);
    assert.match(await byTestId(alice.page, 'peer-presence').textContent(), /offline/i);
    assert.equal(await byTestId(alice.page, 'connection-status').getAttribute('data-state'), 'connected');
  });

  step('no uncaught errors in either page', () => {
    assert.deepEqual(pageErrors, []);
  });
}
