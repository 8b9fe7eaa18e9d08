import { build } from 'esbuild';
import { esbuildOptions, functionEntry } from '../infra/bundling';
const root = '/work/wt/eff-bench';
const [name, target] = process.argv.slice(2) as any;
const r = await build({ ...esbuildOptions(root), entryPoints: { [name]: functionEntry(root, name) }, outdir: '/tmp/an', write: false, metafile: true, logLevel: 'error' });
const importers = new Map<string, string[]>();
for (const [file, v] of Object.entries(r.metafile.inputs)) for (const i of v.imports) { if (!importers.has(i.path)) importers.set(i.path, []); importers.get(i.path)!.push(file); }
// BFS from target back to entry
const start = Object.keys(r.metafile.inputs).find(f => f.includes(target))!;
let path = [start]; const seen = new Set([start]); const prev = new Map<string,string>();
const q=[start]; let end='';
while(q.length){const c=q.shift()!; if(c.startsWith('functions/')){end=c;break;} for(const p of importers.get(c)??[]) if(!seen.has(p)){seen.add(p);prev.set(p,c);q.push(p);} }
let c=end; const chain=[c]; while(prev.has(c)){c=prev.get(c)!;chain.push(c);} console.log(chain.join('\n  <- '));
