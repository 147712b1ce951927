// The API's JSON bodies: UTF-8 only (another declared charset is a 415 before anything is read), at most 64 KiB,
// and no member name twice in one object. JSON.parse keeps the last of duplicate names, while a proxy, a WAF or
// the backend's own logs may read the first: a body that means two things to two readers is refused (400).
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { Problem } from '../web/problems';

/** The media types read as JSON (application/json, application/*+json). */
export const JSON_TYPES = ['application/json', 'application/*+json'];
export const JSON_LIMIT_BYTES = 64 * 1024;

/** The charset parameter of a Content-Type, lower-cased and unquoted; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  return match ? (match[1] ?? match[2] ?? '').toLowerCase() : undefined;
}

type Frame =
  { object: true; keys: Set<string>; key: string; expectKey: boolean } | { object: false; index: number };

/**
 * The path (member names and array indexes) of the first member whose name its object already has, or null.
 * One pass over the text with an explicit stack (no recursion, so no depth limit): strings are skipped whole and
 * a name with escapes is decoded, so "a" and "\u0061" are the same name. Text that is not JSON answers null:
 * the parser then refuses it as MALFORMED_JSON.
 */
export function duplicateKeyPath(text: string): (string | number)[] | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x5c /* \ */) {
          escaped = true;
          end++;
        } else if (d === 0x22) break;
      }
      if (end >= text.length) return null;
      if (top?.object && top.expectKey) {
        let name: string;
        try {
          name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        } catch {
          return null;
        }
        if (top.keys.has(name)) return [...stack.slice(0, -1).map((f) => (f.object ? f.key : f.index)), name];
        top.keys.add(name);
        top.key = name;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) stack.push({ object: true, keys: new Set(), key: '', expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ object: false, index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */ && top) {
      if (top.object) top.expectKey = true;
      else top.index++;
    }
  }
  return null;
}

const duplicateProblem = (path: (string | number)[]) =>
  new Problem(400, 'Duplicate member name', 'an object in the body names the same member twice', {
    code: 'DUPLICATE_KEY',
    errors: [{ path: ['body', ...path].join('.'), message: 'this member name appears twice in its object' }],
  });

/** Refuses a declared charset other than UTF-8 before the body is read (the parser would decode it otherwise). */
const utf8Only: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
  const charset = charsetOf(req.get('content-type'));
  if (req.is(JSON_TYPES) && charset !== undefined && charset !== 'utf-8')
    throw new Problem(415, 'Unsupported media type', 'send the body as UTF-8 application/json', {
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  next();
};

/** The JSON body parser of every route that takes a body (errors are answered by api/errors.ts). */
export const parseJson: RequestHandler[] = [
  utf8Only,
  express.json({
    limit: JSON_LIMIT_BYTES,
    type: JSON_TYPES,
    // Runs on the raw bytes before they are parsed: a Problem thrown here is answered as it is.
    verify: (_req, _res, buf) => {
      const path = duplicateKeyPath(buf.toString('utf8'));
      if (path) throw duplicateProblem(path);
    },
  }),
];
