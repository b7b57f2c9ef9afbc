/** The logger lives once, in the shared kit; the app's (pino, on stderr) is made in main.ts. */
export { describeError, silentLogger, type Logger } from '@tessera/shared';
