import { describe, expect, it } from 'vitest';
import { SchemaRegistry } from '../../events/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import type { ExecutorInfo, ExecutorLookup } from './types.ts';
import { formatProblem, parseWorkflow, validateWorkflow } from './validate.ts';

const environment = new ConditionEnvironment(new SchemaRegistry());

/** A small registry: `survey.show` checks `placement`, `email.send` renders its own subject/text. */
const executors: ExecutorLookup = new Map<string, ExecutorInfo>([
  [
    'survey.show',
    {
      validateParams: (p) => {
        const o = p as Record<string, unknown>;
        const out: { pointer: string; message: string }[] = [];
        if (typeof o.survey !== 'string') out.push({ pointer: '/survey', message: 'is required' });
        if (o.placement !== undefined && !['exit_intent', 'next_page_view'].includes(String(o.placement)))
          out.push({ pointer: '/placement', message: 'must be one of exit_intent, next_page_view' });
        return out;
      },
    },
  ],
  ['checkout.offer', { validateParams: () => [] }],
  ['email.send', { validateParams: () => [], templateParams: ['subject', 'text'] }],
  ['webhook.send', { validateParams: () => [] }],
]);

const validate = (text: string) => validateWorkflow(text, { file: 'w.yaml', environment, executors });
const at = (text: string) => validate(text).problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.message}`);

const RESCUE = `schemaVersion: 1
id: delivery-concern-rescue
name: Delivery-concern rescue
holdout: 10%
trigger:
  event: cart.abandoned
  filter: "event.data.value > 20.0"
conditions:
  - "cart.value > 50.0"
steps:
  - action: survey.show
    with: { survey: what-stopped-you, placement: exit_intent }
  - wait: 2h
  - if: "cart.status != 'recovered'"
    then:
      - action: checkout.offer
        with: { cart: "{{ cart.cart_id }}", shipping: express, expires_in: 24h }
cancelOn:
  - event: commerce.order_completed
    match: "event.userid == run.customer"
