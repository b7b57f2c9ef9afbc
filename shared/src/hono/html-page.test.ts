import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { html, htmlPage, raw } from './html-page.js';
import { renderPage, securityHeaders } from './security-headers.js';

const HOSTILE = `<script>alert("x")</script> & 'quoted'`;
const ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;';

describe('html', () => {
  it('escapes every value, in text and in attributes', () => {
    expect(html`<p title="${HOSTILE}">${HOSTILE}</p>`.toString()).toBe(`<p title="${ESCAPED}">${ESCAPED}</p>`);
  });

  it('keeps nested markup and raw constants as they are, and escapes inside each list item', () => {
    const item = (text: string) => html`<li>${text}</li>`;
    expect(html`<ul>${[HOSTILE, 'b'].map(item)}</ul>${raw('<hr>')}`.toString()).toBe(
      `<ul><li>${ESCAPED}</li><li>b</li></ul><hr>`,
    );
  });

  it('writes numbers, and nothing for false, null and undefined', () => {
    expect(html`${1}|${false}|${null}|${undefined}|${0}`.toString()).toBe('1||||0');
  });

  it('escapes a string that only looks like markup', () => {
    const text: string = html`<b>bold</b>`.toString();
    expect(html`${text}`.toString()).toBe('&lt;b&gt;bold&lt;/b&gt;');
  });
});

describe('htmlPage', () => {
  function render(page: Omit<Parameters<typeof htmlPage>[0], 'body'>, body = html`<p>${HOSTILE}</p>`) {
    const app = new Hono();
    app.use('*', securityHeaders({ page: { formActions: [] } }));
    app.get('/', (c) => renderPage(c, () => htmlPage({ ...page, body })));
    return app.request('/');
  }
  const nonceOf = (res: Response) => /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy')!)![1];

  it('puts the response’s nonce on its style, stylesheet and script, and escapes the title and body', async () => {
    const res = await render({
      title: `A ${HOSTILE}`,
      style: 'main > p { color: red }',
      stylesheet: '/app.css',
      moduleScript: '/app.js',
    });
    const nonce = nonceOf(res);
    const page = await res.text();
    expect(page).toContain(`<title>A ${ESCAPED}</title>`);
    expect(page).toContain(`<style nonce="${nonce}">main > p { color: red }</style>`);
    expect(page).toContain(`<link rel="stylesheet" href="/app.css" nonce="${nonce}">`);
    expect(page).toContain(`<script type="module" src="/app.js" nonce="${nonce}"></script>`);
    expect(page).toContain(`<p>${ESCAPED}</p>`);
    expect(page).not.toContain('<script>');
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
  });

  it('writes only what the page loads', async () => {
    const page = await (await render({ title: 'T', stylesheet: '/styles.css' })).text();
    expect(page).not.toMatch(/<style|<script/);
    expect([...page.matchAll(/<link\b/g)]).toHaveLength(1);
  });

  it('refuses to render outside a request that securityHeaders handles (no nonce to give)', () => {
    expect(() => htmlPage({ title: 'T', body: html`` })).toThrow(TypeError);
  });
});
