/**
 * Whether this browser has signed in to app B through FedCM before. The browser's automatic
 * re-authentication only ever answers for such a browser (FedCM: a returning account), and a
 * browser that will not answer may hold its refusal back for seconds (a privacy delay); without
 * this mark every first visit would wait that long before the `prompt=none` redirect. It is no
 * secret and no token, only a hint, so it lives in localStorage, across tabs and visits as the
 * browser's own FedCM connection does; a silent attempt that gets nothing clears it.
 */
const CONNECTED = 'app-b.fedcm-connected';

export function rememberFedCmConnection(): void {
  localStorage.setItem(CONNECTED, '1');
}

export const hasFedCmConnection = (): boolean => localStorage.getItem(CONNECTED) !== null;

export function forgetFedCmConnection(): void {
  localStorage.removeItem(CONNECTED);
}
