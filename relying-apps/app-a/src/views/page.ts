/** App A's page shell: its stylesheet, and the page every route renders. Pages work without JavaScript. */
import { html, htmlPage, raw, type Html } from '@tessera/shared/node';

/** The stylesheet, served from `/styles.css` so the CSP needs no 'unsafe-inline'. */
export const STYLESHEET = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; }
main { width: min(30rem, 92vw); padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
h1 { font-size: 1.4rem; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
a.button, button { display: inline-block; margin-top: 1rem; padding: .6rem 1.2rem; font-size: 1rem; cursor: pointer; }
.error { color: #b00020; font-weight: 600; }
.muted { color: #888; font-size: .9rem; }
`;

/**
 * A page of app A. Its stylesheet is same-origin ('self') and carries the response's CSP nonce
 * too (htmlPage), so the policy names one rule for every server of Tessera: markup of ours carries
 * the nonce, anything injected does not. A page that offers signing in loads the FedCM script
 * (`withFedCm`), same-origin and nonced as well; the others run no script.
 */
export function page(title: string, body: Html, options: { withFedCm?: boolean } = {}): string {
  return htmlPage({
    title: `${title} · App A`,
    stylesheet: '/styles.css',
    ...(options.withFedCm ? { moduleScript: '/fedcm.js' } : {}),
    body,
  });
}

/**
 * The FedCM button (fedcm-script.ts shows it where the browser has FedCM). `passive`: the page asks
 * on load too; `signedOut`: the person just signed out, so the browser must not sign them back in.
 */
export function fedcmButton(mode: { passive?: boolean; signedOut?: boolean } = {}): Html {
  return html`<button id="fedcm-sign-in" type="button" hidden${mode.passive ? raw(' data-passive') : ''}${
    mode.signedOut ? raw(' data-signed-out') : ''
  }>Continue with Tessera</button>`;
}
