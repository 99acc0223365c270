import { PaywallWindowEvent } from '../events/window';
import type { Messages } from '../i18n/messages';
import type { ProgressListener, PurchaseStep } from '../services/hosted-journey';
import type { HostedWindow } from '../services/hosted-window';

/** What an element shows of a hosted journey on its way. */
export type HostedPhase =
  /** Its window shows a hosted step (sign-in, top-up, checkout): the reader finishes there. */
  | { kind: 'window-open'; step: PurchaseStep }
  /** The browser blocked the window: the page leaves for the hosted page in this tab. */
  | { kind: 'redirecting' }
  /** The server is asked (the window, if any, is between steps). */
  | { kind: 'working' };

const HOSTED_STEPS: ReadonlySet<PurchaseStep> = new Set(['signing-in', 'topping-up', 'paying']);

/**
 * Follows one hosted journey for whatever started it: each window event becomes a
 * `paywall-window` event from `target` (about `product`), and `onPhase`, if given, hears what to
 * show. The window counts as open from `opened` to `completed` or `closed`, also while the server
 * is asked in between (a card checkout's window opens in the click and shows the card form once
 * the server answered).
 */
export function hostedProgress(target: EventTarget, { product, onPhase }: { product?: string | undefined; onPhase?: (phase: HostedPhase) => void } = {}): ProgressListener {
  let windowShown = false;
  return (step, window) => {
    if (window) target.dispatchEvent(new PaywallWindowEvent(window, product));
    if (window === 'opened') windowShown = true;
    else if (window === 'completed' || window === 'closed') windowShown = false;
    if (!onPhase) return;
    if (window === 'opened' || (!window && windowShown && HOSTED_STEPS.has(step))) onPhase({ kind: 'window-open', step });
    else if (window === 'blocked') onPhase({ kind: 'redirecting' });
    else if (step !== 'granted') onPhase({ kind: 'working' });
  };
}

/** Reports the events of a hosted window an element opened itself as `paywall-window` events from `target`. */
export function reportWindowEvents(win: HostedWindow, target: EventTarget, product?: string): void {
  for (const type of ['opened', 'completed', 'closed', 'blocked'] as const) win.addEventListener(type, () => target.dispatchEvent(new PaywallWindowEvent(type, product)));
}

/** Where to finish, for the status line while a hosted step's window is open. */
export function hostedStepText(t: Messages, step: PurchaseStep): string {
  return step === 'paying' ? t.paying : step === 'topping-up' ? t.toppingUp : t.signingIn;
}
