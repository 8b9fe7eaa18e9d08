import { componentOfThread } from '../../../bench/support/thread-cpu';

/** Threads named by the local stack (lib/local/thread-name.mjs) and by V8 go to the component the CPU table shows. */
describe('componentOfThread', () => {
  it.each([
    [process.pid, 'node', 'main thread'],
    [1, 'fn:functions', 'fn:functions'],
    [1, 'fn:sync-apply', 'fn:sync-apply'],
    [1, 'emu:dynamodb', 'dynalite'],
    [1, 'emu:sqs', 'fauxqs'],
    [1, 'ld:functions', 'module loaders'],
    [1, 'v8:ProfEvntProc', 'harness: profiler'],
    [1, 'node', 'V8/libuv background'],
    [1, 'libuv-worker', 'V8/libuv background'],
  ])('thread %i named %s counts toward %s', (tid, name, component) => {
    expect(componentOfThread(tid, name)).toBe(component);
  });
});