`;

describe('parseWorkflow', () => {
  it('reads the YAML surface into the definition, with defaults', () => {
    const r = parseWorkflow(RESCUE, 'w.yaml');
    expect(r.problems).toEqual([]);
    expect(r.definition).toMatchObject({
      schemaVersion: 1,
      id: 'delivery-concern-rescue',
      enabled: true,
      holdoutPercent: 10,
      onPolicyBlock: 'skip',
      trigger: { kind: 'event', event: 'cart.abandoned', filter: 'event.data.value > 20.0' },
      conditions: ['cart.value > 50.0'],
      steps: [
        { kind: 'action', action: 'survey.show', with: { survey: 'what-stopped-you', placement: 'exit_intent' } },
        { kind: 'wait', duration: '2h' },
        // biome-ignore lint/suspicious/noThenProperty: the if-step's branch
        { kind: 'if', condition: "cart.status != 'recovered'", then: [{ kind: 'action', action: 'checkout.offer' }], else: [] },
      ],
      cancelOn: [{ event: 'commerce.order_completed', match: 'event.userid == run.customer' }],
    });
  });

  it('reads the absence, correlation and schedule triggers', () => {
    const base = 'schemaVersion: 1\nid: t\nname: T\nsteps: [{ wait: 1h }]\n';
    expect(
      parseWorkflow(
        `${base}trigger:\n  first: { event: commerce.checkout_started, key: "event.userid" }\n  missing: { event: commerce.order_completed, key: "event.userid" }\n  within: 2h\n`,
      ).definition?.trigger,
    ).toEqual({
      kind: 'absence',
      first: { event: 'commerce.checkout_started', key: 'event.userid' },
      missing: { event: 'commerce.order_completed', key: 'event.userid' },
      within: '2h',
    });
    expect(
      parseWorkflow(
        `${base}trigger:\n  correlate:\n    - { event: cart.abandoned, key: "a" }\n    - { event: shipment.delayed, key: "b" }\n  within: 24h\n  lookback: 3d\n`,
      ).definition?.trigger,
    ).toMatchObject({ kind: 'correlation', within: '24h', lookback: '3d' });
    expect(parseWorkflow(`${base}trigger: { schedule: "0 7 * * mon-fri", timezone: Europe/Berlin }\n`).definition?.trigger).toEqual({
      kind: 'schedule',
      cron: '0 7 * * mon-fri',
      timezone: 'Europe/Berlin',
    });
  });

  it('reports a YAML syntax error with its line', () => {
    const r = parseWorkflow('schemaVersion: 1\nid: x\nname: "unclosed\n', 'w.yaml');
    expect(r.definition).toBeUndefined();
    expect(r.problems[0]).toMatchObject({ file: 'w.yaml', code: 'PW_WORKFLOW_YAML' });
    expect(r.problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('points at an unknown field, with a suggestion', () => {
    const r = parseWorkflow(RESCUE.replace('cancelOn:', 'cancelOnn:'));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 18, column: 1, pointer: '/cancelOnn', code: 'PW_WORKFLOW_SCHEMA' });
    expect(r.problems[0]?.message).toContain('did you mean "cancelOn"');
  });

  it('checks kinds, ranges and formats of fields', () => {
    const problems = parseWorkflow(
      `schemaVersion: 2\nid: Bad_Id\nname: N\nholdout: 60%\nonPolicyBlock: later\ntrigger: { event: cart.abandoned }\nsteps:\n  - wait: 2 hours\n  - { id: a, action: x }\n  - { id: a, action: y }\n  - { action: x, wait: 1h }\n`,
    ).problems.map((p) => `${p.pointer} ${p.message}`);
    expect(problems).toEqual([
      '/schemaVersion schemaVersion 2 is not supported (this Pitwall reads 1)',
      '/id id must be 1–64 lowercase letters, digits and -, starting with a letter or digit',
      '/holdout holdout must be a percentage from 0% to 50% (at most two decimals), like 10%',
      '/onPolicyBlock onPolicyBlock must be skip or defer',
      '/steps/0/wait wait must be a duration like 30m, 2h or 7d (units ms, s, m, h, d, w), not "2 hours"',
      '/steps/2/id step id "a" is used twice',
      '/steps/3 a step is one of action, wait or if, not action and wait',
    ]);
    expect(
      parseWorkflow(
        'schemaVersion: 1\nid: x\nname: X\ntrigger: { schedule: "61 * * * *", timezone: Mars/Olympus }\nsteps: [{ wait: 1h }]\n',
      ).problems.map((p) => p.message),
    ).toEqual(['schedule: minute "61" is out of range (0–59)', '"Mars/Olympus" is not an IANA time zone like Europe/Berlin']);
  });
});

describe('validateWorkflow', () => {
  it('accepts a valid workflow and compiles every expression', () => {
    const r = validate(RESCUE);
    expect(r.problems).toEqual([]);
    expect(r.compiled?.conditions).toHaveLength(1);
    expect([...(r.compiled?.stepsByPath.keys() ?? [])]).toEqual(['steps.0', 'steps.1', 'steps.2.then.0', 'steps.2']);
  });

  it('reports a misspelt field with file, line and column of the field inside the string', () => {
    const r = validate(RESCUE.replace('"cart.value > 50.0"', '"cart.vlaue > 50.0"'));
    expect(r.problems).toHaveLength(1);
    expect(formatProblem(r.problems[0] as never)).toBe(
      'w.yaml:9:11: pitwall.Cart has no field "vlaue" (did you mean "value"?); its fields: cart_id, customer, status, lines, value, currency, checkout_step, last_activity_at, order_id, abandoned_at [PW_WORKFLOW_CEL]',
    );
  });

  it('reports a type mismatch at validation time, not at run time', () => {
    expect(at(RESCUE.replace('"cart.value > 50.0"', `'cart.value > "50"'`))).toEqual([
      '9:6 PW_WORKFLOW_CEL no such overload: double > string',
    ]);
    expect(at(RESCUE.replace('"event.data.value > 20.0"', '"event.data.value"'))).toEqual([
      '7:12 PW_WORKFLOW_CEL the expression must be a bool, but it is double',
    ]);
  });

  it('finds positions inside block, folded, single-quoted and flow strings', () => {
    const text = `schemaVersion: 1
id: p
name: P
trigger: { event: cart.abandoned }
conditions:
  - |
    cart.value > 10.0 &&
      cart.curency == "EUR"
  - >-
    cart.value > 10.0
    && event.data.idle > 1.0
  - 'cart.sttus == "x"'
steps:
  - action: webhook.send
    with: { url: "https://x.example/{{ cart.cartid }}" }
