/**
 * What the page shows. Text goes in with textContent only, never innerHTML: names and emails come
 * from tokens and are data, not markup. The ids are what browser tests look for.
 */
import type { Me } from './api.js';

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
};

const show = (id: string, text?: string) => {
  const el = element(id);
  if (text !== undefined) el.textContent = text;
  el.hidden = false;
};
const hide = (id: string) => {
  element(id).hidden = true;
};

/** Whether the browser has FedCM: the "Continue with Tessera" button is shown only then. */
let fedcmOffered = false;

export function offerFedCm(offered: boolean): void {
  fedcmOffered = offered;
}

export function showWorking(text: string): void {
  element('status').textContent = text;
  for (const id of ['profile', 'fedcm-sign-in', 'sign-in', 'sign-out', 'problem']) hide(id);
}

export function showSignedIn(me: Me): void {
  element('status').textContent = `Signed in as ${me.name ?? me.sub} (${me.email ?? 'no email'})`;
  element('name').textContent = me.name ?? '';
  element('email').textContent = me.email ?? '';
  element('sub').textContent = me.sub;
  show('profile');
  show('sign-out');
  hide('fedcm-sign-in');
  hide('sign-in');
  hide('problem');
  hide('notice');
}

export function showSignedOut(options: { notice?: string; problem?: string } = {}): void {
  element('status').textContent = 'Signed out';
  hide('profile');
  hide('sign-out');
  if (fedcmOffered) show('fedcm-sign-in');
  else hide('fedcm-sign-in');
  show('sign-in');
  if (options.notice !== undefined) show('notice', options.notice);
  else hide('notice');
  if (options.problem !== undefined) show('problem', options.problem);
  else hide('problem');
}

export function onSignIn(handler: () => void): void {
  element('sign-in').addEventListener('click', handler);
}

export function onFedCmSignIn(handler: () => void): void {
  element('fedcm-sign-in').addEventListener('click', handler);
}

export function onSignOut(handler: () => void): void {
  element('sign-out').addEventListener('click', handler);
}
