/** App B's logger: one JSON line per event, on stderr, like the issuer's (the shared kit's). */
import { createStderrLogger } from '@tessera/shared/node';

export { describeError, silentLogger, type Logger } from '@tessera/shared';

export const consoleLogger = createStderrLogger('app-b');
