/** The issuer's page shell: its look, in the one `<style>` of each page. Pages work without JavaScript. */
import { htmlPage, type Html } from '@tessera/shared/node';
import { PAGE_SCRIPT_PATH } from './page-script.js';

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; }
  main { width: min(26rem, 92vw); padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin: 1rem 0 .3rem; font-weight: 600; }
  input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; }
  button { margin-top: 1.2rem; padding: .6rem 1.2rem; font-size: 1rem; cursor: pointer; }
  .error { color: #b00020; font-weight: 600; }
  .muted { color: #888; font-size: .9rem; }
  .row { display: flex; gap: .8rem; }
`;

/**
 * A page of the issuer. Its `<style>` carries the response's CSP nonce (htmlPage), so the policy
 * needs no 'unsafe-inline'; a page that needs more CSS passes it as `style`, a constant of ours,
 * never data. A page with a WebAuthn ceremony loads the issuer's script (`script`), by URL with
 * the nonce too: the forms work without it, the ceremonies need it.
 */
export function page(title: string, body: Html, options: { style?: string; script?: boolean } = {}): string {
  return htmlPage({
    title: `${title} · Tessera`,
    style: STYLE + (options.style ?? ''),
    ...(options.script ? { moduleScript: PAGE_SCRIPT_PATH } : {}),
    body,
  });
}
