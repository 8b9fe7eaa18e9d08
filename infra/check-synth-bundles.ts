import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { BUNDLE_CAP_BYTES } from './bundling';
import { loadBundle } from './bundle-load';

// `npm run check:bundles [cdk.out]` after `npm run synth`: every Lambda function of the synthesized assembly, its
// asset as CDK bundled it, at most BUNDLE_CAP_BYTES, and loadable with a callable handler (docs/deploy.md).
const assembly = resolve(process.argv[2] ?? 'cdk.out');
const FunctionSchema = z.object({
  Type: z.literal('AWS::Lambda::Function'),
  Properties: z.object({
    FunctionName: z.string().optional(),
    Handler: z.string(),
    Code: z.object({ S3Key: z.string() }),
  }),
});
const TemplateSchema = z.object({ Resources: z.record(z.string(), z.object({ Type: z.string() }).loose()) });

const rows: string[] = [];
let failed = 0;
let checked = 0;
for (const file of readdirSync(assembly).filter((f) => f.endsWith('.template.json'))) {
  const template = TemplateSchema.parse(JSON.parse(readFileSync(join(assembly, file), 'utf8')));
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const fn = FunctionSchema.parse(resource).Properties;
    const [module, exportName] = fn.Handler.split('.');
    const asset = join(assembly, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`, `${module}.js`);
    const name = fn.FunctionName ?? id;
    checked++;
    try {
      const { bytes, handlerType } = loadBundle(asset, exportName);
      const ok = bytes <= BUNDLE_CAP_BYTES && handlerType === 'function';
      if (!ok) failed++;
      rows.push(
        `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(28)} ${(bytes / 1024).toFixed(0).padStart(5)} KiB  ${handlerType}`,
      );
    } catch (err) {
      failed++;
      rows.push(
        `FAIL ${name.padEnd(28)} does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    }
  }
}
process.stdout.write(`${rows.join('\n')}\n`);
if (checked === 0) {
  process.stderr.write(`No Lambda function in ${assembly}: run \`npm run synth\` first\n`);
  process.exitCode = 1;
} else if (failed > 0) {
  process.stderr.write(`${failed} of ${checked} bundles over ${BUNDLE_CAP_BYTES / 1024} KiB or not loadable\n`);
  process.exitCode = 1;
}
