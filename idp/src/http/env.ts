/** The Hono environment of every issuer route: the Node request, when served by @hono/node-server. */
import type { HttpBindings } from '@hono/node-server';

export type Env = { Bindings: Partial<HttpBindings> };
