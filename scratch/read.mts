import { readFileSync } from 'node:fs';
import { documentFromBytes } from '../src/documents/read.ts';
const t = performance.now();
const r = await documentFromBytes('x.docx', readFileSync(process.argv[2]!));
console.log(typeof r === 'string' ? r : r.source.length, Math.round(performance.now() - t), 'ms', Math.round(process.memoryUsage().rss/1e6), 'MB');
