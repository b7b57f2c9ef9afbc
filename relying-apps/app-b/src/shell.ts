/**
 * The page shell: HTML with no inline script or style. Its stylesheet and script are ours
 * ('self') and carry the response's CSP nonce (htmlPage), which nothing injected into the page can
 * know. The browser code fills it in; the ids are what browser tests look for.
 */
import { html, htmlPage } from '@tessera/shared/node';

const BODY = html`<h1>App B</h1>
<p id="status" role="status">Loading…</p>
<p id="notice" hidden></p>
<p id="problem" class="error" role="alert" hidden></p>
<dl id="profile" hidden>
  <dt>Name</dt><dd id="name"></dd>
  <dt>Email</dt><dd id="email"></dd>
  <dt>Subject</dt><dd id="sub"></dd>
</dl>
<button id="fedcm-sign-in" type="button" hidden>Continue with Tessera</button>
<button id="sign-in" type="button" hidden>Sign in</button>
<button id="sign-out" type="button" hidden>Sign out</button>
<noscript><p>App B is a browser app: it needs JavaScript.</p></noscript>`;

/** App B's one page, for the response being built (its nonce). */
export const shell = (): string =>
  htmlPage({ title: 'App B', stylesheet: '/app.css', moduleScript: '/app.js', body: BODY });

export const STYLESHEET = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; }
main { width: min(30rem, 92vw); padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
h1 { font-size: 1.4rem; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
button { margin-top: 1rem; padding: .6rem 1.2rem; font-size: 1rem; cursor: pointer; }
[hidden] { display: none !important; }
.error { color: #b00020; font-weight: 600; }
`;
