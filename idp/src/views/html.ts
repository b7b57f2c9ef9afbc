/** Server-rendered HTML: every interpolated value is escaped; pages work without JavaScript. */
import { cspNonce } from '@tessera/shared/node';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A fragment of trusted HTML (already escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = string | number | Html | undefined | null | false | Value[];

function render(v: Value): string {
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (v instanceof Html) return v.value;
  return escapeHtml(String(v));
}

/** Tagged template that escapes everything but nested `html` fragments. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

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
 * The page shell shared by every issuer page. Its one `<style>` carries the response's CSP nonce
 * (http/security-headers.ts), so the policy needs no 'unsafe-inline'; a page that needs more CSS
 * passes it as `style`, a constant of ours, never data.
 */
export function page(title: string, body: Html, options: { style?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Tessera</title>
<style nonce="${escapeHtml(cspNonce())}">${STYLE}${options.style ?? ''}</style>
</head>
<body><main>
${body.value}
</main></body>
</html>`;
}
