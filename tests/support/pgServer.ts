// The tests' PostgreSQL server (PGlite with pgvector on 127.0.0.1), shared with the benchmark.
export { startTestPg, type TestPg } from '../../src/bench/pgliteServer.js';
