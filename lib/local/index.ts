export { startLocalStack, DEFAULT_API_PORT, DEFAULT_WORKSPACE, type LocalStack, type LocalStackOptions } from './stack';
export { startEventSource, toSqsRecord, succeededMessageIds, type EventSourceMapping, type EventSourceOptions } from './event-source';
export { startApiServer, type ApiServer } from './http-server';
export { FunctionRuntime, FunctionMissingError, FunctionTimeoutError, type LambdaHandler } from './function-runtime';
export { startLocalDynamo, startLocalSqs, ensureTable, ensureQueues, type LocalQueues } from './aws-services';
export { DEFAULT_CLUSTERS, resolveClusters, type LocalClusterSpec } from './clusters';
export { createStackLogger, type StackLogger } from './log';
