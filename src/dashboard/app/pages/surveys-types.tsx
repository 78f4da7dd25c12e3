/** Survey shapes as the API sends them (docs/storefront.md); optional where the server may add or omit. */

export const QUESTION_TYPES = ['single', 'multiple', 'rating', 'nps', 'csat', 'text'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const PLACEMENT_TYPES = ['exit_intent', 'post_purchase', 'page'] as const;
export type PlacementType = (typeof PLACEMENT_TYPES)[number];

export interface Option {
  id: string;
  label: string;
}

export interface Branch {
  if: { answer: string | { min?: number; max?: number } };
  goto: string;
}

export interface Question {
  id: string;
  type: QuestionType;
  prompt: string;
  options?: Option[];
  min?: number;
  max?: number;
  required: boolean;
  maxLength?: number;
  next?: Branch[];
}

export interface Placement {
  type: PlacementType;
  auto?: boolean;
  pageTypes?: string[];
}

export interface SurveyDefinition {
  id: string;
  name: string;
  locale?: string;
  questions: Question[];
  thankYou: { text: string };
  translations?: Record<string, Record<string, string>>;
  placements: Placement[];
  audience?: string;
  purpose?: string;
}

export interface ListedSurvey extends SurveyDefinition {
  version: number;
  source?: string;
  updatedAt?: string;
  responses?: number;
  lastResponseAt?: string | null;
}

export interface QuestionResult {
  id: string;
  type: string;
  prompt: string;
  answered: number;
  counts?: Record<string, number>;
  average?: number | null;
  nps?: number | null;
  csatShare?: number | null;
  texts?: { response: string; at: string; text: string }[];
}

export interface SurveyResults {
  survey: string;
  impressions: number;
  dismissed: number;
  responses: number;
  responseRate: number | null;
  questions: QuestionResult[];
  abandonmentReasons: { reason: string; label: string; count: number; share: number }[] | null;
}

/** The scale of a rating / nps / csat question (the widget's). */
export function scaleOf(q: Pick<Question, 'type' | 'min' | 'max'>): { min: number; max: number } | undefined {
  if (q.type === 'nps') return { min: 0, max: 10 };
  if (q.type === 'csat') return { min: 1, max: 5 };
  if (q.type === 'rating') return { min: q.min ?? 1, max: q.max ?? 5 };
  return undefined;
}
