/** GET `/login`: a plain sign-in, back to the home page. */
import { Hono } from 'hono';
import type { AppContext } from '../context.js';
import { startSignIn } from './start-sign-in.js';

export function loginRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/login', function login(c) {
    return startSignIn(c, ctx);
  });
  return app;
}
