import type { QueueDefinition, QueueName } from '../../lib/runtime/resources';

/**
 * The chaos suite's queue changes, given to the environment that creates the queues and the stack that polls them:
 * a shorter visibility timeout, so that messages a crashed functions process held come back within a run.
 */
export function chaosQueues(visibilityTimeoutSeconds: number): Partial<Record<QueueName, Partial<QueueDefinition>>> {
  return {
    placement: { visibilityTimeoutSeconds },
    sync: { visibilityTimeoutSeconds },
    status: { visibilityTimeoutSeconds },
  };
}
