/** Signals page (being built: see docs/dashboard.md). */
import type { PageProps } from '../app.tsx';
import { Empty, PageHeader } from '../components.tsx';

export function SignalsPage(_props: PageProps) {
  return (
    <>
      <PageHeader title="Signals" />
      <Empty title="This page is not built yet." />
    </>
  );
}
