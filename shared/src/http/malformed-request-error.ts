/**
 * Input that is not well-formed: a request the server will not read. It is an OAuth
 * `invalid_request` (RFC 6749 §5.2), so a root handler — the issuer's, or an app's — answers it as
 * a 4xx with the standard fields, never a 500.
 */
import { OAuthError } from '../errors.js';

export class MalformedRequestError extends OAuthError {
  declare readonly error: 'invalid_request';
  /** 413 for a body over the size limit; 400 otherwise. */
  declare readonly status: 400 | 413;
  constructor(
    /** Why, in words safe to show the client. */
    description: string,
    status: 400 | 413 = 400,
  ) {
    super('invalid_request', description, { status });
    this.name = 'MalformedRequestError';
  }
}
