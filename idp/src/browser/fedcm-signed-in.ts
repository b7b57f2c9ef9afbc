/**
 * The end of FedCM's sign-in window (the issuer's login_url, then /fedcm/signed-in): tell the
 * browser the person is signed in (the Login Status API; the page's response sent
 * `Set-Login: logged-in` too) and close the window, so the dialog of the app that opened it goes on
 * to the account chooser. Neither API is in TypeScript's DOM types yet, hence the narrow shapes.
 */
interface LoginStatus {
  setStatus(status: 'logged-in' | 'logged-out'): Promise<void>;
}
interface IdentityProviderApi {
  close(): void;
}

export function closeFedcmSignIn(): void {
  if (!document.querySelector('[data-fedcm-signed-in]')) return;
  const login = (navigator as Navigator & { login?: LoginStatus }).login;
  const provider = (globalThis as { IdentityProvider?: IdentityProviderApi }).IdentityProvider;
  const close = () => provider?.close();
  if (login) login.setStatus('logged-in').then(close, close);
  else close();
}
