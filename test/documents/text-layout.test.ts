// Text → pages: tab expansion, wrapping at spaces, form feeds, and the page limit found before drawing anything.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { TooManyPagesError, layoutText, textToPdf } from '../../src/documents/text-to-pdf.js';

describe('text layout', () => {
  test('tabs expand to the next multiple of eight columns', () => {
    assert.deepEqual(layoutText('a\tb\n\tc\n', 80, 60), [['a       b', '        c']]);
  });

  test('long lines wrap at a space near the edge, or hard when there is none', () => {
    const pages = layoutText('aaaa bbbb cccc dddd', 10, 60);
    assert.deepEqual(pages, [['aaaa bbbb', 'cccc dddd']]);
    assert.deepEqual(layoutText('x'.repeat(25), 10, 60), [['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx']]);
  });

  test('a form feed starts a page; rows overflow onto the next page; CRLF and a BOM are handled', () => {
    assert.deepEqual(layoutText('\uFEFFone\r\ntwo\fthree', 80, 60), [['one', 'two'], ['three']]);
    assert.equal(layoutText('l\n'.repeat(130), 80, 60).length, 3);
  });

  test('characters count as characters, not UTF-16 units', () => {
    assert.deepEqual(layoutText('😀😀😀😀', 2, 60), [['😀😀', '😀😀']]);
  });

  test('the page limit is found while laying out, before any page is drawn', () => {
    assert.throws(() => layoutText('x'.repeat(2_000_000), 90, 60, 5), TooManyPagesError);
    assert.throws(() => layoutText('\f'.repeat(10), 90, 60, 5), TooManyPagesError);
    assert.equal(layoutText('x'.repeat(90 * 60 * 5), 90, 60, 5).length, 5);
  });

  test('textToPdf makes one PDF page per laid-out page', async () => {
    const r = await textToPdf('page one\fpage two\fpage three\n', 'a4');
    assert.equal(r.pages, 3);
    const doc = await PDFDocument.load(r.pdf);
    assert.equal(doc.getPageCount(), 3);
    const { width, height } = doc.getPage(0).getSize();
    assert.deepEqual([Math.round(width), Math.round(height)], [595, 842]);
  });
});
