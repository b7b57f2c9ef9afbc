/** The time source lives once, in the shared kit. */
export { epochSeconds, systemClock, type Clock } from '@tessera/shared';
