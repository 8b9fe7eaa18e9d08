/**
 * The time as tmc's code reads it: epoch milliseconds. Use cases and adapters take a `Clock` (default
 * {@link systemClock}) instead of calling Date.now(), so tests can pass a fixed or stepping one.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
