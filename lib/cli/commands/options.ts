import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** `--port 8787`: a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

/** `--clusters 5` or `--clusters east,west`. */
export function parseClusters(value: string): number | string[] {
  if (/^\d+$/.test(value)) return Number(value);
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) throw new InvalidArgumentError('must be a number or a comma-separated list of names');
  return names;
}

/** Repeatable `KEY=VALUE` options collected into a record. */
export function collectPairs(what: string, parseValue: (value: string) => string | number = (v) => v) {
  return (pair: string, previous: Record<string, string | number> = {}): Record<string, string | number> => {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new InvalidArgumentError(`must be ${what}`);
    return { ...previous, [pair.slice(0, at)]: parseValue(pair.slice(at + 1)) };
  };
}

export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return seconds;
}

/**
 * A kubeconfig file a flag names must exist: fails before anything starts, naming the flag, the file and what to do
 * (a missing file would otherwise surface later as a bare ENOENT).
 */
export function requireKubeconfigFile(flag: string, path: string, remedy: string): void {
  if (!existsSync(path)) throw new Error(`${flag} ${path}: no such file. ${remedy}`);
  if (!statSync(path).isFile()) throw new Error(`${flag} ${path}: not a file. ${remedy}`);
}
