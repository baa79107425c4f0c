// Reads PDF text with pdfjs-dist in a worker thread. pdfjs rejects internal promises nobody awaits on some damaged
// files ("Bad (uncompressed) XRef entry"); in the main thread one such rejection would stop andon. Here it is caught
// and the file is reported as damaged. Plain JavaScript so the worker needs no TypeScript loader.
import { parentPort } from 'node:worker_threads';

let stray = null;
process.on('unhandledRejection', (reason) => {
  stray = reason instanceof Error ? reason.message : String(reason);
});

const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');

parentPort.on('message', async ({ id, bytes }) => {
  stray = null;
  let document;
  try {
    document = await pdfjs.getDocument({ data: bytes, isEvalSupported: false, verbosity: 0 }).promise;
  } catch (error) {
    parentPort.postMessage({ id, stage: 'open', error: error?.message ?? String(error) });
    return;
  }
  try {
    const pages = [];
    for (let number = 1; number <= document.numPages; number++) {
      const content = await (await document.getPage(number)).getTextContent();
      pages.push(
        content.items.map((item) => ({
          str: item.str,
          transform: item.transform,
          width: item.width,
          height: item.height,
          hasEOL: item.hasEOL,
        })),
      );
    }
    // Let stray rejections of this file surface before answering.
    await new Promise((resolve) => setImmediate(resolve));
    if (stray) parentPort.postMessage({ id, stage: 'read', error: stray });
    else parentPort.postMessage({ id, pages });
  } catch (error) {
    parentPort.postMessage({ id, stage: 'read', error: error?.message ?? String(error) });
  } finally {
    await document.destroy().catch(() => {});
  }
});
