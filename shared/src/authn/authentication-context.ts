/**
 * How a person signed in, as the issuer states it and apps require it: the `amr` values of
 * RFC 8176 and Tessera's three authentication context classes (`acr`, OIDC Core §2), ordered
 * from weakest to strongest. Browser-safe; shared by the issuer, the API kit and the apps.
 */

/** RFC 8176 §2 values Tessera states. */
export type AuthenticationMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa';

/** One factor: a password alone. */
export const ACR_PASSWORD = 'urn:tessera:acr:password';
/** Two factors: a password and a one-time code, a recovery code or a passkey. */
export const ACR_MFA = 'urn:tessera:acr:mfa';
/**
 * A passkey with user verification, with or without a password: phishing-resistant
 * (OpenID Enterprise Authentication Profile's `phr`). It satisfies every request for `ACR_MFA`.
 */
export const ACR_PHISHING_RESISTANT = 'phr';

/** Weakest first; discovery's `acr_values_supported` lists them in this order. */
export const ACR_LEVELS: readonly string[] = [ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT];

/** The class a set of methods reaches: the issuer derives `acr` from its own record of `amr`. */
export function acrForMethods(amr: readonly string[]): string {
  if (amr.includes('hwk') || amr.includes('swk')) return ACR_PHISHING_RESISTANT;
  if (amr.includes('mfa')) return ACR_MFA;
  return ACR_PASSWORD;
}

/**
 * Whether `actual` meets `required`: the same class or a stronger one. An unknown class on
 * either side meets nothing, so a typo in an app's requirement fails closed.
 */
export function acrSatisfies(actual: string | undefined, required: string): boolean {
  if (actual === undefined) return false;
  const have = ACR_LEVELS.indexOf(actual);
  const need = ACR_LEVELS.indexOf(required);
  return have >= 0 && need >= 0 && have >= need;
}

/**
 * The weakest of the requested classes the issuer knows, or undefined if none is known: any one
 * of the `acr_values` met is enough (OIDC Core §3.1.2.1).
 */
export function weakestKnownAcr(requested: readonly string[]): string | undefined {
  const known = requested.filter((v) => ACR_LEVELS.includes(v));
  if (known.length === 0) return undefined;
  return known.reduce((a, b) => (ACR_LEVELS.indexOf(a) <= ACR_LEVELS.indexOf(b) ? a : b));
}
