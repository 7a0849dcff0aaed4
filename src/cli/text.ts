import { readManifest } from '../index/manifest.js';
import { liveText } from '../index/texts.js';
import { forTerminal } from '../replies/plain.js';
import { parseCommandLine, run, UsageError } from './common.js';

// `npm run -s text -- <doc>`: the text a document's quotes and offsets (start/end) refer to, as
// the index stored it when it read the document (for a PDF or DOCX: the text extracted from it).
// Piped, it is written byte for byte; on a terminal, its control characters are not run.
const USAGE = 'Usage: npm run -s text -- <document file, as shown in a reference>';

await run(async (config) => {
  const { positionals } = parseCommandLine({}, USAGE);
  if (positionals.length !== 1) throw new UsageError('Give exactly one document file name.', USAGE);
  const file = positionals[0]!;
  const live = readManifest(config.INDEX_DIR);
  const text = liveText(file, live);
  if (text === undefined) {
    const known = live.manifest.documents.some((d) => d.file === file);
    process.stderr.write(
      known
        ? `The index has no stored text for ${file}: run npm run index.\n`
        : `${file} is not in the index (see /sources, or npm run index).\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(process.stdout.isTTY ? forTerminal(text) : text);
});