`;
    expect(at(text).map((p) => p.slice(0, p.indexOf(' PW_')))).toEqual(['8:12', '11:19', '12:11', '15:45']);
  });

  it('checks event types, with a suggestion', () => {
    expect(at(RESCUE.replace('event: cart.abandoned', 'event: cart.abandonned'))).toEqual([
      '6:10 PW_WORKFLOW_EVENT_TYPE unknown event type "cart.abandonned" (did you mean "cart.abandoned"?); register custom types with POST /v1/event-types',
    ]);
  });

  it('checks action types and their parameters through the executors', () => {
    expect(at(RESCUE.replace('action: survey.show', 'action: survey.shw'))[0]).toContain(
      '11:13 PW_WORKFLOW_ACTION unknown action type "survey.shw" (did you mean "survey.show"?)',
    );
    expect(at(RESCUE.replace('placement: exit_intent', 'placement: on_exit'))).toEqual([
      '12:50 PW_WORKFLOW_ACTION survey.show: must be one of exit_intent, next_page_view',
    ]);
  });

  it('compiles {{ }} templates in parameters, but not the ones an executor renders itself', () => {
    const text = RESCUE.replace(
      '      - action: checkout.offer\n        with: { cart: "{{ cart.cart_id }}", shipping: express, expires_in: 24h }',
      '      - action: email.send\n        with: { to: "{{ cart.customer }}", subject: "Your {{ order.id }}", text: "Hi {{ name }}" }',
    );
    expect(validate(text).problems).toEqual([]);
    expect(at(text.replace('"{{ cart.customer }}"', '"{{ cart.custmer }}"'))[0]).toMatch(
      /^17:30 PW_WORKFLOW_CEL pitwall.Cart has no field "custmer"/,
    );
  });

  it('still checks the expressions when other parts have problems', () => {
    const problems = at(RESCUE.replace('holdout: 10%', 'holdout: lots').replace('"cart.value > 50.0"', '"cart.vlaue > 50.0"'));
    expect(problems.map((p) => p.split(' ').slice(0, 2).join(' '))).toEqual(['4:10 PW_WORKFLOW_SCHEMA', '9:11 PW_WORKFLOW_CEL']);
  });

  it('types `event` per place: the trigger event, each correlated event, each cancelOn event', () => {
    const text = `schemaVersion: 1
id: c
name: C
customer: "cart.customer"
trigger:
  correlate:
    - { event: cart.abandoned, key: "cart.lines.map(sku, sku)" }
    - { event: shipment.delayed, key: "shipment.lines.map(l, l.sku)", filter: "has(event.data.predicted_p90)" }
  within: 24h
conditions:
  - "correlated.first.data.cart_id == cart.cart_id && has(correlated.second.data.reason)"
  - "event.type != ''"
steps: [{ wait: 1h }]
cancelOn:
  - { event: commerce.order_completed, match: "event.data.properties.order_id != '' && run.customer != ''" }
`;
    expect(validate(text).problems).toEqual([]);
    expect(at(text.replace('correlated.first.data.cart_id', 'correlated.first.data.shipment_id'))[0]).toContain(
      'has no field "shipment_id"',
    );
    expect(at(text.replace('"shipment.lines.map(l, l.sku)"', '"shipment.carrier == 1"'))[0]).toContain('no such overload');
    expect(at(text.replace('"cart.customer"', '"cart.value"'))[0]).toContain('must be a string, but it is double');
  });

  it('checks flow keys and minutesSaved action types', () => {
    const text = `${RESCUE}flow:\n  throttle: { key: "event.data.cart_id", limit: 1, period: 1d }\n  idempotency: "event.data.valu"\nminutesSaved: { checkout.ofer: 10 }\n`;
    expect(at(text).map((p) => p.split(' ').slice(0, 2).join(' '))).toEqual(['23:28 PW_WORKFLOW_CEL', '24:17 PW_WORKFLOW_ACTION']);
  });

  it('reads JSON (it is YAML) with positions', () => {
    const json = `{
  "schemaVersion": 1, "id": "j", "name": "J",
  "trigger": { "event": "cart.abandoned" },
  "conditions": ["cart.valu > 1.0"],
  "steps": [{ "action": "survey.show", "with": { "survey": "s" } }]
}`;
    expect(at(json)).toEqual([
      '4:24 PW_WORKFLOW_CEL pitwall.Cart has no field "valu" (did you mean "value"?); its fields: cart_id, customer, status, lines, value, currency, checkout_step, last_activity_at, order_id, abandoned_at',
    ]);
  });
});
