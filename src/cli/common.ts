import 'dotenv/config';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { messageOf } from '../paths.js';
import { DocumentsError } from '../documents/load.js';
import { Engine } from '../engine.js';
import type { BuildProgress, BuildSummary } from '../index/build.js';
import { IndexError } from '../index/layout.js';
import { log } from '../log.js';
import { ModelLoadError } from '../vectors/embedder.js';
import { describeCalibration, describeReplyShares } from '../replies/gate.js';
import type { ReplyShares } from '../retrieval/health.js';
import { QuestionsError } from '../retrieval/evaluate.js';
import { ProgressBar } from '../progress.js';
import { SchemaError } from '../index/postgres/schema.js';
import { staleBuildWarning } from '../modules.js';
import { unreachableMessage } from '../storage/storage.js';

/** Progress of an index build: a bar on a terminal, log lines otherwise. */
export function progressReporter(): (p: BuildProgress) => void {
  const bar = new ProgressBar('embedding');
  return (p) => {
    if (p.stage === 'documents') log.info(`read ${count(p.documents, 'document')}, skipped ${p.skipped}`);
    else if (p.stage === 'embedding') bar.update(p.done, p.total);
    else {
      bar.stop();
      log.info(`writing the index (${p.chunks} chunks)`);
    }
  };
}

/** "1 document", "2 documents". */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function describeBuild(s: BuildSummary): string {
  if (s.upToDate)
    return `The index is up to date (${count(s.documents, 'document')}, ${count(s.chunks, 'passage')}; checked in ${(s.totalMs / 1000).toFixed(1)} s).`;
  const lines = [
    `Indexed ${count(s.documents, 'document')}, ${count(s.chunks, 'passage')} in ${(s.totalMs / 1000).toFixed(1)} s ` +
      `(embedding ${count(s.embeddedChunks, 'passage')} took ${(s.embedMs / 1000).toFixed(1)} s).`,
    `  re-embedded: ${s.embedded.length ? s.embedded.join(', ') : 'none'}`,
    `  reused unchanged: ${s.reused.length ? s.reused.join(', ') : 'none'}`,
  ];
  if (s.removed.length) lines.push(`  removed: ${s.removed.join(', ')}`);
  for (const r of s.renamed ?? []) lines.push(`  renamed: ${r.from} → ${r.to} (vectors kept)`);
  for (const c of s.copied ?? []) lines.push(`  copy: ${c.to} of ${c.from} (vectors reused)`);
  for (const n of s.notes ?? []) lines.push(`  ${n.file}: ${n.note}`);
  for (const k of s.skipped) lines.push(`  skipped ${k.file}: ${k.reason}`);
  if (s.calibration) lines.push(`  ${describeCalibration(s.calibration).replace(/\n/g, '\n  ')}`);
  return lines.join('\n');
}

/**
 * How a new index replies to its own question-like texts, described; a measure that fails is logged
 * and gives no line: it does not hide the build it follows (as in the bot).
 */
export const describedHealth = (measure: Promise<ReplyShares>): Promise<string | undefined> =>
  measure.then(describeReplyShares, (err: unknown) => {
    log.warn(`measuring the new index's replies failed: ${messageOf(err)}`);
    return undefined;
  });

export async function openEngine(config: Config): Promise<Engine> {
  return Engine.open(config, progressReporter());
}

/** The command was called wrongly: its message and the usage are printed, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** Command-line options parsed with node's parseArgs; its errors (unknown flag, missing value) become UsageErrors. */
export function parseCommandLine<T extends ParseArgsConfig['options']>(options: T, usage: string) {
  try {
    return parseArgs({ allowPositionals: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!, usage);
  }
}

/** For a command that takes no arguments: any given is wrong usage (exit 2), not silently ignored. */
export function noArguments(usage: string): void {
  const { positionals } = parseCommandLine({}, usage);
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, usage);
}

/** What a command says when the event loop emptied while it still waited: nothing could end that wait. */
const UNFINISHED =
  'Failed: the command stopped before it finished (nothing it waited for could still happen). This is a defect: please report it with the log.';

/** Runs a command; known failures print their message (no stack trace) and exit 1 (2 for wrong usage). */
export async function run(main: (config: Config) => Promise<void>): Promise<void> {
  // Node would end such a command with a bare exit code 13 (an unsettled top-level await).
  const unfinished = () => {
    process.stderr.write(`\n${UNFINISHED}\n`);
    process.exitCode = 1;
  };
  process.once('beforeExit', unfinished);
  try {
    const config = loadConfig();
    log.level = config.LOG_LEVEL; // .env may be read after the logger was created
    const stale = staleBuildWarning();
    if (stale) log.warn(stale);
    await main(config);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${err.usage}\n`);
      process.exitCode = 2;
      return;
    }
    if (
      err instanceof ConfigError ||
      err instanceof ModelLoadError ||
      err instanceof IndexError ||
      err instanceof DocumentsError ||
      err instanceof QuestionsError ||
      err instanceof SchemaError
    ) {
      process.stderr.write(`\n${err.message}\n`);
    } else {
      // Whatever LOG_LEVEL says, the command says why it failed (LOG_LEVEL=silent left a bare exit code); the details go to the log.
      const unreachable = unreachableMessage(err);
      process.stderr.write(`\n${unreachable ?? `Failed: ${messageOf(err)}`}\n`);
      if (!unreachable) log.error(err);
    }
    process.exitCode = 1;
  } finally {
    process.off('beforeExit', unfinished);
  }
}
