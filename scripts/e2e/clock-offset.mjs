/**
 * Runs a Node process as if its machine's clock were off: loaded before the program with
 * `node --import <this file>` and `TESSERA_TEST_CLOCK_OFFSET_MS` set (5000: 5 s ahead, -5000: 5 s
 * behind). Test tooling only: the browser tests start one demo service this way, to see the
 * others cope with a clock that disagrees with theirs, as clocks on different machines do.
 *
 * What moves is the wall clock, as a machine's would: `Date.now()`, `new Date()` and `Date()`,
 * and the HTTP `Date` header the process's servers send (Node takes it from its own, internal
 * copy of `Date`). What does not: the monotonic clocks (`performance.now()`, `process.hrtime`),
 * which measure intervals and do not follow the time of day; and dates built from a value
 * (`new Date(x)`, `Date.parse`, `Date.UTC`). Dates made before and after are all
 * `instanceof Date`: the moved constructor shares the original's prototype.
 *
 * Plain JavaScript so that it loads before any loader hook (tsx) is registered, through
 * NODE_OPTIONS as well as the command line. A missing or malformed offset stops the process: a
 * test that asked for a moved clock must not run on the true one.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

const CLOCK_OFFSET_VARIABLE = 'TESSERA_TEST_CLOCK_OFFSET_MS';

const raw = process.env[CLOCK_OFFSET_VARIABLE];
const offsetMs = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
if (!Number.isSafeInteger(offsetMs)) {
  throw new Error(
    `${CLOCK_OFFSET_VARIABLE} must be a whole number of milliseconds to move this process's clock by ` +
      `(loaded from ${import.meta.url}), not ${JSON.stringify(raw)}`,
  );
}

const TrueDate = globalThis.Date;
const trueNow = TrueDate.now;
const movedNow = () => trueNow() + offsetMs;

/**
 * `Date` as a function, not a class: `Date()` called without `new` must return the time as a
 * string, which a class constructor cannot. With `new`, `new.target` keeps subclasses working.
 */
function MovedDate(...args) {
  if (new.target === undefined) return new TrueDate(movedNow()).toString();
  return Reflect.construct(TrueDate, args.length === 0 ? [movedNow()] : args, new.target);
}
// The original prototype, so `instanceof` holds for dates made before and after, and
// `date.constructor === Date` for every date.
MovedDate.prototype = TrueDate.prototype;
Object.defineProperty(TrueDate.prototype, 'constructor', { value: MovedDate });
// Date.parse and Date.UTC read no clock: inherited from the original unchanged.
Object.setPrototypeOf(MovedDate, TrueDate);
Object.defineProperty(MovedDate, 'now', { value: movedNow, writable: true, configurable: true });
Object.defineProperty(MovedDate, 'name', { value: 'Date' });
Object.defineProperty(MovedDate, 'length', { value: TrueDate.length });
globalThis.Date = MovedDate;

// RFC 9110 §6.6.1: an origin server with a clock sends Date. Node's HTTP server writes it from a
// copy of Date taken before any user code runs; set here, before any handler, from the moved
// clock. A Date a handler sets itself still wins.
diagnosticsChannel.subscribe('http.server.request.start', ({ response }) => {
  response.setHeader('Date', new MovedDate().toUTCString());
});
