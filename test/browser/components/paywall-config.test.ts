import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { http, HttpResponse, ws } from 'msw';
import '../../../src/index';
import { KIT_VERSION, define } from '../../../src/components/define';
import type { PaywallButtonElement } from '../../../src/components/paywall-button';
import type { PaywallErrorEvent } from '../../../src/events';
import { PaywallServices } from '../../../src/services/paywall-services';
import { clearStorage, until, useMockServiceWorker, worker } from '../helpers/mock-backend';
import { captureConsole, closeServices, freshServices, listen } from '../helpers/kit-fixture';

// Backends of their own (msw answers any origin), so the requests show which backend an element chose.
const CONFIG = 'https://config.pw-config.test';
const OWN = 'https://own.pw-config.test';
const META = 'https://meta.pw-config.test';
const LATER = 'https://later.pw-config.test';
const ORIGINS = [CONFIG, OWN, META, LATER];
const PRODUCT = 'cfg-article';

function withMeta(content: string): () => void {
  const meta = document.createElement('meta');
  meta.name = 'paywall-backend';
  meta.content = content;
  document.head.append(meta);
  return () => meta.remove();
}

const shownText = (el: Element) => {
  const root = el.shadowRoot!;
  return [...root.querySelectorAll<HTMLElement>('button, [part~="error"], [role="alert"], [part~="balance"]')]
    .filter((node) => node.checkVisibility())
    .map((node) => node.textContent!.replace(/\s+/g, ' ').trim())
    .join(' | ');
};

