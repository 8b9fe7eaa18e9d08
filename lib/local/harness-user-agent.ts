/**
 * The user agent of the local stack's own SQS requests (its idle checks' GetQueueAttributes), so that a counter at
 * the emulator can tell them from tmc's: the functions' queue-depth reads are billed in the cloud, the harness's are not.
 */
export const HARNESS_USER_AGENT = 'tmc-local-harness';
