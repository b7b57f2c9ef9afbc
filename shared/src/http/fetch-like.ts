/** The part of the WHATWG `fetch` signature this package calls: `globalThis.fetch` fits it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
