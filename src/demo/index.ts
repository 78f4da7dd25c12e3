/** The demo world: a simulated automotive-parts shop driving Pitwall through its public interfaces (docs/demo.md). */
export { type ClockInfo, DemoHttpError, PitwallClient } from './client.ts';
export { backfillHistory, clockMismatch, type DemoOptions, DemoRunner, loadReference } from './driver.ts';
export { buildShopModel, referenceData, type ShopModel } from './model.ts';
export { type Receiver, startReceiver } from './receiver.ts';
export { Rng } from './rng.ts';
export { DEMO_DETECTORS, STARTER_SECRETS, starterWorkflows, writeStarterWorkflows } from './starter.ts';
export {
  type CheckoutDecision,
  DAMAGE_RATE,
  type Effects,
  type Emission,
  type ProductDecision,
  plainStorefront,
  RETURN_RATE,
  type Storefront,
  World,
  type WorldOptions,
  type WorldStats,
} from './world.ts';
