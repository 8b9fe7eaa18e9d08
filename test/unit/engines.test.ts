import { readFileSync } from 'node:fs';
import semver from 'semver';
import { z } from 'zod';

/**
 * `npm ci` prints no engine warning (EBADENGINE): every installed package's `engines.node` admits the oldest Node
 * package.json allows (these machines run 20, Lambda 22). cookie@2 (fauxqs → fastify → light-my-request 6.7+) needs
 * Node 22; package.json's `overrides` keeps light-my-request at 6.6, whose cookie works on 20.
 */
const PackageJsonSchema = z.object({ engines: z.object({ node: z.string() }) });
const LockSchema = z.object({
  packages: z.record(
    z.string(),
    z.object({ version: z.string().optional(), engines: z.unknown().optional(), dev: z.boolean().optional() }),
  ),
});

describe('engines', () => {
  const oldest = semver.minVersion(
    PackageJsonSchema.parse(JSON.parse(readFileSync('package.json', 'utf8'))).engines.node,
  );
  const lock = LockSchema.parse(JSON.parse(readFileSync('package-lock.json', 'utf8')));

  it('package.json names an oldest Node', () => {
    expect(oldest?.version).toBe('20.19.0');
  });

  it("every locked package's engines.node admits it and the Node running the tests", () => {
    const refused = Object.entries(lock.packages).flatMap(([path, entry]) => {
      // engines is an object with a node range in current packages; old ones list strings, which npm does not check.
      const parsed = z.object({ node: z.string() }).safeParse(entry.engines);
      if (!parsed.success || path === '') return [];
      const range = parsed.data.node;
      return [oldest?.version ?? '', process.versions.node]
        .filter((v) => !semver.satisfies(v, range, { includePrerelease: true }))
        .map((v) => `${path}@${entry.version ?? '?'} needs node ${range}, not ${v}`);
    });
    expect(refused).toEqual([]);
  });
});
