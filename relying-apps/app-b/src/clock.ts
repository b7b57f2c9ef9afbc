/** The time source lives once, in the shared kit. */
export { systemClock, type Clock } from '@tessera/shared';
