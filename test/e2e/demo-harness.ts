import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before } from 'node:test';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type WebSocketRoute } from 'playwright-core';
import type { ManualClock } from '../../server/clock';
import { resolveConfig, type ServerConfig } from '../../server/config';
import { startDemoSite, type DemoSite } from '../../server/demo-site';
import { startServer, type RunningServer } from '../../server/server';

/**
 * What the end-to-end tests share: the real server (real paywall.config.json, a temporary SQLite
 * file) serving the built kit, the demo pages on a merchant's origin of their own (as merchants
 * deploy: another loopback address, loading the kit and the API from the server), the system
 * Chromium, readers (one fresh browser context, i.e. profile, each) whose requests, errors, CSP
 * violations and `paywall-*` events are recorded, and the locators and hosted-form steps the tests
 * drive them with.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
export const PASSWORD = 'correct horse battery';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/lib/chromium/chromium', args: CHROMIUM_ARGS });
}

export interface DemoServerOptions {
  /** Prefix of the temporary data directory. */
  dataDirPrefix?: string;
  offerSecret?: string;
  /** The server's clock; the system clock when absent. */
  clock?: ManualClock;
  /** `false`: no billing runner, ticks are called by the test. */
  billingRunner?: boolean;
  /** Changes the parsed paywall.config.json before it is resolved (a provider, say). */
  configure?: (file: Record<string, any>) => void;
  /** Environment variables besides the offer secret (provider secrets). */
  env?: Record<string, string>;
  /** The merchant site's pages (demo/ by default; root-relative backend URLs in them point at the server). */
  siteFolder?: string;
  /** Headers the merchant site sends with every page, for the server at `backendUrl`. */
  sitePageHeaders?: (backendUrl: string) => Record<string, string>;
}

