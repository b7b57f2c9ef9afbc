/** The page FedCM's sign-in window ends at (docs/architecture.md, "FedCM"). */
import { html } from '@tessera/shared/node';
import { page } from './page.js';

/**
 * "Signed in": the issuer's script (../browser/fedcm-signed-in.ts) tells the browser the person is
 * signed in and closes the window (IdentityProvider.close()), so the app's FedCM dialog goes on.
 * Without the script, or outside a FedCM window, the page says what to do.
 */
export function fedcmSignedInPage(opts: { displayName: string }): string {
  return page(
    'Signed in',
    html`<h1>Signed in</h1>
<p data-fedcm-signed-in>You are signed in as ${opts.displayName}.
You can close this window and go back to the app.</p>`,
    { script: true },
  );
}