describe('<paywall-config> and finding the backend', () => {
  useMockServiceWorker();
  /** Origin of every access check, in order. */
  let checked: string[];
  let services: PaywallServices[];

  beforeEach(() => {
    checked = [];
    for (const origin of ORIGINS) clearStorage(origin);
    worker.use(
      ...ORIGINS.map((origin) =>
        http.post(`${origin}/v1/access`, async ({ request }) => {
          checked.push(origin);
          const { products } = (await request.json()) as { products: string[] };
          return HttpResponse.json({ access: products.map((product) => ({ product, granted: false, expiresAt: null })) });
        }),
      ),
      ...ORIGINS.map((origin) => ws.link(`${origin.replace('https', 'wss')}/v1/notifications`).addEventListener('connection', () => undefined)),
    );
    // Signed in (in memory) to every backend, so each element's check shows where it went.
    services = ORIGINS.map((origin) => {
      const backend = freshServices(origin);
      backend.session.set('cfg-token');
      return backend;
    });
  });
  afterEach(() => {
    fixtureCleanup();
    services.forEach(closeServices);
  });

  it('provides its backend to the elements inside it', async () => {
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${CONFIG}><div><paywall-button product=${PRODUCT}></paywall-button></div></paywall-config>`);
    const button = wrapper.querySelector('paywall-button')!;
    await until(() => button.state === 'idle', 3000, 'idle');
    expect(checked).to.deep.equal([CONFIG]);
    expect(getComputedStyle(wrapper).display).to.equal('contents');
    await expect(wrapper).to.be.accessible();
  });

  it("an element's own backend attribute wins over <paywall-config> and the meta tag", async () => {
    const removeMeta = withMeta(META);
    try {
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${CONFIG}><paywall-button product=${PRODUCT} backend=${OWN}></paywall-button></paywall-config>`);
      const button = wrapper.querySelector('paywall-button')!;
      await until(() => button.state === 'idle', 3000, 'idle');
      expect(checked).to.deep.equal([OWN]);
    } finally {
      removeMeta();
    }
  });

  it('<paywall-config> wins over the meta tag; outside one, the meta tag is used', async () => {
    const removeMeta = withMeta(META);
    try {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <paywall-config backend=${CONFIG}><paywall-content product=${PRODUCT}></paywall-content></paywall-config>
        <paywall-button product=${PRODUCT}></paywall-button>
      </div>`);
      const button = wrapper.querySelector('paywall-button')!;
      const content = wrapper.querySelector('paywall-content')!;
      await until(() => button.state === 'idle' && content.state === 'locked', 3000, 'checked');
      expect([...checked].sort()).to.deep.equal([CONFIG, META].sort());
    } finally {
      removeMeta();
    }
  });

  it('without any backend: a visible configuration error, one console error per element, and paywall-error', async () => {
    const console = captureConsole('error');
    const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
    try {
      const wrapper = await fixture<HTMLElement>(html`<div>
        <paywall-button product=${PRODUCT}></paywall-button>
        <paywall-content product=${PRODUCT}><p slot="teaser">Teaser stays.</p></paywall-content>
        <wallet-balance></wallet-balance>
      </div>`);
      const elements = [...wrapper.children] as HTMLElement[];
      for (const el of elements) {
        (el as unknown as { requestUpdate(): void }).requestUpdate(); // re-rendering does not log again
        await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
      }
      expect(elements.map(shownText)).to.deep.equal(Array(3).fill('Paywall is not configured: set a backend.'));
      expect(wrapper.querySelector('[slot="teaser"]')!.checkVisibility()).to.equal(true);
      expect(console.calls.map((args) => String(args[0]))).to.deep.equal([
        '<paywall-button>: no backend: add backend="…", a <paywall-config backend="…"> around it, or <meta name="paywall-backend" content="…">',
        '<paywall-content>: no backend: add backend="…", a <paywall-config backend="…"> around it, or <meta name="paywall-backend" content="…">',
        '<wallet-balance>: no backend: add backend="…", a <paywall-config backend="…"> around it, or <meta name="paywall-backend" content="…">',
      ]);
      expect(errors.map((e) => e.code)).to.deep.equal(['configuration_error', 'configuration_error', 'configuration_error']);
      expect(elements.map((el) => el.getAttribute('state'))).to.deep.equal(['error', 'error', null]);
      expect(checked).to.deep.equal([]);
      await expect(wrapper).to.be.accessible();
    } finally {
      console.restore();
    }
  });

  it('recovers when a backend is given later', async () => {
    const console = captureConsole('error');
    try {
      const wrapper = await fixture<HTMLElement>(html`<paywall-config><paywall-button product=${PRODUCT}></paywall-button></paywall-config>`);
      const button = wrapper.querySelector('paywall-button')!;
      await button.updateComplete;
      expect(button.state).to.equal('error');
      wrapper.setAttribute('backend', LATER);
      await until(() => button.state === 'idle', 3000, 'idle');
      expect(shownText(button)).to.equal('Buy access');
      expect(checked).to.deep.equal([LATER]);
      expect(console.calls).to.have.length(1);
    } finally {
      console.restore();
    }
  });

  it('a backend that is not an http(s) URL is a configuration error', async () => {
    const console = captureConsole('error');
    try {
      const button = await fixture<PaywallButtonElement>(html`<paywall-button product=${PRODUCT} backend="javascript:alert(1)"></paywall-button>`);
      expect(button.state).to.equal('error');
      expect(shownText(button)).to.equal('Paywall is not configured: set a backend.');
      expect(console.calls).to.have.length(1);
      expect(String(console.calls[0]![0])).to.contain('invalid backend URL "javascript:alert(1)"');
    } finally {
      console.restore();
    }
  });

  it('elements follow a change of the backend', async () => {
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${CONFIG}><paywall-button product=${PRODUCT}></paywall-button></paywall-config>`);
    const button = wrapper.querySelector('paywall-button')!;
    await until(() => checked.length === 1, 3000, 'the first check');
    wrapper.setAttribute('backend', LATER);
    await until(() => checked.length === 2, 3000, 'the second check');
    expect(checked).to.deep.equal([CONFIG, LATER]);
    await until(() => button.state === 'idle');
  });

  it('switches the language of every element inside it', async () => {
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${CONFIG} locale="de">
      <paywall-button product=${PRODUCT} price="49" currency="EUR"></paywall-button>
      <wallet-balance></wallet-balance>
    </paywall-config>`);
    const button = wrapper.querySelector('paywall-button')!;
    const wallet = wrapper.querySelector('wallet-balance')!;
    services[0]!.session.clear();
    await until(() => button.state === 'idle' && shownText(wallet) === 'Anmelden | Konto anlegen', 3000, 'German');
    expect(shownText(button)).to.equal('Für 0,49 € kaufen');
    wrapper.setAttribute('locale', 'en-GB');
    await until(() => shownText(button) === 'Buy for €0.49' && shownText(wallet) === 'Sign in | Create account', 3000, 'English');
  });

  it('keeps the session where storage says; an unknown storage is logged and local is used', async () => {
    const origin = 'https://storage.pw-config.test';
    const console = captureConsole('error');
    try {
      await fixture(html`<paywall-config backend=${origin} storage="session"><wallet-balance></wallet-balance></paywall-config>`);
      const created = PaywallServices.for(origin);
      expect(created.session.storage).to.equal('session');
      created.dispose();
      fixtureCleanup();

      await fixture(html`<paywall-config backend=${origin} storage="cookies"><wallet-balance></wallet-balance></paywall-config>`);
      const fallback = PaywallServices.for(origin);
      expect(fallback.session.storage).to.equal('local');
      fallback.dispose();
      expect(console.calls.map((args) => String(args[0]))).to.deep.equal(['<paywall-config>: storage="cookies" is not one of local, session, memory; using local']);
    } finally {
      console.restore();
    }
  });

  it('tolerates the kit being registered twice, and warns when the versions differ', () => {
    const warn = captureConsole('warn');
    try {
      const existing = customElements.get('paywall-button');
      expect(() => define('paywall-button', class extends HTMLElement {})).not.to.throw();
      expect(customElements.get('paywall-button') === existing, 'the first registration is kept').to.equal(true);
      expect(warn.calls).to.have.length(0);

      class Older extends HTMLElement {}
      define('pw-config-twice', Older);
      (Older as unknown as Record<symbol, string>)[Symbol.for('paywall-kit.version')] = '0.0.1';
      define('pw-config-twice', class extends HTMLElement {});
      expect(warn.calls.map((args) => String(args[0]))).to.deep.equal([`paywall-kit ${KIT_VERSION}: <pw-config-twice> is already defined by version 0.0.1; keeping that one.`]);
    } finally {
      warn.restore();
    }
  });
});
