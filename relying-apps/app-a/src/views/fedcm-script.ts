/**
 * The one script of app A's pages, served from `/fedcm.js` (same origin, with the page's CSP nonce):
 * signing in through FedCM where the browser has it. The pages work without it: their "Sign in"
 * link starts the redirect flow (`/login`), and the "Continue with Tessera" button stays hidden.
 *
 * - The button (`#fedcm-sign-in`) asks in active mode (`mode: 'active'`, on the click: the browser
 *   may open the issuer's sign-in pop-up when the person is signed out there). Any failure — no
 *   FedCM, a refusal, a closed dialog — goes on with `/login`, which always works.
 * - A page whose button has `data-passive` (the signed-out home page) asks once on load in passive
 *   mode with `mediation: 'optional'`: a returning visitor is signed in again by the browser's own
 *   prompt (auto re-authentication). A failure there changes nothing: the page stays as it is.
 * - A page whose button has `data-signed-out` (just back from signing out) calls
 *   `preventSilentAccess()` instead, so the browser does not sign the person straight back in.
 *
 * Plain JavaScript in a string: app A has no bundler, and this is small enough to read whole.
 */
export const FEDCM_SCRIPT = `// App A: signing in through FedCM (see relying-apps/app-a/src/views/fedcm-script.ts).
const button = document.getElementById('fedcm-sign-in');

async function start(signal) {
  const response = await fetch('/fedcm/start', { headers: { accept: 'application/json' }, signal });
  if (!response.ok) throw new Error('fedcm start: HTTP ' + response.status);
  return response.json();
}

async function complete(token) {
  const response = await fetch('/fedcm/complete', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token }),
    // The Origin header is what /fedcm/complete checks: sent in full to our own origin only.
    referrerPolicy: 'same-origin',
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error('fedcm complete: ' + (answer.error || response.status));
  // Only a path of ours: never another site.
  const own = typeof answer.location === 'string' && /^\\/(?![/\\\\])/.test(answer.location);
  location.assign(own ? answer.location : '/');
}

async function signIn(options, signal) {
  const provider = await start(signal);
  const credential = await navigator.credentials.get({
    identity: { providers: [provider], ...(options.mode ? { mode: options.mode } : {}) },
    ...(options.mediation ? { mediation: options.mediation } : {}),
    signal,
  });
  if (!credential || credential.type !== 'identity' || typeof credential.token !== 'string') {
    throw new Error('fedcm: no identity credential');
  }
  await complete(credential.token);
}

if (button && 'IdentityCredential' in window && navigator.credentials) {
  let passive;
  button.hidden = false;
  button.addEventListener('click', () => {
    // One FedCM request at a time: the passive one gives way to the person's own click.
    passive?.abort();
    button.disabled = true;
    signIn({ mode: 'active' }).catch((error) => {
      console.info('app-a: FedCM sign-in did not complete, using the redirect flow', error);
      location.assign('/login');
    });
  });
  if (button.dataset.signedOut !== undefined) {
    navigator.credentials.preventSilentAccess?.().catch(() => {});
  } else if (button.dataset.passive !== undefined) {
    passive = new AbortController();
    signIn({ mediation: 'optional' }, passive.signal).catch((error) => {
      console.info('app-a: no passive FedCM sign-in', error);
    });
  }
}
`;
