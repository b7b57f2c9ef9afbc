/** Server-rendered HTML: every interpolated value is escaped; pages work without JavaScript. */
import { cspNonce } from '@tessera/shared/node';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

/** A fragment of trusted HTML (already escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = string | number | Html | undefined | null | false | Value[];

function render(value: Value): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof Html) return value.value;
  return escapeHtml(String(value));
}

/** Tagged template that escapes everything but nested `html` fragments. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

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
 * The page shell shared by every page of app A. Its stylesheet is same-origin ('self'); the
 * response's CSP nonce is on it too, so the policy names one rule for every server of Tessera:
 * markup of ours carries the nonce, anything injected does not.
 */
export function page(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · App A</title>
<link rel="stylesheet" href="/styles.css" nonce="${escapeHtml(cspNonce())}">
</head>
<body><main>
${body.value}
</main></body>
</html>`;
}
