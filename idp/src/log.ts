/** The logger lives once, in the shared kit; the issuer's (pino, on stderr) is made in main.ts. */
export { type Logger, silentLogger } from '@tessera/shared';
