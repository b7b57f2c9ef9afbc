/**
 * Input that is not well-formed: a request the server will not read. Carries its response, so a
 * root handler answers it as a 4xx with the RFC 6749 §5.2 fields, never a 500.
 */
export class MalformedRequestError extends Error {
  /** The OAuth error code of the answer. */
  readonly error = 'invalid_request';
  constructor(
    /** Why, in words safe to show the client. */
    readonly description: string,
    /** 413 for a body over the size limit; 400 otherwise. */
    readonly status: 400 | 413 = 400,
  ) {
    super(description);
    this.name = 'MalformedRequestError';
  }
}
