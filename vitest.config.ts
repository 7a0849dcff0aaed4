import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Native modules (onnxruntime, hnswlib) are safest in child processes rather than worker threads.
    pool: 'forks',
    // Two test files at a time, also on a 2-core machine (the default, cores − 1, runs one): the
    // tests mostly wait on child processes, servers and the disk (11 % CPU with one). Measured on
    // 2 cores: the suite took 998 s one file at a time, 694 s two at a time, every test passing.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { LOG_LEVEL: 'silent' },
  },
});
