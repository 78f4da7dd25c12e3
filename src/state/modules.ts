/**
 * Every Decide module, in the order their projections fold a batch. The conditions
 * projection comes last and is built from the rules of every module's detectors.
 */
import {
  createConditionsProjection,
  type DecideContext,
  type DecideModule,
  type Detector,
  type Projection,
  type TimerHandler,
} from '../detect/index.ts';
import { createQualityModule } from '../quality/index.ts';
import { type AbandonmentDetector, createAbandonmentDetector } from './abandonment.ts';
import { createAssetsModule } from './assets/index.ts';
import { cartsProjection } from './carts.ts';
import { createDevicesModule } from './devices/index.ts';
import { createIdentityModule } from './identity/index.ts';
import { createShipmentsModule } from './shipments/index.ts';

export interface DecideSettings {
  /** The config file's `detectors:` section: one object per module name. */
  detectors?: Record<string, unknown>;
  /** Cart idle time before `cart.abandoned` (PITWALL_CART_ABANDON_MINUTES). */
  cartIdleMs?: number;
}

export interface Decide {
  modules: readonly DecideModule[];
  projections: readonly Projection[];
  detectors: readonly Detector[];
  /** The carts module's detector (tests drive it directly). */
  abandonment: AbandonmentDetector;
  /** The TimerRunner handler: hands each timer to the detector owning its key prefix. */
  fire: TimerHandler;
}

export function createDecide(ctx: DecideContext, settings: DecideSettings = {}): Decide {
  const section = (name: string) => settings.detectors?.[name];
  const abandonment = createAbandonmentDetector({
    log: ctx.log,
    store: ctx.store,
    timers: ctx.timers,
    clock: ctx.clock,
    ...(settings.cartIdleMs !== undefined ? { idleMs: settings.cartIdleMs } : {}),
  });
  const modules: DecideModule[] = [
    { name: 'carts', projections: [cartsProjection], detectors: [abandonment] },
    createIdentityModule(ctx, section('identity')),
    createShipmentsModule(ctx, section('shipments')),
    createAssetsModule(ctx, section('assets')),
    createDevicesModule(ctx, section('devices')),
    createQualityModule(ctx, section('quality')),
  ];
  const detectors = modules.flatMap((m) => m.detectors);
  const conditions = createConditionsProjection(detectors.flatMap((d) => d.conditions ?? []));
  modules.push({ name: 'conditions', projections: [conditions], detectors: [] });
  const projections = modules.flatMap((m) => m.projections);

  const owners = detectors.filter((d) => d.timerPrefix !== undefined && d.fire !== undefined);
  const fire: TimerHandler = async (timer) => {
    const owner = owners.find((d) => timer.key.startsWith(d.timerPrefix as string));
    // A timer no detector owns (a detector removed since it was scheduled) completes unfired.
    await owner?.fire?.(timer);
  };
  return { modules, projections, detectors, abandonment, fire };
}
