import { existsSync } from 'node:fs';
import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS, type FunctionName } from '../lib/runtime/resources';
import { functionEntry } from './bundling';
import { parseTmcContext } from './config';
import { TmcStack } from './tmc-stack';

/**
 * Functions to deploy: every FUNCTIONS entry whose handler exists. A function declared before its folder lands is
 * left out (its routes, queue and schedule with it) rather than failing the synth.
 */
export function deployableFunctions(projectRoot: string): FunctionName[] {
  return (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => existsSync(functionEntry(projectRoot, name)));
}

/** The CDK app: the stack `tmc-<stage>` from the context, checked by cdk-nag's AwsSolutions pack. */
export function buildTmcApp(app: App, projectRoot: string): TmcStack {
  const config = parseTmcContext((key) => app.node.tryGetContext(key));
  const stack = new TmcStack(app, `tmc-${config.stage}`, {
    config,
    projectRoot,
    functions: deployableFunctions(projectRoot),
    description: `tmc (Transparent Multi-Cluster for kcp), stage ${config.stage}`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Tags.of(stack).add('project', 'tmc');
  Tags.of(stack).add('stage', config.stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
