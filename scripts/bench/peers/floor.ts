/**
 * The floor: a bare node:http server answering every request with a JWKS held in one
 * precomputed buffer. No framework, no routing: what serving these bytes costs on this machine.
 * Environment: PORT, JWKS (the body to serve).
 */
import { createServer } from 'node:http';

const body = Buffer.from(process.env.JWKS ?? '{"keys":[]}');
const headers = {
  'content-type': 'application/jwk-set+json',
  'content-length': String(body.length),
  'cache-control': 'public, max-age=300',
};
createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');

// Exits normally on SIGTERM, so that node --cpu-prof (BENCH_CPU_PROF_DIR) writes its profile.
process.once('SIGTERM', () => process.exit(0));
