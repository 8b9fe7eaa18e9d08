import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStackLogger, type LogLevel } from '../../lib/local/log';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../lib/local/stack';

/** A whole local stack in a temp dir on free ports: the real path (kubectl → kcp → webhook → queue → function → cluster). */
export async function startE2eStack(
  options: LocalStackOptions = {},
): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tmc-e2e-'));
  const stack = await startLocalStack({
    stateDir,
    fresh: true,
    port: 0,
    persist: false,
    schedules: false,
    pollWaitSeconds: 1,
    // TMC_TEST_LOG=debug shows the stack's own log while a test runs.
    logger: createStackLogger({ level: testLogLevel(process.env.TMC_TEST_LOG) }),
    ...options,
  });
  return Object.assign(stack, {
    async cleanup(): Promise<void> {
      await stack.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  });
}

function testLogLevel(value: string | undefined): LogLevel | 'silent' {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error' ? value : 'silent';
}
