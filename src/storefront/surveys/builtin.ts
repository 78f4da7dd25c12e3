/** The built-in surveys the starter workflows ask for (workflows/examples/): seeded when missing. */
import type { SurveyDefinition } from './definition.ts';

export const WHAT_STOPPED_YOU: SurveyDefinition = {
  id: 'what-stopped-you',
  name: 'What stopped you?',
  locale: 'en',
  questions: [
    {
      id: 'reason',
      type: 'single',
      prompt: 'What stopped you from completing your order today?',
      required: true,
      options: [
        { id: 'delivery_time', label: 'Delivery takes too long' },
        { id: 'shipping_cost', label: 'Shipping costs' },
        { id: 'price', label: 'The price' },
        { id: 'fitment_unsure', label: 'Not sure it fits my vehicle' },
        { id: 'just_browsing', label: 'Just browsing' },
        { id: 'other', label: 'Something else' },
      ],
      next: [{ if: { answer: 'just_browsing' }, goto: 'thanks' }],
    },
    { id: 'details', type: 'text', prompt: 'Anything you would like to tell us?', required: false, maxLength: 1000 },
  ],
  thankYou: { text: 'Thank you — this helps us improve.' },
  translations: {
    de: {
      reason: 'Was hat Sie heute vom Bestellen abgehalten?',
      'reason.delivery_time': 'Die Lieferung dauert zu lange',
      'reason.shipping_cost': 'Die Versandkosten',
      'reason.price': 'Der Preis',
      'reason.fitment_unsure': 'Unsicher, ob es an mein Fahrzeug passt',
      'reason.just_browsing': 'Ich schaue mich nur um',
      'reason.other': 'Etwas anderes',
      details: 'Möchten Sie uns noch etwas sagen?',
      thankYou: 'Danke – das hilft uns weiter.',
    },
  },
  placements: [{ type: 'exit_intent' }],
};

export const POST_PURCHASE_CSAT: SurveyDefinition = {
  id: 'post-purchase-csat',
  name: 'How did we do?',
  locale: 'en',
  questions: [
    {
      id: 'csat',
      type: 'csat',
      prompt: 'How satisfied are you with your order?',
      required: true,
      next: [{ if: { answer: { min: 4 } }, goto: 'nps' }],
    },
    { id: 'problem', type: 'text', prompt: 'What went wrong?', required: false, maxLength: 1000 },
    { id: 'nps', type: 'nps', prompt: 'How likely are you to recommend us to a friend?', required: false },
  ],
  thankYou: { text: 'Thanks for your feedback!' },
  placements: [{ type: 'post_purchase' }],
};

export const BUILTIN_SURVEYS: readonly SurveyDefinition[] = [WHAT_STOPPED_YOU, POST_PURCHASE_CSAT];
