/**
 * Signals: what the IoT side says right now — shipments and lanes, stock and days of cover,
 * devices and vehicles, data quality per source, open conditions (acknowledge) and the quarantine
 * (replay). One tab per sub-path (`/signals/<tab>`), so a tab can be linked; each tab reloads
 * when events of its types arrive on the live feed.
 */
import type { PageProps } from '../app.tsx';
import { PageHeader } from '../components.tsx';
import { Link } from '../router.tsx';
import { ConditionsTab } from './signals-conditions.tsx';
import { DevicesTab } from './signals-devices.tsx';
import { QualityTab } from './signals-quality.tsx';
import { QuarantineTab } from './signals-quarantine.tsx';
import { ShipmentsTab } from './signals-shipments.tsx';
import { StockTab } from './signals-stock.tsx';
import './signals.css';

export interface TabProps {
  /** Sub-paths after the tab, e.g. a shipment id. */
  rest: string[];
}

const TABS = [
  { id: 'shipments', label: 'Shipments & lanes', component: ShipmentsTab },
  { id: 'stock', label: 'Stock', component: StockTab },
  { id: 'devices', label: 'Devices & vehicles', component: DevicesTab },
  { id: 'quality', label: 'Data quality', component: QualityTab },
  { id: 'conditions', label: 'Conditions', component: ConditionsTab },
  { id: 'quarantine', label: 'Quarantine', component: QuarantineTab },
] as const;

export function SignalsPage(props: PageProps) {
  const [tabId, ...rest] = props.route.rest;
  const tab = TABS.find((t) => t.id === tabId) ?? TABS[0];
  const Tab = tab.component;
  return (
    <>
      <PageHeader title="Signals" subtitle="Shipments, stock, devices and data quality as Pitwall's Decide stage sees them now" />
      <nav class="sig-tabs" aria-label="Signals sections">
        {TABS.map((t) => (
          <Link
            key={t.id}
            href={`/signals/${t.id}`}
            class={t.id === tab.id ? 'on' : ''}
            aria-current={t.id === tab.id ? 'page' : undefined}
            data-testid={`tab-${t.id}`}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      <Tab key={tab.id} rest={tabId === tab.id ? rest : []} />
    </>
  );
}
