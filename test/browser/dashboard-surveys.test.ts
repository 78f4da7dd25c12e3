/**
 * The dashboard's Surveys page in a real Chromium: a fixture survey answered through the survey
 * API as the widget does (decide → token → response) shows its known counts and NPS; an answer
 * posted while the page is open appears live; the CSV export downloads the expected rows; the
 * builder shows the server's validation problem at its field, previews in the widget's look and
 * saves a survey the API then returns. No console errors, no policy violations.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/index.ts';
import { type Dashboard, startDashboard } from './dashboard-support.ts';
import { chromiumAvailable } from './support.ts';

const clock = new FakeClock(Date.parse('2026-06-10T10:00:00Z'));
let d: Dashboard;

const SURVEY = {
  id: 'exit-check',
  name: 'Exit check',
  questions: [
    {
      id: 'reason',
      type: 'single',
      prompt: 'What stopped you?',
      required: true,
      options: [
        { id: 'price', label: 'The price' },
        { id: 'delivery_time', label: 'Delivery takes too long' },
        { id: 'other', label: 'Something else' },
      ],
    },
    { id: 'recommend', type: 'nps', prompt: 'Would you recommend us?', required: true },
    { id: 'comment', type: 'text', prompt: 'Anything else?', required: false },
  ],
  thankYou: { text: 'Thanks!' },
  placements: [{ type: 'exit_intent', auto: true }],
};

type Answer = { question: string; value: string | number };

/** Answers as the widget does: a decide answer offers the survey (a token), then the response. */
async function answer(customer: string, answers: Answer[]): Promise<void> {
  const decision = (await d.post('/v1/decide/product', {
    skus: ['BRK-1'],
    customer: { userId: customer },
    placement: 'exit_intent',
  })) as { survey: { id: string; token: string } | null };
  expect(decision.survey?.id).toBe('exit-check');
  await d.post('/v1/surveys/exit-check/impressions', { token: decision.survey?.token });
  await d.post('/v1/surveys/exit-check/responses', { token: decision.survey?.token, answers });
  clock.advance(1000);
}

/** Signed in (with `key`, default admin) through the form, then at `pathname`. */
const openAt = (pathname: string, key?: string) => d.open({ path: pathname, ...(key ? { key } : {}) });

const a = (reason: string, nps: number, comment?: string): Answer[] => [
  { question: 'reason', value: reason },
  { question: 'recommend', value: nps },
  ...(comment ? [{ question: 'comment', value: comment }] : []),
];

