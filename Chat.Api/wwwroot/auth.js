// The log-in and sign-up forms, and their tabs.

import { ApiError, describe, request } from './api.js';
import { dom, selectTab, showBanner } from './ui.js';

/** Wires the forms; `signIn(tokens)` takes over once the server hands out tokens. */
export function wireAuthForms(signIn) {
  dom.loginForm.addEventListener('submit', (event) => onLogin(event, signIn));
  dom.signupForm.addEventListener('submit', (event) => onSignup(event, signIn));
  dom.tabLogin.addEventListener('click', () => selectTab('login'));
  dom.tabSignup.addEventListener('click', () => selectTab('signup'));
  for (const tab of [dom.tabLogin, dom.tabSignup]) {
    tab.addEventListener('keydown', (event) => {
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
      event.preventDefault();
      const other = tab === dom.tabLogin ? dom.tabSignup : dom.tabLogin;
      const target = event.key === 'Home' ? dom.tabLogin : event.key === 'End' ? dom.tabSignup : other;
      selectTab(target === dom.tabLogin ? 'login' : 'signup');
      target.focus();
    });
  }
}

const logIn = (username, password) =>
  request('/api/auth/login', { method: 'POST', body: { username, password } });

async function onLogin(event, signIn) {
  event.preventDefault();
  const form = dom.loginForm;
  clearFieldErrors(form);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!username) missing.username = ['Enter your username or email.'];
  if (!password) missing.password = ['Enter your password.'];
  if (showFieldErrors(form, 'login', missing)) return;

  await withBusy(form, async () => {
    try {
      const tokens = await logIn(username, password);
      form.reset();
      signIn(tokens);
    } catch (error) {
      showFormError(form, 'login', error);
    }
  });
}

async function onSignup(event, signIn) {
  event.preventDefault();
  const form = dom.signupForm;
  clearFieldErrors(form);
  const username = form.elements.username.value.trim();
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;

  await withBusy(form, async () => {
    try {
      await request('/api/auth/signup', { method: 'POST', body: { username, email, password } });
    } catch (error) {
      showFormError(form, 'signup', error);
      return;
    }
    try {
      const tokens = await logIn(username, password);
      form.reset();
      signIn(tokens);
    } catch (error) {
      // The account exists: send the person to the login form with their username filled in.
      form.reset();
      selectTab('login');
      dom.loginForm.elements.username.value = username;
      dom.loginForm.elements.password.focus();
      showBanner(`Your account was created, but logging in failed: ${describe(error)}`, { scope: 'auth' });
    }
  });
}

function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
}

/** Puts each `errors` entry of a validation problem under its field; returns whether any field matched. */
function showFieldErrors(form, prefix, errors) {
  let first = null;
  for (const [field, messages] of Object.entries(errors || {})) {
    const input = form.querySelector(`#${prefix}-${CSS.escape(field)}`);
    const slot = form.querySelector(`#${prefix}-${CSS.escape(field)}-error`);
    if (!input || !slot) continue;
    input.setAttribute('aria-invalid', 'true');
    slot.textContent = [].concat(messages).join(' ');
    first ??= input;
  }
  first?.focus();
  return first !== null;
}

function showFormError(form, prefix, error) {
  if (error instanceof ApiError && error.status === 400 && error.problem.errors) {
    const matched = showFieldErrors(form, prefix, error.problem.errors);
    const extra = matched ? '' : ` ${Object.values(error.problem.errors).flat().join(' ')}`;
    showBanner(`Please correct the highlighted fields.${extra}`, { scope: 'auth' });
    return;
  }
  if (error instanceof ApiError && error.status === 409) {
    const field = error.problem.field || (/email/i.test(error.problem.title || '') ? 'email' : 'username');
    showFieldErrors(form, prefix, { [field]: [error.problem.title || 'Already taken.'] });
  }
  showBanner(describe(error), { scope: 'auth' });
}

/** Runs `work` with the form's submit button disabled; a second submit meanwhile is ignored. */
async function withBusy(form, work) {
  const button = form.querySelector('button[type="submit"]');
  if (button.disabled) return;
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}
