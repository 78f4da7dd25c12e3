/** Which question follows an answer: the first matching `next` rule, else the next in order. */
import type { AnswerValue, Question } from './types.ts';

export const THANKS = 'thanks';

function matches(cond: unknown, value: AnswerValue): boolean {
  if (Array.isArray(value)) return value.some((v) => matches(cond, v));
  if (typeof cond === 'string') {
    const range = /^(-?\d+(?:\.\d+)?)\s*(?:-|\.\.)\s*(-?\d+(?:\.\d+)?)$/.exec(cond);
    if (range && typeof value === 'number') return value >= Number(range[1]) && value <= Number(range[2]);
    return cond === String(value);
  }
  if (typeof cond === 'number') return cond === value;
  if (Array.isArray(cond)) return cond.some((c) => matches(c, value));
  if (cond && typeof cond === 'object' && typeof value === 'number') {
    const r = cond as { min?: unknown; max?: unknown };
    return (typeof r.min !== 'number' || value >= r.min) && (typeof r.max !== 'number' || value <= r.max);
  }
  return false;
}

/** The id of the question after `q` answered with `value` (or skipped), or `THANKS`. */
export function nextQuestion(questions: readonly Question[], q: Question, value: AnswerValue | undefined): string {
  if (value !== undefined) {
    for (const rule of q.next ?? []) if (matches(rule.if?.answer, value)) return rule.goto;
  }
  const i = questions.indexOf(q);
  return questions[i + 1]?.id ?? THANKS;
}

/** The scale a numeric question offers. */
export function scale(q: Question): number[] {
  const [lo, hi] = q.type === 'nps' ? [0, 10] : q.type === 'csat' ? [1, 5] : [q.min ?? 1, q.max ?? 5];
  const out: number[] = [];
  for (let n = lo; n <= hi && out.length < 21; n++) out.push(n);
  return out;
}
