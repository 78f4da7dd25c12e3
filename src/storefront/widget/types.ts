/** The wire shapes the widget reads (the storefront contract); only the fields it uses. */

export interface SurveyOffer {
  id: string;
  placement: string;
  token: string;
}

export interface Decision {
  survey?: SurveyOffer | null;
  [field: string]: unknown;
}

export interface Option {
  id: string;
  label: string;
}

/** A branching rule: an option id, a number, or a number range `{min?, max?}` / `"a-b"`. */
export interface NextRule {
  if: { answer: unknown };
  goto: string;
}

export type QuestionType = 'single' | 'multiple' | 'rating' | 'nps' | 'csat' | 'text';

export interface Question {
  id: string;
  type: QuestionType;
  prompt: string;
  options?: Option[];
  min?: number;
  max?: number;
  required?: boolean;
  next?: NextRule[];
}

export interface SurveyDefinition {
  id: string;
  version?: number;
  locale?: string;
  questions: Question[];
  thankYou?: { text?: string };
}

export type AnswerValue = string | string[] | number;

export interface Answer {
  question: string;
  value: AnswerValue;
}

export interface PageContext {
  type?: 'product' | 'checkout' | 'cart' | 'confirmation' | 'other';
  skus?: string[];
  cartId?: string;
  orderId?: string;
  /** Where the shopper wants delivery: a region (as lanes name it) or a postal code. */
  region?: string;
  postalCode?: string;
}