export interface DemoServer {
  server: RunningServer;
  /** The demo pages on the merchant's origin (one of the server's merchant origins). */
  site: DemoSite;
  config: ServerConfig;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real server on 127.0.0.1 (a free port) with the real paywall.config.json and a temporary
 * SQLite file, and the demo site on 127.0.0.2 (a free port) in its merchant origins.
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix ?? 'paywall-e2e-'));
  try {
    const path = join(ROOT, 'paywall.config.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    options.configure?.(file);
    const config = resolveConfig(file, {
      baseDir: ROOT,
      source: path,
      dataDir,
      listenUrl: 'http://127.0.0.1:0',
      env: { PAYWALL_OFFER_SECRET: options.offerSecret ?? 'e2e-offer-secret-0123456789abcdef0123456789', ...options.env },
    });
    config.sqlitePath = join(dataDir, 'paywall.sqlite');
    const server = await startServer({ config, port: 0, host: '127.0.0.1', clock: options.clock, billingRunner: options.billingRunner, logger: pino({ level: 'silent' }) });
    // The ports are known only now: the server's own origin, and the merchant's it allows.
    Object.assign(config, { publicBaseUrl: server.url, ownOrigin: server.url });
    const site = await startDemoSite({ backendUrl: server.url, host: '127.0.0.2', port: 0, folder: options.siteFolder, pageHeaders: options.sitePageHeaders?.(server.url) }).catch(async (error) => {
      await server.close();
      throw error;
    });
    config.merchantOrigins.push(site.url);
    return {
      server,
      site,
      config,
      dataDir,
      async close() {
        await site.close();
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface SentRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export interface PaywallEventRecord {
  /** Path of the page it was dispatched on. */
  page: string;
  type: string;
  /** The element that dispatched it (`paywall-button`, `a`, …) or `document`. */
  target: string;
  product?: string;
  state?: string;
  code?: string;
  source?: string;
  status?: string;
}

export interface Reader {
  context: BrowserContext;
  page: Page;
  /** Every request of every page in the context (popups included), in order. */
  requests: SentRequest[];
  /** Uncaught exceptions and console errors of every page in the context. */
  errors: string[];
  /** `securitypolicyviolation` events of every page in the context (`<directive> <blocked URL>`). */
  cspViolations: string[];
  /** `paywall-*` events dispatched on the merchant pages of the context, in order. */
  events: PaywallEventRecord[];
  /** Notification sockets of the merchant pages, routed through the test (with `routeSockets`) so it can cut them. */
  sockets: { open: WebSocketRoute[]; connects: number; refused: number; down: boolean };
}

export interface ReaderOptions {
  /** As a popup blocker does: window.open returns null. */
  blockPopups?: boolean;
}

export interface UseDemoOptions extends DemoServerOptions {
  /** The `paywall-*` event types recorded in `Reader.events`. */
  events?: string[];
  /** Route the notification sockets through the test (`Reader.sockets`, `cutSockets`). */
  routeSockets?: boolean;
}

export interface Demo {
  readonly server: RunningServer;
  /** The demo pages on the merchant's origin. */
  readonly site: DemoSite;
  readonly browser: Browser;
  /** A fresh browser context on `path`, closed after the test. */
  newReader(path: string, options?: ReaderOptions): Promise<Reader>;
}

const DEFAULT_EVENTS = ['paywall-access', 'paywall-denied', 'paywall-error', 'paywall-window', 'paywall-balance'];

/** Registers the hooks of a demo suite (server and browser before, contexts closed after each test, all closed after). */
export function useDemo(options: UseDemoOptions = {}): Demo {
  let demo: DemoServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const eventTypes = options.events ?? DEFAULT_EVENTS;

  before(async () => {
    demo = await startDemoServer(options);
    browser = await launchChromium();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  const demoOf = () => {
    assert.ok(demo, 'the demo server is not started');
    return demo;
  };
  const serverOf = () => demoOf().server;
  const browserOf = () => {
    assert.ok(browser, 'the browser is not launched');
    return browser;
  };

  async function newReader(path: string, readerOptions: ReaderOptions = {}): Promise<Reader> {
    const { server, site } = demoOf();
    const context = await browserOf().newContext();
    contexts.push(context);
    const requests: SentRequest[] = [];
    const errors: string[] = [];
    const cspViolations: string[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== server.url) return;
      let body: unknown = request.postData();
      try {
        body = body ? JSON.parse(body as string) : undefined;
      } catch {
        /* a form post */
      }
      requests.push({ method: request.method(), path: url.pathname, body, at: Date.now() });
    });
    context.on('page', (page) => {
      page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        // The browser's own favicon request (hosted pages declare no icon) is not the kit's business.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`${page.url()}: ${message.text()} (${message.location().url})`);
      });
    });
    // Events are recorded in the test, so they survive reloads and the redirect fallback.
    const events: PaywallEventRecord[] = [];
    await context.exposeBinding('__paywallEvent', ({ page }, event: Omit<PaywallEventRecord, 'page'>) => {
      events.push({ ...event, page: new URL(page.url()).pathname });
    });
    await context.exposeBinding('__paywallCspViolation', (_source, violation: string) => {
      cspViolations.push(violation);
    });
    await context.addInitScript((types: string[]) => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as unknown as { __paywallCspViolation(violation: string): void }).__paywallCspViolation(`${event.effectiveDirective} ${event.blockedURI}`);
      }, true);
      for (const type of types) {
        document.addEventListener(type, (event) => {
          const { product, state, code, source, status } = event as Event & Record<string, string | undefined>;
          const target = (event.composedPath()[0] as Element | undefined)?.localName ?? 'document';
          (window as unknown as { __paywallEvent(record: unknown): void }).__paywallEvent({ type, target, product, state, code, source, status });
        });
      }
    }, eventTypes);
    if (readerOptions.blockPopups) {
      // As a popup blocker does: window.open returns null.
      await context.addInitScript(() => {
        window.open = () => null;
      });
    }
    const sockets: Reader['sockets'] = { open: [], connects: 0, refused: 0, down: false };
    if (options.routeSockets) {
      // The notification socket goes through the test: forwarded to the real server while `down` is
      // false; once the test cuts it, open ones are closed and every reconnect is refused.
      await context.routeWebSocket(/\/v1\/notifications/, (ws) => {
        if (sockets.down) {
          sockets.refused++;
          void ws.close({ code: 1011, reason: 'cut by the test' });
          return;
        }
        sockets.connects++;
        sockets.open.push(ws);
        ws.connectToServer();
      });
    }
    const page = await context.newPage();
    await page.goto(site.url + path);
    return { context, page, requests, errors, cspViolations, events, sockets };
  }

  return {
    get server() {
      return serverOf();
    },
    get site() {
      return demoOf().site;
    },
    get browser() {
      return browserOf();
    },
    newReader,
  };
}

