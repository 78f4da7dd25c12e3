import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectDelimiter, engineKey, formatFitmentCell, makeKey, modelKey, parseCsv, parseFitmentCell, toCsv } from './index.ts';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('CSV reader', () => {
  it('reads quoted fields with embedded commas, quotes and line breaks', () => {
    const text = 'sku,name\r\nA-1,"Pad, front ""Pro""\nset"\r\nB-2,plain\r\n';
    expect(fields(text)).toEqual([
      ['sku', 'name'],
      ['A-1', 'Pad, front "Pro"\nset'],
      ['B-2', 'plain'],
    ]);
  });

  it('skips a UTF-8 BOM and empty lines, and accepts a last line without a line break', () => {
    expect(fields('\uFEFFsku,name\n\nA,x\n\r\nB,y')).toEqual([
      ['sku', 'name'],
      ['A', 'x'],
      ['B', 'y'],
    ]);
  });

  it('gives each record the line it starts on, counting line breaks inside quotes', () => {
    const recs = parseCsv('h1,h2\nA,"two\nlines"\nB,c\n');
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('reports a malformed record and resumes at the next line', () => {
    const recs = parseCsv('a,b\n"x"y,z\nok,1\n');
    expect(recs[1]?.error).toMatch(/after its closing quote/);
    expect(recs[2]).toEqual({ fields: ['ok', '1'], line: 3 });
    expect(parseCsv('a\n"never closed')[1]?.error).toMatch(/not closed/);
  });

  it('detects ";" and tab delimiters from the header line', () => {
    expect(detectDelimiter('sku;name;price\nA;"x,y";1,5')).toBe(';');
    expect(detectDelimiter('sku\tname\n')).toBe('\t');
    expect(detectDelimiter('sku,name\n')).toBe(',');
    expect(fields('sku;name\nA;"x;y"')).toEqual([
      ['sku', 'name'],
      ['A', 'x;y'],
    ]);
  });

  it('round-trips any table of strings through toCsv and parseCsv', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', ';', '"', '\n', '\r', '\t', 'é', '|') });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((width) => fc.array(fc.array(cell, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 })),
        fc.constantFrom<',' | ';' | '\t'>(',', ';', '\t'),
        (rows, delimiter) => {
          expect(parseCsv(toCsv(rows, delimiter), delimiter).map((r) => r.fields)).toEqual(rows);
        },
      ),
    );
  });
});

describe('fitment match keys', () => {
  it('treats case, punctuation, accents and common short names of a make as the same', () => {
    expect(makeKey('Mercedes-Benz')).toBe(makeKey('mercedes benz'));
    expect(makeKey('Mercedes')).toBe(makeKey('Mercedes-Benz'));
    expect(makeKey('VW')).toBe(makeKey('Volkswagen'));
    expect(makeKey('Citroën')).toBe('citroen');
    expect(modelKey('F-150')).toBe(modelKey('f150'));
    expect(modelKey('Model 3')).not.toBe(modelKey('Model S'));
  });

  it('reads engines with or without a litre suffix and decimal comma alike', () => {
    expect(engineKey('3.5L V6')).toBe('3.5v6');
    expect(engineKey('3,5 l v6')).toBe('3.5v6');
    expect(engineKey('2.0 TDI')).toBe(engineKey('2.0L TDI'));
  });
});

describe('compact fitment cells', () => {
  it('reads ranges, single years, open-ended years and optional engines', () => {
    const r = parseFitmentCell('Ford|F-150|2015-2020|3.5L; Ford | Ranger | 2019 ;Tesla|Model 3|2017-', '/fitment');
    expect(r).toEqual({
      value: [
        { make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: '3.5L' },
        { make: 'Ford', model: 'Ranger', year_from: 2019, year_to: 2019, engine: null },
        { make: 'Tesla', model: 'Model 3', year_from: 2017, year_to: null, engine: null },
      ],
    });
  });

  it('points at the bad entry', () => {
    expect(parseFitmentCell('Ford|F-150|2015-2020;Ford|Focus|20x5', '/fitment')).toEqual([
      expect.objectContaining({ code: 'PW_CATALOG_FITMENT_INVALID', pointer: '/fitment/1' }),
    ]);
    expect(parseFitmentCell('Ford|F-150|2020-2015', '/fitment')).toEqual([
      expect.objectContaining({ pointer: '/fitment/0/year_to', message: expect.stringMatching(/before year_from/) }),
    ]);
  });

  it('drops an entry that repeats another in a different spelling', () => {
    expect(parseFitmentCell('Ford|F-150|2015-2020;ford|f150|2015-2020', '/f')).toEqual({
      value: [{ make: 'Ford', model: 'F-150', year_from: 2015, year_to: 2020, engine: null }],
    });
  });

  it('formats entries back into the same cell', () => {
    const cell = 'Ford|F-150|2015-2020|3.5L;Ford|Ranger|2019;Tesla|Model 3|2017-';
    const r = parseFitmentCell(cell, '/fitment');
    if (Array.isArray(r)) throw new Error('expected entries');
    expect(formatFitmentCell(r.value)).toBe(cell);
  });
});
