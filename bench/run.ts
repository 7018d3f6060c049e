// npm run bench: runs every benchmark in turn and prints its tables (figures, never pass/fail).
// Pass names to run a subset: npm run bench -- api pdf-to-tiff
import { run as api } from './api.js';
import { run as inbound } from './inbound.js';
import { run as asteriskCalls } from './asterisk-calls.js';
import { run as freeswitchCalls } from './freeswitch-calls.js';
import { run as pdfToTiff } from './pdf-to-tiff.js';
import { run as tiffToPdf } from './tiff-to-pdf.js';

const benches: Record<string, () => Promise<void>> = {
  api,
  inbound,
  'asterisk-calls': asteriskCalls,
  'freeswitch-calls': freeswitchCalls,
  'pdf-to-tiff': pdfToTiff,
  'tiff-to-pdf': tiffToPdf,
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}\n`);
  await run();
}