describe.skipIf(!chromiumAvailable())('dashboard surveys in Chromium', () => {
  beforeAll(async () => {
    d = await startDashboard('dash-surveys', { clock });
    await d.post('/v1/surveys/exit-check', SURVEY, 'PUT');
    // Reasons: price 2, delivery 1, other 1. NPS: 10 and 9 promote, 6 detracts → (2 − 1) / 4 = 25.
    await answer('c1', a('price', 10, 'Too pricey for pads'));
    await answer('c2', a('price', 9));
    await answer('c3', a('delivery_time', 6, 'Shipping took a week'));
    await answer('c4', a('other', 8));
    await d.settle();
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });

  it('lists the surveys with their responses and shows the fixture’s counts and NPS; a new answer appears live', async () => {
    const { page, watched } = await openAt('/surveys', d.reader);
    await expect.poll(() => page.getByTestId('responses-exit-check').textContent()).toBe('4');
    expect(await page.getByTestId('survey-table').textContent()).toContain('exit intent (auto)');
    await page.getByRole('link', { name: 'Exit check' }).click();
    await expect.poll(() => page.getByTestId('stat-responses').textContent()).toMatch(/^Responses4all/);
    expect(await page.getByTestId('stat-nps-recommend').textContent()).toContain('25');
    expect(await page.getByTestId('stat-nps-recommend').textContent()).toContain('4 answers');
    expect(await page.getByTestId('stat-impressions').textContent()).toContain('4');
    expect(await page.getByTestId('count-reason-price').textContent()).toContain('The price2');
    expect(await page.getByTestId('count-reason-delivery_time').textContent()).toContain('1');
    expect(await page.getByTestId('count-recommend-10').textContent()).toContain('1');
    const reasons = await page.getByTestId('reasons').textContent();
    expect(reasons).toContain('The price2 · 50 %');
    expect(await page.getByTestId('texts-comment').textContent()).toContain('Shipping took a week');
    await d.screenshot(page, 'surveys-results');

    // Answered while the page is open: the results reload from the live feed.
    await answer('c5', a('delivery_time', 0, 'Live answer arrives'));
    await expect.poll(() => page.getByTestId('stat-responses').textContent(), { timeout: 15_000 }).toMatch(/^Responses5all/);
    await expect.poll(() => page.getByTestId('texts-comment').textContent()).toContain('Live answer arrives');
    // NPS: 2 promoters, 2 detractors of 5 → 0.
    expect(await page.getByTestId('stat-nps-recommend').textContent()).toContain('05 answers');
    // Read-only: no edit link.
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
  }, 120_000);

  it('downloads the CSV export with one row per response', async () => {
    // Ten days on (before signing in: a session ends after 12 hours unused on the server's clock), one more answer.
    clock.advance(10 * 86_400_000);
    await answer('c6', a('other', 7));
    const { page, watched } = await openAt('/surveys/exit-check', d.reader);
    await page.getByTestId('csv-export').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-export').click()]);
    expect(download.suggestedFilename()).toBe('exit-check-responses.csv');
    const csv = readFileSync((await download.path()) as string, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(csv[0]).toBe('response_id,created_at,customer,cart_id,order_id,placement,reason,recommend,comment');
    expect(csv).toHaveLength(1 + 6);
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[2]).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(rows.find((r) => r[2] === 'c3')?.slice(5)).toEqual(['exit_intent', 'delivery_time', '6', 'Shipping took a week']);
    // The date range narrows the results and the export alike (days of the server's clock).
    await page.getByRole('button', { name: '7 days' }).click();
    await expect.poll(() => page.getByTestId('stat-responses').textContent()).toMatch(/^Responses1the last 7 days/);
    await page.getByRole('button', { name: 'All time' }).click();
    await expect.poll(() => page.getByTestId('stat-responses').textContent()).toMatch(/^Responses6all/);
    await page.getByRole('button', { name: '7 days' }).click();
    expect(await page.getByTestId('csv-export').getAttribute('href')).toBe('/v1/surveys/exit-check/results?format=csv&days=7');
    expect(watched.consoleErrors).toEqual([]);
  }, 120_000);

  it('builds a survey: a server problem shows at its field, the preview renders it, and it saves', async () => {
    const { page, watched } = await openAt('/surveys');
    await page.getByTestId('new-survey').click();
    await page.getByTestId('survey-name').fill('Fit check');
    expect(await page.getByTestId('survey-id').inputValue()).toBe('fit-check');
    const q = page.getByTestId('question-editor-0');
    await q.getByLabel('Question', { exact: true }).fill('Did the part fit?');
    await page.getByTestId('add-option-0').click();
    await q.getByLabel('Option 1 label').fill('Yes, perfectly');
    // One option is not enough: the server says so, at the options.
    await page.getByTestId('save-survey').click();
    await expect.poll(() => q.locator('.survey-options').textContent()).toContain('a choice question needs 2–50 options');
    expect(await page.getByTestId('survey-problems').textContent()).toContain('/questions/0/options');
    await page.getByTestId('add-option-0').click();
    await q.getByLabel('Option 2 label').fill('No');
    // The preview is the widget's dialog (its stylesheet, in a shadow root).
    const preview = page.getByTestId('survey-preview');
    await expect.poll(() => preview.locator('.prompt').textContent(), { timeout: 15_000 }).toBe('Did the part fit? *');
    // The preview re-renders after the edit settles: wait for the second label, not just the prompt.
    await expect.poll(() => preview.locator('.option').allTextContents(), { timeout: 15_000 }).toEqual(['Yes, perfectly', 'No']);
    await preview.getByRole('button', { name: 'Send' }).click();
    expect(await preview.locator('.error').textContent()).toBe('Please answer this question.');
    await preview.getByText('No', { exact: true }).click();
    await preview.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => preview.locator('.prompt').textContent()).toContain('Thank you');
    await d.screenshot(page, 'surveys-builder');
    await page.getByTestId('save-survey').click();
    await page.waitForURL(`${d.url}/surveys/fit-check`);
    const list = (await d.get('/v1/surveys')) as { surveys: { id: string; questions: { prompt: string; options?: unknown }[] }[] };
    const saved = list.surveys.find((s) => s.id === 'fit-check');
    expect(saved?.questions[0]).toMatchObject({
      prompt: 'Did the part fit?',
      options: [
        { id: 'yes_perfectly', label: 'Yes, perfectly' },
        { id: 'no', label: 'No' },
      ],
    });
    await page.getByTestId('results-empty').waitFor();
    // Editing loads the saved definition and saves a new version (the list's extra fields are not sent back).
    await page.getByRole('link', { name: 'Edit' }).click();
    await expect.poll(() => page.getByTestId('survey-name').inputValue()).toBe('Fit check');
    expect(await page.getByTestId('survey-id').isDisabled()).toBe(true);
    await page.getByTestId('survey-name').fill('Fit check v2');
    await page.getByTestId('save-survey').click();
    await page.waitForURL(`${d.url}/surveys/fit-check`);
    const again = (await d.get('/v1/surveys')) as { surveys: { id: string; name: string; version: number }[] };
    expect(again.surveys.find((s) => s.id === 'fit-check')).toMatchObject({ name: 'Fit check v2', version: 2 });
    expect(watched.violations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    // The 422 of the first save is logged by Chromium as a failed resource; nothing else.
    expect(watched.consoleErrors.filter((e) => !e.includes('422'))).toEqual([]);
  }, 120_000);
});
