#!/usr/bin/env node
// The tmc command. Runs the TypeScript sources through tsx so that a fresh clone needs no build step.
import { register } from 'tsx/esm/api';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// tmc's commands never run as a Lambda function: Lambda's variables inherited from a local stack's process (a test, a
// script) would make Powertools expect the runtime's per-invocation store, and `tmc syncer` would stop at its first log.
delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
register();
const { main } = await import('../lib/cli/main.ts');
await main(process.argv);
