import { Worker } from 'node:worker_threads';

/** A text item of pdfjs-dist's `getTextContent()`: a run of text with its position (`transform[4..5]`) and size. */
export interface PdfTextItem {
  str?: string;
  transform?: number[];
  width?: number;
  height?: number;
  hasEOL?: boolean;
}

/** How long one PDF may take before its worker is stopped and the file reported as unreadable. */
const PDF_TIMEOUT_MS = 60_000;

type Answer = { id: number; pages?: PdfTextItem[][]; stage?: 'open' | 'read'; error?: string };
interface Pending {
  resolve(pages: PdfTextItem[][]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  worker: Worker;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(of: Worker, error: Error) {
  for (const [id, request] of pending) {
    if (request.worker !== of) continue;
    clearTimeout(request.timer);
    request.reject(error);
    pending.delete(id);
  }
}

function startWorker(): Worker {
  const started = new Worker(new URL('./pdf-worker.mjs', import.meta.url));
  started.unref();
  started.on('message', (answer: Answer) => {
    const request = pending.get(answer.id);
    if (!request) return;
    pending.delete(answer.id);
    clearTimeout(request.timer);
    if (answer.pages) request.resolve(answer.pages);
    else if (answer.stage === 'open')
      request.reject(new Error(`not a readable PDF (${answer.error}); re-export it from the source application`));
    else request.reject(new Error(`the PDF is damaged (${answer.error}); re-export it from the source application`));
  });
  started.on('error', (error) => {
    if (worker === started) worker = null;
    failAll(
      started,
      new Error(`the PDF reader stopped (${error.message}); re-export the PDF from the source application`),
    );
  });
  started.on('exit', () => {
    if (worker === started) worker = null;
    failAll(started, new Error('the PDF reader stopped before answering; try the upload again'));
  });
  return started;
}

/** Text items of every page, read by pdfjs in a worker thread that a damaged file cannot take down with it. */
export function readPdfPages(bytes: Uint8Array): Promise<PdfTextItem[][]> {
  worker ??= startWorker();
  const current = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(
        new Error(`reading the PDF took over ${PDF_TIMEOUT_MS / 1000} s; re-export it from the source application`),
      );
      // A worker stuck on one file serves nobody: replace it.
      if (worker === current) worker = null;
      void current.terminate();
    }, PDF_TIMEOUT_MS);
    timer.unref();
    pending.set(id, { resolve, reject, timer, worker: current });
    // pdfjs detaches the buffer it is given: send a copy.
    current.postMessage({ id, bytes: bytes.slice() });
  });
}
