import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

const Id = Type.String({ minLength: 1 });
const Text = Type.String();

export const SURVEY_TYPES: EventTypeDefinition[] = [
  {
    type: 'survey.response',
    version: 1,
    description: 'A customer answered an on-site or post-purchase survey.',
    data: Type.Object({
      survey_id: Id,
      response_id: Type.Optional(Text),
      placement: Type.Optional(Type.String({ description: 'Where it was shown, e.g. checkout, post_delivery_email' })),
      answers: Type.Array(
        Type.Object({
          question_id: Id,
          value: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Array(Type.String())]),
          label: Type.Optional(Text),
        }),
        { minItems: 1 },
      ),
      cart_id: Type.Optional(Text),
      order_id: Type.Optional(Text),
      locale: Type.Optional(Text),
      survey_version: Type.Optional(Type.Integer({ minimum: 1, description: 'The definition version answered (Pitwall surveys)' })),
      context: Type.Optional(
        Type.Record(Type.String(), Type.Unknown(), {
          description: 'Page and IoT context at the time: url, sku, the delayed shipments of the cart or order',
        }),
      ),
    }),
    example: {
      survey_id: 'srv_post_delivery',
      response_id: 'rsp_9a7c2',
      placement: 'post_delivery_email',
      answers: [
        { question_id: 'nps', value: 9, label: 'How likely are you to recommend us?' },
        { question_id: 'fitment_ok', value: true, label: 'Did the brake pads fit your vehicle?' },
        { question_id: 'issues', value: ['packaging_damaged'], label: 'Anything go wrong?' },
      ],
      order_id: 'ord_50314',
      locale: 'de-DE',
    },
  },
];
