import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { nothing, type TemplateResult } from 'lit';
import { PaywallServices, type PaywallServicesOptions } from '../../../src/services/paywall-services';
import { BACKEND, FakeBackend, clearStorage, useMockServiceWorker } from './mock-backend';
import { Popups } from './popups';

/** Collects every `type` event that reaches `target` from now on. */
export function listen<T extends Event>(target: EventTarget, type: string): T[] {
  const events: T[] = [];
  target.addEventListener(type, (event) => events.push(event as T));
  return events;
}

/** Replaces console[method] with a recorder of its calls until restore(). */
export function captureConsole(method: 'error' | 'warn') {
  const calls: unknown[][] = [];
  const original = console[method];
  console[method] = (...args: unknown[]) => void calls.push(args);
  return { calls, restore: () => void (console[method] = original) };
}

/** An ISO date `n` hours from now. */
export const hours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();

/**
 * The services of `origin` for one test, with the session in memory rather than the localStorage
 * other test pages share. A removed element of the last test may have made services of its own
 * since, so those are disposed first: the first caller's options win, and these must be the ones.
 * Call it before any element is created, so every element on the page shares these.
 */
export function freshServices(origin: string = BACKEND, options: Omit<PaywallServicesOptions, 'storage'> = {}): PaywallServices {
  PaywallServices.for(origin, { storage: 'memory' }).dispose();
  return PaywallServices.for(origin, { storage: 'memory', ...options });
}

/** Signs the services out and disposes them, at the end of a test. */
export function closeServices(services: PaywallServices): void {
  services.session.clear();
  services.dispose();
}

/** The kit elements that mountInConfig can render. */
type KitTag = 'paywall-button' | 'paywall-content' | 'wallet-balance' | 'wallet-connect';

/**
 * Renders `template` inside `<paywall-config backend=BACKEND>` (with `locale` when given) and
 * returns its first `tag`, once that has rendered.
 */
export async function mountInConfig<K extends KitTag>(tag: K, template: TemplateResult, locale?: string): Promise<HTMLElementTagNameMap[K]> {
  const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND} locale=${locale ?? nothing}>${template}</paywall-config>`);
  const el = wrapper.querySelector(tag)!;
  await el.updateComplete;
  return el;
}

export interface KitOptions {
  /** The one valid token of the file's FakeBackend (each file its own: pages share BroadcastChannels and Web Locks). */
  token: string;
  /** Prices set on the backend before each test, product → cents. */
  prices?: Record<string, number>;
  /** Also count `error` events (errors thrown in listeners and callbacks) as uncaught, not only unhandled rejections. */
  catchErrors?: boolean;
  /** Record same-tab redirects in `navigated` instead of letting the services leave the test page. */
  recordNavigation?: boolean;
}

/** What a test of the elements works with; every field is replaced before each test. */
export interface Kit {
  backend: FakeBackend;
  popups: Popups;
  services: PaywallServices;
  /** Same-tab redirects, with `recordNavigation`. */
  navigated: string[];
  /** Unhandled rejections (and with `catchErrors`, errors) of the current test; asserted empty after it. */
  uncaught: unknown[];
}

/**
 * The per-test world of the component tests, for the `describe` it is called in: msw, a fresh
 * FakeBackend, watched popups, fresh services made before any element, and afterwards the
 * fixtures removed, popups restored, services signed out and disposed, and no uncaught error.
 *
 * Call it before the file's own hooks: its beforeEach then runs first, so the services exist
 * before any element is created, and a file's beforeEach can copy the fields into its variables.
 */
export function useKit(options: KitOptions): Kit {
  useMockServiceWorker();
  const kit = {} as Kit;
  const onUnhandled = (event: PromiseRejectionEvent) => kit.uncaught.push(event.reason);
  const onError = (event: ErrorEvent) => kit.uncaught.push(event.error);

  before(() => {
    window.addEventListener('unhandledrejection', onUnhandled);
    if (options.catchErrors) window.addEventListener('error', onError);
  });
  after(() => {
    window.removeEventListener('unhandledrejection', onUnhandled);
    window.removeEventListener('error', onError);
  });

  beforeEach(() => {
    clearStorage();
    kit.uncaught = [];
    kit.backend = new FakeBackend(options.token);
    for (const [product, price] of Object.entries(options.prices ?? {})) kit.backend.prices.set(product, price);
    kit.popups = new Popups();
    const navigated: string[] = (kit.navigated = []);
    kit.services = freshServices(BACKEND, options.recordNavigation ? { navigate: (url) => navigated.push(url) } : {});
  });
  afterEach(() => {
    fixtureCleanup();
    kit.popups.restore();
    closeServices(kit.services);
    expect(kit.uncaught, 'uncaught errors').to.deep.equal([]);
  });

  return kit;
}
