// Bundled in place of @aws-sdk/credential-provider-node (infra/bundling.ts): Lambda hands every function its role's
// credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the first source the
// default chain tries, so in a function the chain never goes further. The rest of it (SSO, shared INI files, web
// identity, ECS and EC2 metadata, with their STS and SSO clients, ~90 KiB minified) is left out; without those
// variables the provider fails as the chain would, naming them. Local runs use the real package (not bundled).
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
