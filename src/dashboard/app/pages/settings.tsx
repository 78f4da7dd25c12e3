/** Settings page (being built: see docs/dashboard.md). */
import type { PageProps } from '../app.tsx';
import { Empty, PageHeader } from '../components.tsx';

export function SettingsPage(_props: PageProps) {
  return (
    <>
      <PageHeader title="Settings" />
      <Empty title="This page is not built yet." />
    </>
  );
}
