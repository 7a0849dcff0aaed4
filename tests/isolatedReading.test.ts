/**
 * A document that would take the process down is skipped with its reason instead (issue 19, item 1):
 * every build, the start-up one in the main process included, reads documents in a worker thread
 * with bounded heap and time, and the readers bound what a container unpacks to and the text a
 * document gives. The admin sees the skipped file in /sources and /remove, and can take it out.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentReader } from '../src/documents/isolated.js';
import { loadDocuments } from './support/loadDocuments.js';
import { DEFAULT_READ_LIMITS, type ReadLimits } from '../src/documents/readers/types.js';
import { Engine } from '../src/engine.js';
import { ADMIN, buttonData, startBot, user, type RunningBot } from './support/botHarness.js';
import { inflatingPdf, makePdf, zipOf } from './support/formatFixtures.js';
import { tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-reading-');

/**
 * A DOCX of a few hundred KB whose document.xml unpacks to `mb` MB of bold runs (they compress
 * very well): mammoth builds an object per run, 95 MB of XML took it past 4 GB.
 */
function runawayDocx(mb: number): Buffer {
  const run = '<w:r><w:rPr><w:b/></w:rPr><w:t>lorem ipsum </w:t></w:r>';
  const paragraph = `<w:p>${run.repeat(50)}</w:p>`;
  const body = paragraph.repeat(Math.ceil((mb * 1024 * 1024) / paragraph.length));
  const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;
  return zipOf('word/document.xml', Buffer.from(xml));
}

const NOTE = 'The lighthouse keepers\n\nThe lighthouse keepers of the western cape kept a log of every passing ship.\n';
const HOSTILE = runawayDocx(95);
const entry = (dir: string, file: string) => ({ file, ...statSync(path.join(dir, file)) });

