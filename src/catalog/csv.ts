/**
 * A small RFC 4180 reader and writer: quoted fields with embedded delimiters, quotes ("")
 * and line breaks; CRLF or LF; a UTF-8 BOM is skipped. The delimiter is `,` unless the
 * header line has more `;` or tabs (spreadsheets in many locales export `;`).
 */

export interface CsvRecord {
  fields: string[];
  /** The line the record starts on (1-based). */
  line: number;
  /** Set when the record is malformed (e.g. text after a closing quote); `fields` is then partial. */
  error?: string;
}

export type Delimiter = ',' | ';' | '\t';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The delimiter the first line (outside quotes) uses most: `,`, `;` or tab. */
export function detectDelimiter(text: string): Delimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of text.startsWith('\uFEFF') ? text.slice(1) : text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[',']) return '\t';
  return ',';
}

/**
 * Every record of `text`. Lines that are entirely empty are skipped; a malformed record is
 * returned with `error` and reading resumes at the next line.
 */
export function parseCsv(text: string, delimiter: Delimiter = detectDelimiter(text)): CsvRecord[] {
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = s.length;
  while (i < n) {
    const start = line;
    // An empty line (not inside quotes) holds no record.
    if (s[i] === '\n' || s[i] === '\r') {
      i += s[i] === '\r' && s[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      // Fields are sliced, not built a character at a time: a large file would otherwise make
      // millions of intermediate strings.
      let field = '';
      if (s[i] === '"') {
        i++;
        let closed = false;
        let from = i;
        while (i < n) {
          const ch = s.charCodeAt(i);
          if (ch === QUOTE) {
            field += s.slice(from, i);
            if (s.charCodeAt(i + 1) === QUOTE) {
              field += '"';
              i += 2;
              from = i;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === LF || (ch === CR && s.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        if (!closed) {
          field += s.slice(from, i);
          error ??= 'a quoted field is not closed before the end of the file';
        } else if (i < n && s[i] !== delimiter && s[i] !== '\n' && s[i] !== '\r')
          error ??= `field ${fields.length + 1} has text after its closing quote`;
      }
      // Unquoted text (or text after a bad closing quote, kept for the message).
      const from = i;
      while (i < n && s[i] !== delimiter && s[i] !== '\n' && s[i] !== '\r') i++;
      field += s.slice(from, i);
      fields.push(field);
      if (i < n && s[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    if (i < n) {
      i += s[i] === '\r' && s[i + 1] === '\n' ? 2 : 1;
      line++;
    }
    out.push(error === undefined ? { fields, line: start } : { fields, line: start, error });
  }
  return out;
}

/** One field, quoted when it must be. */
export function csvField(value: string, delimiter: Delimiter = ','): string {
  return value.includes('"') || value.includes(delimiter) || value.includes('\n') || value.includes('\r') || /^\s|\s$/.test(value)
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

/** Records as CSV text, CRLF line ends (RFC 4180). */
export function toCsv(rows: readonly (readonly string[])[], delimiter: Delimiter = ','): string {
  // A lone empty field is written `""`: an empty line would be read as no record at all.
  return rows.map((r) => `${r.length === 1 && r[0] === '' ? '""' : r.map((f) => csvField(f, delimiter)).join(delimiter)}\r\n`).join('');
}
