/** Table shapes for the storefront (src/storefront): surveys, impressions, responses, secrets. Times are epoch ms; JSON is text. */
import type { Int64 } from '../schema.ts';

/** A survey definition (JSON, validated); every save bumps `version`. `source`: `api` | `builtin`. */
export interface SurveysTable {
  id: string;
  version: number;
  definition: string;
  source: string;
  updated_ms: Int64;
}

/** A survey the widget showed, by the token it was shown with. */
export interface SurveyImpressionsTable {
  token_id: string;
  survey_id: string;
  customer_id: string | null;
  placement: string;
  shown_ms: Int64;
  dismissed_ms: Int64 | null;
}

/** One answered survey (`answers`: JSON `[{question, value}]`; `context`: JSON IoT context at the time). */
export interface SurveyResponsesTable {
  id: string;
  survey_id: string;
  version: number;
  customer_id: string | null;
  cart_id: string | null;
  order_id: string | null;
  placement: string;
  answers: string;
  context: string;
  created_ms: Int64;
}

/** Secrets the storefront signs with (survey tokens), created on first use. */
export interface StorefrontSecretsTable {
  name: string;
  value: string;
  created_ms: Int64;
}

export interface StorefrontTables {
  surveys: SurveysTable;
  survey_impressions: SurveyImpressionsTable;
  survey_responses: SurveyResponsesTable;
  storefront_secrets: StorefrontSecretsTable;
}
