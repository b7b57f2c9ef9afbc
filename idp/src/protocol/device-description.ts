/**
 * A readable name for the device behind a User-Agent header ("Chrome 130 on Linux"), so a
 * person can recognise their sessions. The header is whatever the client chose to send: this
 * is a hint shown to its owner, never a security decision.
 *
 * Written here rather than depended on: the common parser (ua-parser-js v2) is AGPL, and the
 * account page needs only the browser families and platforms people actually recognise.
 */

interface Rule {
  name: string;
  /** Matches the UA; group 1, when present, is the major version. */
  pattern: RegExp;
  /** The major version is left out when the UA's number says nothing useful (see Safari on iOS). */
  versionless?: (ua: string) => boolean;
}

// Order matters: Chromium-based browsers also send `Chrome/` and `Safari/`, and every iOS
// browser is WebKit underneath and sends `Safari/`, so the most specific token wins.
// Every pattern is a fixed token and a digit run: linear time on any input (no ReDoS).
const BROWSERS: Rule[] = [
  { name: 'Edge', pattern: /\bEdg(?:e|A|iOS)?\/(\d+)/ },
  { name: 'Opera', pattern: /\b(?:OPR|OPiOS)\/(\d+)/ },
  { name: 'Samsung Internet', pattern: /\bSamsungBrowser\/(\d+)/ },
  { name: 'Firefox', pattern: /\b(?:Firefox|FxiOS)\/(\d+)/ },
  { name: 'Headless Chrome', pattern: /\bHeadlessChrome\/(\d+)/ },
  { name: 'Chrome', pattern: /\b(?:Chrome|CriOS)\/(\d+)/ },
  // Safari's own version ships with the OS: on iOS it repeats the iOS version shown beside it.
  {
    name: 'Safari',
    pattern: /\bVersion\/(\d+)(?:\.\d+)* (?:Mobile\/\w+ )?Safari\//,
    versionless: (ua) => /\b(?:iPhone|iPad|iPod)\b/.test(ua),
  },
];

// Windows NT 10.0, macOS 10_15_7 and Android 10 are frozen in current browsers' UAs (UA
// reduction), so their numbers would mislead; iOS still reports its real major version.
function platformOf(ua: string): string | undefined {
  const ios = /\bOS (\d+)_/.exec(ua)?.[1];
  if (/\biPad\b/.test(ua)) return ios ? `iPad (iPadOS ${ios})` : 'iPad';
  if (/\biPhone\b/.test(ua)) return ios ? `iPhone (iOS ${ios})` : 'iPhone';
  if (/\biPod\b/.test(ua)) return ios ? `iPod touch (iOS ${ios})` : 'iPod touch';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bMacintosh\b|\bMac OS X\b/.test(ua)) return 'macOS';
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return undefined;
}

function browserOf(ua: string): string | undefined {
  for (const rule of BROWSERS) {
    const m = rule.pattern.exec(ua);
    if (m) return m[1] && !rule.versionless?.(ua) ? `${rule.name} ${Number(m[1])}` : rule.name;
  }
  return undefined;
}

/** "Chrome 130 on Linux", "Safari on iPhone (iOS 17)", "Unknown browser" for anything else. */
export function describeDevice(userAgent: string): string {
  const ua = userAgent.slice(0, 512);
  const browser = browserOf(ua) ?? 'Unknown browser';
  const platform = platformOf(ua);
  return platform ? `${browser} on ${platform}` : browser;
}
