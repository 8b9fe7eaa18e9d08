import * as k8s from '@kubernetes/client-node';
import middy from '@middy/core';
import pLimit from 'p-limit';
import { z } from 'zod';

describe('toolchain', () => {
  it('loads the ESM-only dependencies under jest', async () => {
    expect(typeof k8s.KubeConfig).toBe('function');
    const limit = pLimit(1);
    expect(await limit(() => Promise.resolve(2))).toBe(2);
    const handler = middy(async (n: number) => n + 1);
    expect(await handler(1, {} as never)).toBe(2);
    expect(z.string().parse('x')).toBe('x');
  });
});
