import { build, analyzeMetafile } from 'esbuild';
import { esbuildOptions, functionEntry } from '/work/wt/eff-bench/infra/bundling';
const root = '/work/wt/eff-bench';
const name = process.argv[2] as any;
const r = await build({ ...esbuildOptions(root), entryPoints: { [name]: functionEntry(root, name) }, outdir: '/tmp/an', write: false, metafile: true, logLevel: 'error' });
const out = Object.values(r.metafile.outputs).find(o => o.entryPoint)!;
const byPkg: Record<string, number> = {};
for (const [input, v] of Object.entries(out.inputs)) { const m = /node_modules\/((?:@[^/]+\/)?[^/]+)(\/.*)?/.exec(input); const k = m ? m[1] + (m[1]==='zod' || m[1]==='@kubernetes/client-node' ? (m[2]??'').split('/').slice(0,4).join('/') : '') : input.split('/').slice(0,2).join('/'); byPkg[k] = (byPkg[k] ?? 0) + v.bytesInOutput; }
console.log(name, out.bytes);
for (const [k, v] of Object.entries(byPkg).sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(String(Math.round(v/1024)).padStart(6), k);