function folder(files: Record<string, string | Buffer>): string {
  const dir = tmp();
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('the reading worker: a document over a limit is skipped with its reason, the others are read', () => {
  it('the 95 MB-of-XML DOCX (a 0.3 MB file): refused by the unpacked-size limit before any library unpacks it', async () => {
    expect(HOSTILE.length).toBeLessThan(400_000);
    const dir = folder({ 'runaway.docx': HOSTILE, 'note.txt': NOTE });
    const { documents, skipped } = await loadDocuments(dir);
    expect(skipped).toEqual([
      { file: 'runaway.docx', reason: 'unpacks to 95 MB (over the 20 MB limit DOC_MAX_UNPACKED_BYTES: a zip bomb?)' },
    ]);
    expect(documents.map((d) => d.file)).toEqual(['note.txt']);
  });

  it('with the unpacked limit raised to the old 100 MB, the heap limit stops it: skipped, the reader goes on with the next document', async () => {
    const dir = folder({ 'a-runaway.docx': HOSTILE, 'note.txt': NOTE });
    const { documents, skipped } = await loadDocuments(dir, { maxUnpackedBytes: 100 * 1024 * 1024, memoryMb: 128 });
    expect(skipped).toEqual([
      { file: 'a-runaway.docx', reason: 'needs more than 128 MB of memory to read (the limit DOC_READ_MEMORY_MB)' },
    ]);
    expect(documents.map((d) => d.file)).toEqual(['note.txt']); // read by a fresh worker after the first one died
  }, 60_000);

  it('a PDF of 0.2 MB whose stream inflates to 200 MB (typed arrays, outside the heap its limit bounds) is stopped by the memory limit too', async () => {
    const pdf = inflatingPdf(200);
    expect(pdf.length).toBeLessThan(400_000);
    const dir = folder({ 'a-swelling.pdf': pdf, 'note.txt': NOTE });
    const { documents, skipped } = await loadDocuments(dir, { memoryMb: 64 });
    expect(skipped).toEqual([
      { file: 'a-swelling.pdf', reason: 'needs more than 64 MB of memory to read (the limit DOC_READ_MEMORY_MB)' },
    ]);
    expect(documents.map((d) => d.file)).toEqual(['note.txt']);
  }, 60_000);

  it('a document that takes longer than DOC_READ_SECONDS is skipped, the next one is read', async () => {
    const dir = folder({ 'slow.docx': runawayDocx(10), 'note.txt': NOTE });
    const limits: ReadLimits = {
      ...DEFAULT_READ_LIMITS,
      maxUnpackedBytes: 100 * 1024 * 1024,
      memoryMb: 4096,
      timeoutMs: 1000,
    };
    const reader = new DocumentReader(limits);
    try {
      expect(await reader.read(dir, entry(dir, 'note.txt'))).toMatchObject({ file: 'note.txt' }); // the worker is up
      const started = performance.now();
      expect(await reader.read(dir, entry(dir, 'slow.docx'))).toBe(
        'took longer than 1 s to read (the limit DOC_READ_SECONDS)',
      );
      expect(performance.now() - started).toBeLessThan(5000); // stopped, not waited for (reading it takes 10 s and more)
      expect(await reader.read(dir, entry(dir, 'note.txt'))).toMatchObject({
        file: 'note.txt',
        title: 'The lighthouse keepers',
      });
    } finally {
      await reader.close();
    }
  }, 30_000);

  it('more text than DOC_MAX_TEXT_CHARS is skipped (a PDF stops being laid out as soon as it is over)', async () => {
    const dir = folder({
      'long.txt': `A long note\n\n${'The keepers wrote down every ship. '.repeat(100)}\n`,
      'long.pdf': Buffer.from(await makePdf()),
      'note.txt': NOTE,
    });
    const { documents, skipped } = await loadDocuments(dir, { maxTextChars: 300 });
    const reason = 'too much text (over 300 characters, the limit DOC_MAX_TEXT_CHARS)';
    expect(skipped).toEqual([
      { file: 'long.pdf', reason },
      { file: 'long.txt', reason },
    ]);
    expect(documents.map((d) => d.file)).toEqual(['note.txt']);
  });
});

describe('the start-up build in the main process with the runaway DOCX in the collection', () => {
  let root: string;
  let engine: Engine;
  let run: RunningBot;
  let env: Record<string, string> & { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR: string };

  beforeAll(async () => {
    root = tmp();
    const seeds = path.join(root, 'seeds');
    mkdirSync(path.join(seeds, 'uploads'), { recursive: true });
    writeFileSync(path.join(seeds, 'note.txt'), NOTE);
    writeFileSync(path.join(seeds, 'uploads', 'runaway.docx'), HOSTILE);
    // The unpacked limit as it was (100 MB), so that the heap limit is what has to hold.
    env = {
      EMBED_MODEL: await testModelDir(),
      INDEX_DIR: path.join(root, 'index'),
      SEEDS_DIR: seeds,
      ADMIN_IDS: String(ADMIN.id),
      DOC_MAX_UNPACKED_BYTES: String(100 * 1024 * 1024),
      DOC_READ_MEMORY_MB: '128',
    };
  }, 60_000);

  afterAll(async () => {
    await run?.stop();
    expect(run?.errors ?? []).toEqual([]);
  });

  it('comes online with the file skipped and its reason in the index', async () => {
    engine = await Engine.open(testConfig(env));
    expect(engine.manifest.documents.map((d) => d.file)).toEqual(['note.txt']);
    expect(engine.manifest.skipped.map(({ file, reason }) => ({ file, reason }))).toEqual([
      {
        file: 'uploads/runaway.docx',
        reason: 'needs more than 128 MB of memory to read (the limit DOC_READ_MEMORY_MB)',
      },
    ]);
    run = await startBot(engine, env);
  }, 120_000);

  it('/sources shows the admin the skipped file and why (users see only the documents)', async () => {
    const admin = (await run.exchange(() => run.fake.sendCommand(ADMIN, 'sources'))).sent.at(-1)!;
    expect(admin.plain).toContain(
      'Not read (1 file; /remove can take them out):\n• uploads/runaway.docx, not read: needs more than 128 MB of memory to read',
    );
    const someone = (await run.exchange(() => run.fake.sendCommand(user(900), 'sources'))).sent.at(-1)!;
    expect(someone.plain).toContain('note.txt');
    expect(someone.plain).not.toContain('runaway');
    // In the admin's language; and not in a group, whose members are not admins.
    const ru = (await run.exchange(() => run.fake.sendCommand({ ...ADMIN, language_code: 'ru' }, 'sources'))).sent.at(
      -1,
    )!;
    expect(ru.plain).toContain('• uploads/runaway.docx, не прочитан: для чтения нужно больше 128 МБ памяти');
    const group = { id: -100900, type: 'supergroup', title: 'Readers' } as const;
    const inGroup = (await run.exchange(() => run.fake.sendCommand(ADMIN, 'sources', '', group))).sent.at(-1)!;
    expect(inGroup.plain).toContain('note.txt');
    expect(inGroup.plain).not.toContain('runaway');
  });

  it('/remove lists it with the reason and takes it out of the documents folder', async () => {
    const { fake } = run;
    const list = (await run.exchange(() => fake.sendCommand(ADMIN, 'remove'))).sent.at(-1)!;
    expect(list.plain).toMatch(
      /^2\. runaway\.docx\n {2}uploads\/runaway\.docx, not read: needs more than 128 MB of memory to read \(the limit DOC_READ_MEMORY_MB\), added \d{4}-\d\d-\d\d$/m,
    );
    await run.exchange(() => fake.pressButton(ADMIN, list, buttonData(list, '2. runaway.docx')!));
    const confirm = fake.messages.find((m) => m.message_id === list.message_id)!;
    expect(confirm.plain).toBe(
      'Remove «runaway.docx» (uploads/runaway.docx)? The file is moved to the trash, nothing is deleted.',
    );
    const before = fake.messages.length;
    await run.exchange(() => fake.pressButton(ADMIN, confirm, buttonData(confirm, 'Remove')!));
    await fake.waitFor(() => fake.messages.slice(before).find((m) => /^Removed «runaway\.docx»/.test(m.plain)), 30_000);
    expect(readdirSync(path.join(env.SEEDS_DIR, 'uploads'))).toEqual([]);
    expect(engine.manifest.skipped).toEqual([]);
    expect(engine.manifest.documents.map((d) => d.file)).toEqual(['note.txt']);
  }, 60_000);

  it('sent as an upload, it is read by a re-index (a reading worker inside the build worker): skipped with the reason, the bot goes on', async () => {
    const { fake } = run;
    const before = fake.messages.length;
    await run.exchange(() => fake.sendDocument(ADMIN, { name: 'again.docx', content: HOSTILE }));
    const done = await fake.waitFor(
      () =>
        fake.messages
          .slice(before)
          .find((m) => /^(Added|The indexer skipped|uploads\/again\.docx is stored)/.test(m.plain)),
      60_000,
    );
    expect(done.plain).toMatch(
      /^The indexer skipped uploads\/again\.docx: needs more than 128 MB of memory to read \(the limit DOC_READ_MEMORY_MB\)\. The file was moved to \.trash\//,
    );
    const answer = (
      await run.exchange(() => fake.sendText(user(901), 'Who kept a log of every passing ship?'))
    ).sent.at(-1)!;
    expect(answer.plain).toContain('note.txt');
  }, 90_000);
});
