import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { buildTmcApp } from './tmc-app';

// `cdk synth` / `cdk deploy` run this through tsx (cdk.json); the project root is the folder above infra/.
buildTmcApp(new App(), resolve(dirname(fileURLToPath(import.meta.url)), '..'));
