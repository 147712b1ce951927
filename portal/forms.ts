// Reading the page's forms: urlencoded for the simple ones, multipart (busboy) for the ones with files, with
// hard limits on sizes and counts. Files are held in memory (at most MAX_FILES × MAX_FILE_BYTES) and checked
// by their first bytes before anything is stored.
import busboy from 'busboy';
import type { Request } from 'express';

export const MAX_FILES = 3;
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** The longest text field (an answer of 4,000 characters of up to 4 bytes each, with room). */
const MAX_FIELD_BYTES = 20_000;
const MAX_FIELDS = 20;
/** The most a form may send at all (files and fields): a larger declared length is refused unread. */
const MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024;
/** The longest urlencoded form (it has no files): the longest fields, with room. */
const MAX_URLENCODED_BYTES = MAX_FIELD_BYTES * 4;

export interface UploadedFile {
  /** As the browser sent it: personal data, never logged. */
  name: string;
  content: Buffer;
  /** Longer than MAX_FILE_BYTES: the content is cut there. */
  truncated: boolean;
}

export interface ParsedForm {
  fields: Record<string, string>;
  files: UploadedFile[];
  /** More files than MAX_FILES were sent (the rest are dropped). */
  tooManyFiles: boolean;
}

export class FormError extends Error {
  override readonly name = 'FormError';
  constructor(
    readonly status: number,
    /** Refused for the size of its files (the page says so), not of its text. */
    readonly files = false,
  ) {
    super('the form could not be read');
  }
}

/** The form of a POST: multipart/form-data or application/x-www-form-urlencoded. */
export async function readForm(req: Request): Promise<ParsedForm> {
  const type = req.get('content-type') ?? '';
  const declared = Number(req.get('content-length') ?? 0);
  if (declared > MAX_REQUEST_BYTES) throw new FormError(413, /^multipart\//i.test(type));
  if (/^multipart\/form-data/i.test(type)) return readMultipart(req);
  if (/^application\/x-www-form-urlencoded/i.test(type)) {
    const text = await readText(req, MAX_URLENCODED_BYTES);
    const fields: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(text)) if (!(k in fields)) fields[k] = v;
    return { fields, files: [], tooManyFiles: false };
  }
  // No body (or another type): no fields, so the CSRF check refuses it.
  req.resume();
  return { fields: {}, files: [], tooManyFiles: false };
}

/**
 * The body as text, up to `max` bytes. A longer body is read to its end and dropped, then refused (413): cutting
 * the connection instead would reach the browser as a network error, not as the page that says what happened.
 * Past MAX_REQUEST_BYTES (a body with no declared length that does not end) the connection is cut after all.
 */
function readText(req: Request, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
      else if (size > MAX_REQUEST_BYTES) {
        reject(new FormError(413));
        req.destroy();
      } else chunks.length = 0;
    });
    req.on('end', () =>
      size > max ? reject(new FormError(413)) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', () => reject(new FormError(400)));
  });
}

function readMultipart(req: Request): Promise<ParsedForm> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          fileSize: MAX_FILE_BYTES,
          files: MAX_FILES,
          fields: MAX_FIELDS,
          fieldSize: MAX_FIELD_BYTES,
          parts: MAX_FIELDS + MAX_FILES + 5,
        },
        defParamCharset: 'utf8',
      });
    } catch {
      req.resume();
      return reject(new FormError(400));
    }
    const form: ParsedForm = { fields: {}, files: [], tooManyFiles: false };
    let failed = false;
    let pending = 0;
    let closed = false;
    const finish = () => {
      if (!failed && closed && pending === 0) resolve(form);
    };
    const fail = (status: number) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(new FormError(status));
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) return fail(413);
      if (!(name in form.fields)) form.fields[name] = value;
    });
    bb.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      pending++;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        pending--;
        const content = Buffer.concat(chunks);
        // A file input left empty sends a part with no name and no bytes: not a file.
        if (info.filename || content.length > 0)
          form.files.push({
            name: info.filename ?? '',
            content,
            truncated: (stream as unknown as { truncated?: boolean }).truncated === true,
          });
        finish();
      });
    });
    bb.on('filesLimit', () => (form.tooManyFiles = true));
    bb.on('fieldsLimit', () => fail(413));
    bb.on('partsLimit', () => fail(413));
    bb.on('error', () => fail(400));
    bb.on('close', () => {
      closed = true;
      finish();
    });
    req.on('error', () => fail(400));
    req.pipe(bb);
  });
}
