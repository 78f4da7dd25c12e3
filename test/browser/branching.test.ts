/** The widget's branching rules (pure code, so tested in Node): which question follows an answer. */
import { describe, expect, it } from 'vitest';
import { nextQuestion, scale, THANKS } from '../../src/storefront/widget/branching.ts';
import type { Question } from '../../src/storefront/widget/types.ts';

const q = (id: string, type: Question['type'], next?: Question['next'], extra: Partial<Question> = {}): Question => ({
  id,
  type,
  prompt: id,
  ...(next ? { next } : {}),
  ...extra,
});

describe('survey branching', () => {
  const reason = q('reason', 'single', [{ if: { answer: 'just_browsing' }, goto: THANKS }]);
  const csat = q('csat', 'csat', [
    { if: { answer: { min: 4 } }, goto: 'nps' },
    { if: { answer: '1-2' }, goto: 'problem' },
  ]);
  const topics = q('topics', 'multiple', [{ if: { answer: 'delivery' }, goto: 'problem' }]);
  const problem = q('problem', 'text');
  const nps = q('nps', 'nps');
  const all = [reason, csat, topics, problem, nps];

  it('follows the first rule an option id matches, else the next question in order', () => {
    expect(nextQuestion(all, reason, 'just_browsing')).toBe(THANKS);
    expect(nextQuestion(all, reason, 'price')).toBe('csat');
  });

  it('matches numbers against {min, max} objects and "a-b" ranges', () => {
    expect(nextQuestion(all, csat, 5)).toBe('nps');
    expect(nextQuestion(all, csat, 4)).toBe('nps');
    expect(nextQuestion(all, csat, 2)).toBe('problem');
    expect(nextQuestion(all, csat, 3)).toBe('topics');
  });

  it('matches a multiple-choice answer when any chosen option matches', () => {
    expect(nextQuestion(all, topics, ['price', 'delivery'])).toBe('problem');
    expect(nextQuestion(all, topics, ['price'])).toBe('problem');
    expect(nextQuestion([topics], topics, ['price'])).toBe(THANKS);
  });

  it('goes on in order when a question was skipped, and ends after the last', () => {
    expect(nextQuestion(all, csat, undefined)).toBe('topics');
    expect(nextQuestion(all, nps, 10)).toBe(THANKS);
  });

  it('offers 0–10 for NPS, 1–5 for CSAT, min–max for ratings (default 1–5)', () => {
    expect(scale(nps)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(scale(csat)).toEqual([1, 2, 3, 4, 5]);
    expect(scale(q('r', 'rating', undefined, { min: 1, max: 7 }))).toHaveLength(7);
    expect(scale(q('r', 'rating'))).toEqual([1, 2, 3, 4, 5]);
  });
});
