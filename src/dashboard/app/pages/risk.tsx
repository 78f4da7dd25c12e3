/** Risk page (being built: see docs/dashboard.md). */
import type { PageProps } from '../app.tsx';
import { Empty, PageHeader } from '../components.tsx';

export function RiskPage(_props: PageProps) {
  return (
    <>
      <PageHeader title="Risk" />
      <Empty title="This page is not built yet." />
    </>
  );
}
