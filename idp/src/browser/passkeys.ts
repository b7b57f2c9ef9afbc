/**
 * The issuer pages' one script: the WebAuthn ceremonies of the sign-in page (a passkey offered by
 * the browser's autofill on the email field, and by a button), of the factor page (a passkey as the
 * second factor after a password, by a button) and of the account page's "add a passkey" page; and
 * the closing of FedCM's sign-in window (./fedcm-signed-in.ts).
 * Bundled with @simplewebauthn/browser by ../views/page-script.ts and served from the issuer (no
 * inline script: the CSP allows only what carries the page's nonce). The options come
 * from the form's data-options, written by the server with a challenge it stored; the answer goes
 * back in the same form, posted like any other, so the server's redirect is what follows.
 */
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnError,
} from '@simplewebauthn/browser';
import { closeFedcmSignIn } from './fedcm-signed-in.js';

function status(form: HTMLFormElement, text: string): void {
  const line = form.querySelector<HTMLElement>('[data-passkey-status]');
  if (line) line.textContent = text;
}

/** Sends the ceremony's answer with the form, as a person pressing its button would. */
function submitAnswer(form: HTMLFormElement, answer: unknown): void {
  const field = form.querySelector<HTMLInputElement>('input[name="credential"]');
  if (!field) return;
  field.value = JSON.stringify(answer);
  form.submit();
}

/** A person who closed the browser's dialog needs no error; anything else is said plainly. */
function explain(form: HTMLFormElement, error: unknown): void {
  if (error instanceof WebAuthnError && error.code === 'ERROR_CEREMONY_ABORTED') return;
  if (error instanceof Error && error.name === 'NotAllowedError') {
    status(form, 'No passkey was used. You can try again.');
    return;
  }
  status(form, 'Your browser could not use a passkey here.');
}

function setUpSignIn(form: HTMLFormElement): void {
  if (!browserSupportsWebAuthn()) return;
  const optionsJSON = JSON.parse(form.dataset.options ?? '{}');
  const button = form.querySelector<HTMLButtonElement>('button');
  if (button) {
    button.hidden = false;
    button.addEventListener('click', () => {
      // Starting a ceremony aborts the autofill one still waiting (WebAuthnAbortService).
      startAuthentication({ optionsJSON }).then(
        (answer) => submitAnswer(form, answer),
        (error: unknown) => explain(form, error),
      );
    });
  }
  // Conditional mediation: the browser lists the person's passkeys among the email field's
  // suggestions (its autocomplete has "webauthn"); picking one answers this request.
  void browserSupportsWebAuthnAutofill().then((supported) => {
    if (!supported) return;
    startAuthentication({ optionsJSON, useBrowserAutofill: true }).then(
      (answer) => submitAnswer(form, answer),
      () => {}, // aborted by the button's ceremony, or dismissed: the page stays as it is
    );
  });
}

/** The person is known: their passkeys are listed in the options, and the button asks for one of them. */
function setUpFactor(form: HTMLFormElement): void {
  if (!browserSupportsWebAuthn()) {
    status(form, 'This browser cannot use passkeys.');
    return;
  }
  const optionsJSON = JSON.parse(form.dataset.options ?? '{}');
  const button = form.querySelector<HTMLButtonElement>('button');
  if (!button) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    startAuthentication({ optionsJSON }).then(
      (answer) => submitAnswer(form, answer),
      (error: unknown) => explain(form, error),
    );
  });
}

function setUpRegistration(form: HTMLFormElement): void {
  if (!browserSupportsWebAuthn()) {
    status(form, 'This browser cannot create passkeys.');
    return;
  }
  const optionsJSON = JSON.parse(form.dataset.options ?? '{}');
  const button = form.querySelector<HTMLButtonElement>('button');
  if (button) button.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    startRegistration({ optionsJSON }).then(
      (answer) => submitAnswer(form, answer),
      (error: unknown) => explain(form, error),
    );
  });
}

const signIn = document.querySelector<HTMLFormElement>('form[data-passkey-sign-in]');
if (signIn) setUpSignIn(signIn);
const factor = document.querySelector<HTMLFormElement>('form[data-passkey-factor]');
if (factor) setUpFactor(factor);
const registration = document.querySelector<HTMLFormElement>('form[data-passkey-registration]');
if (registration) setUpRegistration(registration);
closeFedcmSignIn();
