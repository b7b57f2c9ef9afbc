/** The issuer's own pages beyond the shared ISSUER_PATHS: only the issuer links to them. */

/** Where a person gives their second factor, after their password or to step up a session. */
export const SECOND_FACTOR_PATH = '/sign-in/factor';

export const secondFactorUrl = (interactionId: string) =>
  `${SECOND_FACTOR_PATH}?interaction=${encodeURIComponent(interactionId)}`;