/** Cuts the notification socket of every page of the reader (opened with `routeSockets`), and keeps it down. */
export async function cutSockets(reader: Reader) {
  reader.sockets.down = true;
  await Promise.all(reader.sockets.open.splice(0).map((ws) => ws.close({ code: 1011, reason: 'cut by the test' }).catch(() => undefined)));
}

/** Requests of one kind: `POST /v1/access`, say. */
export const sent = (reader: Reader, method: string, path: string | RegExp) =>
  reader.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));

export const button = (page: Page, product: string): Locator => page.locator(`paywall-button[product="${product}"]`);
export const content = (page: Page, product: string): Locator => page.locator(`paywall-content[product="${product}"]`);
export const balance = (page: Page): Locator => page.locator('wallet-balance').locator('[part="balance"]');

export async function unlocked(page: Page, product: string, text: string | RegExp) {
  await content(page, product).and(page.locator('[state="unlocked"]')).waitFor();
  await content(page, product).getByText(text).first().waitFor();
}

export const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

/** Fills the hosted sign-up form and submits it. */
export async function signUp(popup: Page, email: string) {
  await popup.getByLabel('Email address').fill(email);
  await popup.getByLabel('Password').fill(PASSWORD);
  await popup.getByLabel('I agree to the terms of use and the privacy policy.').check();
  await popup.getByRole('button', { name: 'Create account' }).click();
}

/** Fills the hosted sign-in form and submits it. */
export async function signIn(popup: Page, email: string) {
  await popup.getByLabel('Email address').fill(email);
  await popup.getByLabel('Password').fill(PASSWORD);
  await popup.getByRole('button', { name: 'Sign in' }).click();
}

async function fillCardFields(hosted: Page, number: string) {
  await hosted.getByLabel('Card number').fill(number);
  await hosted.getByLabel('Month (MM)').fill('12');
  await hosted.getByLabel('Year (YYYY)').fill('2030');
  await hosted.getByLabel('Security code (CVC)').fill('123');
}

/** Tops up on the hosted top-up form with the plain test card. */
export async function payWithTestCard(popup: Page) {
  await fillCardFields(popup, '4242 4242 4242 4242');
  await popup.getByRole('button', { name: 'Pay and top up' }).click();
}

/** Pays a hosted card checkout (subscription or purchase) with `number`. */
export async function fillCard(hosted: Page, number: string) {
  await fillCardFields(hosted, number);
  await hosted.getByRole('button', { name: /^(Subscribe for|Pay) / }).click();
}

/** Clicks `target`, waits for the hosted popup it opens, runs `fill` in it and waits until it closed itself. */
export async function throughPopup(page: Page, target: Locator, fill: (popup: Page) => Promise<void>): Promise<void> {
  const [popup] = await Promise.all([page.waitForEvent('popup'), target.click()]);
  const closed = popup.waitForEvent('close');
  await fill(popup);
  await closed;
}

/** A new account, signed up from the page's `<wallet-balance>`; the €5.00 start credit shows. */
export async function signUpOn(page: Page, label: string) {
  await throughPopup(page, page.locator('wallet-balance').getByRole('button', { name: 'Create account' }), (popup) => signUp(popup, newEmail(label)));
  await balance(page).getByText('€5.00').waitFor();
}
