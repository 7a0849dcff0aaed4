/**
 * Logs one line in the main thread, then runs an index build in the worker thread (which logs the
 * model it loads): the child of the log format test, run with and without a terminal.
 */
import { loadConfig } from '../../src/config.js';
import { buildInWorker } from '../../src/storage/builder.js';
import { log } from '../../src/log.js';

log.info('main thread says hello');
await buildInWorker(loadConfig());
