// Jest runs TypeScript through SWC into CommonJS. The ESM-only dependencies below are transformed too;
// @middy/* publishes only an ESM entry under "import", so it is mapped to its index.js.
const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Two files at a time even on 2 cores (jest's default there is one): e2e stacks spend much of their time waiting on
  // timers and other processes, so a second worker cuts the suite's wall time without starving either.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  // lib and functions are roots too, so `npm run coverage` counts the files no test loads; tests live in test/ only.
  roots: ['<rootDir>/test', '<rootDir>/lib', '<rootDir>/functions'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@middy|@kubernetes/client-node|openid-client|oauth4webapi|jose|socks-proxy-agent|agent-base|p-limit|yocto-queue|fauxqs)/)',
  ],
  moduleNameMapper: {
    '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js',
    // fauxqs publishes only an "import" entry.
    '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js',
  },
  testTimeout: 60000,
  setupFiles: ['<rootDir>/test/setup-env.cjs'],
  // `npm run coverage`: V8's own coverage (no instrumenting transform), over production code only.
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/lib/**/*.ts', '<rootDir>/functions/**/*.ts', '!**/*.d.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageDirectory: '<rootDir>/coverage',
};
