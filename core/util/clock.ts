import { token } from './di-token.js';
/** Milliseconds since the epoch; injected so tests can move time. */
export type Clock = () => number;

/** The DI token of the clock. */
export const ClockToken = token<Clock>('Clock');
