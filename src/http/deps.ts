import type { Logger } from 'pino';
import type { ConditionEnvironment, ContactPolicySettings, ExecutorLookup } from '../automate/index.ts';
import type { Clock } from '../core/index.ts';
import type { SchemaRegistry } from '../events/index.ts';
import type { KeyAuthenticator } from '../govern/index.ts';
import type { Ingestor } from '../ingest/index.ts';
import type { EventLog } from '../log/index.ts';
import type { Metrics } from '../ops/index.ts';
import type { Store } from '../store/index.ts';
import type { Storefront } from '../storefront/index.ts';

/** What the HTTP layer needs; `main.ts` wires it. Routes stay thin over these. */
export interface HttpDeps {
  store: Store;
  log: EventLog;
  registry: SchemaRegistry;
  ingestor: Ingestor;
  keys: KeyAuthenticator;
  metrics: Metrics;
  clock: Clock;
  /** How many times faster than wall time `clock` runs (`PITWALL_CLOCK_SPEED`); `GET /v1/clock` reports it. */
  clockSpeed?: number;
  /** Serve the demo shop at /demo/shop (`PITWALL_DEMO_SHOP`, on with `pitwall start --demo`). */
  demoShop?: boolean;
  /** Fastify's `trustProxy` (`PITWALL_TRUST_PROXY`): decides `req.ip`, which rate limits use. Default false. */
  trustProxy?: boolean | number | string;
  /** `PITWALL_PUBLIC_URL`: the origin the demo shop binds its keys to (else the server's own address). */
  publicUrl?: string | undefined;
  logger: Logger;
  /** The Decide stage when this process runs it (`PITWALL_DECIDE`); read routes work without it. */
  state?: { caughtUp(seq: number): Promise<void> } | undefined;
  /** The executors this process dispatches with (workflow validation checks their params). */
  executors?: ExecutorLookup;
  /** The typed CEL environment workflows are validated in. */
  conditionEnvironment?: ConditionEnvironment;
  /** The configured contact policy (`automation.policy`), for backtests; default: the policy's defaults. */
  policySettings?: ContactPolicySettings;
  /** The config file's `detectors:` section, for the projections a backtest rebuilds. */
  detectors?: Record<string, unknown>;
  /** The decision API and surveys (src/storefront); their routes are absent without it. */
  storefront?: Storefront | undefined;
  /** False while starting or draining; /readyz reports it. */
  isReady: () => boolean;
}
