/**
 * Exit intent: the shopper is about to leave. Desktop: the pointer leaves the viewport through its
 * top edge. Touch devices: back navigation, the tab going hidden, or a fast scroll up. Nothing
 * fires before `minTimeMs` on the page, and it fires once per arming.
 */

export interface ExitIntentOptions {
  /** Pixels from the top edge that count as "leaving toward the top" (default 20). */
  sensitivityPx: number;
  /** Time on the page before exit intent counts, in ms (default 3000). */
  minTimeMs: number;
  /** Upward scroll speed, px per ms, that counts on touch devices (default 1.5). */
  scrollSpeed: number;
  /** When the page was opened (Date.now()). */
  startedAt: number;
}

/** Arms the listeners; returns a function that removes them. `fire` runs at most once. */
export function armExitIntent(opts: ExitIntentOptions, fire: (reason: string) => void): () => void {
  let done = false;
  const offs: (() => void)[] = [];
  const disarm = () => {
    for (const off of offs.splice(0)) off();
  };
  const trigger = (reason: string) => {
    if (done || Date.now() - opts.startedAt < opts.minTimeMs) return;
    done = true;
    disarm();
    fire(reason);
  };
  const on = <K extends keyof DocumentEventMap>(t: EventTarget, type: K | string, fn: (e: Event) => void, o?: AddEventListenerOptions) => {
    const safe = (e: Event) => {
      try {
        fn(e);
      } catch {
        // never into the host page
      }
    };
    t.addEventListener(type, safe, o);
    offs.push(() => t.removeEventListener(type, safe, o));
  };

  on(document, 'mouseout', (e) => {
    const m = e as MouseEvent;
    if (m.relatedTarget === null && m.clientY <= opts.sensitivityPx) trigger('pointer-top');
  });

  const touch = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  if (touch) {
    on(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') trigger('tab-hidden');
    });
    let lastY = window.scrollY;
    let lastT = performance.now();
    on(
      window,
      'scroll',
      () => {
        const y = window.scrollY;
        const t = performance.now();
        const speed = (lastY - y) / Math.max(1, t - lastT);
        lastY = y;
        lastT = t;
        if (speed >= opts.scrollSpeed) trigger('scroll-up');
      },
      { passive: true },
    );
    // Back navigation: one extra history entry; going back to it is the signal.
    try {
      const marker = { pitwallExitIntent: true };
      history.pushState(marker, '', location.href);
      on(window, 'popstate', () => trigger('back'));
    } catch {
      // history refused (sandboxed frame): the other signals remain
    }
  }
  return disarm;
}
