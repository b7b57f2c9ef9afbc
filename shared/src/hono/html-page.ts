/**
 * Server-rendered HTML for every Tessera server, on Hono's `html` helper: every interpolated value
 * is escaped unless it is markup made by `html` (or `raw`, for our own constants), and the page
 * shell puts the response's CSP nonce on every style and script it writes, so no view can forget
 * it. Node-only (the nonce): exported from `@tessera/shared/node`.
 */
import { html as honoHtml, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { cspNonce } from './security-headers.js';

export { raw };

/** Markup: what {@link html} makes, and what it interpolates without escaping. */
export type Html = HtmlEscapedString;

/** What a page may interpolate: text (escaped), numbers, markup, nothing, or lists of these. */
export type HtmlValue = string | number | Html | false | null | undefined | readonly HtmlValue[];

/**
 * Tagged template that escapes `& < > " '` in every value but nested markup.
 *
 * @example
 * ```ts
 * const item = (name: string) => html`<li>${name}</li>`; // "<b>" is shown, not rendered
 * const list = html`<ul>${names.map(item)}</ul>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  // Hono's helper answers at once unless a value is a promise, which HtmlValue leaves out.
  return honoHtml(strings, ...values) as Html;
}

/** A page: its title, what it loads, and its body. */
export interface PageShell {
  /** The whole `<title>`. */
  title: string;
  /** CSS of ours — a constant, never data — in one `<style>`. */
  style?: string;
  /** The URL of a same-origin stylesheet. */
  stylesheet?: string;
  /** The URL of a same-origin ES module script. */
  moduleScript?: string;
  body: Html;
}

/**
 * The document every page of a Tessera server is: its `<style>`, stylesheet and script each carry
 * the response's CSP nonce (securityHeaders), so a policy needs no 'unsafe-inline' and nothing
 * injected into the body can style or script the page. Call it inside `renderPage`, which gives it
 * the nonce of the response it renders for.
 */
export function htmlPage(page: PageShell): string {
  const nonce = cspNonce();
  const head = [
    page.style !== undefined && html`<style nonce="${nonce}">${raw(page.style)}</style>`,
    page.stylesheet !== undefined && html`<link rel="stylesheet" href="${page.stylesheet}" nonce="${nonce}">`,
    page.moduleScript !== undefined &&
      html`<script type="module" src="${page.moduleScript}" nonce="${nonce}"></script>`,
  ];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
${head.map((markup) => markup && html`${markup}\n`)}</head>
<body><main>
${page.body}
</main></body>
</html>
`.toString();
}
