import { z } from 'zod';

/**
 * kcp's rule for a logical cluster path (the workspace tmc reaches as `/clusters/<path>`): one or more segments joined
 * by `:`, each 1–63 characters of lower-case letters, digits and `-`, starting and ending with a letter or digit. kcp
 * also accepts `*` (a wildcard request across clusters); tmc never serves one, so it is not a valid workspace here.
 * Anything else (`/`, `.`, `%`, upper case) could leave `/clusters/<path>` once put in a URL, so it is refused wherever a
 * workspace enters: webhook URLs, event bodies, queue messages, and the kcp URL builder.
 */
const SEGMENT = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const LOGICAL_CLUSTER_PATH = new RegExp(`^${SEGMENT}(?::${SEGMENT})*$`);

export const LOGICAL_CLUSTER_RULE =
  "segments of lower-case letters, digits and '-' (1-63 characters, starting and ending with a letter or digit) joined by ':'";

/** A kcp logical cluster path such as `root:org:team`. */
export const LogicalClusterNameSchema = z
  .string()
  .regex(LOGICAL_CLUSTER_PATH, `must be a kcp logical cluster path: ${LOGICAL_CLUSTER_RULE}`);

export function isLogicalClusterName(value: string): boolean {
  return LOGICAL_CLUSTER_PATH.test(value);
}
