import { expect, fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { http, HttpResponse } from 'msw';
import '../../../src/index';
import type { PaywallButtonElement } from '../../../src/components/paywall-button';
import type { PaywallContentElement } from '../../../src/components/paywall-content';
import { checkPageEarly } from '../../../src/components/internal/early-checks';
import { sanitizerFor } from '../../../src/components/internal/sanitize';
import type { PaywallAccessEvent, PaywallDeniedEvent, PaywallErrorEvent } from '../../../src/events';
import type { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, type FakeBackend, sleep, until, worker } from '../helpers/mock-backend';
import { hours, listen, mountInConfig, useKit } from '../helpers/kit-fixture';

// Own token and product ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'pc-token';
const PRODUCT = 'pc-article';
const OTHER = 'pc-other';
const THIRD = 'pc-third';

/** Whether a reader can see `node`: it, or the text node's range, has a box larger than a visually hidden one. */
function visible(node: Node): boolean {
  if (node instanceof Element) return node.checkVisibility() && node.getBoundingClientRect().height > 1;
  const range = document.createRange();
  range.selectNodeContents(node);
  return range.getBoundingClientRect().height > 1;
}
/** Runs `fn` as in a browser without the platform HTML Sanitizer, where the kit falls back to DOMPurify. */
async function withoutPlatformSanitizer<T>(fn: () => Promise<T>): Promise<T> {
  const descriptor = Object.getOwnPropertyDescriptor(Element.prototype, 'setHTML');
  if (descriptor) delete (Element.prototype as { setHTML?: unknown }).setHTML;
  try {
    return await fn();
  } finally {
    if (descriptor) Object.defineProperty(Element.prototype, 'setHTML', descriptor);
  }
}
const status = (el: PaywallContentElement) => el.shadowRoot!.querySelector('[part~="status"]')!.textContent!.trim();

describe('<paywall-content>', () => {
  const kit = useKit({ token: TOKEN, prices: { [PRODUCT]: 49, [OTHER]: 49 } });
  let backend: FakeBackend, services: PaywallServices;
  beforeEach(() => ({ backend, services } = kit));
  // What the sanitizing tests look for must not outlive a test.
  afterEach(() => delete (window as { pwned?: unknown }).pwned);

  const content = (template = html`<paywall-content product=${PRODUCT}><p slot="teaser">Free teaser.</p><p slot="locked">Buy to read on.</p></paywall-content>`) => mountInConfig('paywall-content', template);
  const teaser = (el: PaywallContentElement) => el.querySelector('[slot="teaser"]')!;
  const locked = (el: PaywallContentElement) => el.querySelector('[slot="locked"]')!;

  describe('safe mode (default)', () => {
    /** Signed in, with access to PRODUCT and OTHER. */
    function grantTwo() {
      backend.grants.set(PRODUCT, hours(1));
      backend.grants.set(OTHER, hours(1));
      services.session.set(TOKEN);
    }

    /** One part per product inside a config, each with a locked message. */
    async function mountParts(products: string[]): Promise<PaywallContentElement[]> {
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}>
        ${products.map((product) => html`<paywall-content product=${product}><p slot="locked">Buy ${product}</p></paywall-content>`)}
      </paywall-config>`);
      return [...wrapper.querySelectorAll('paywall-content')];
    }

    /** PRODUCT and OTHER granted, THIRD not: waits for two parts unlocked with their fragments, and one locked. */
    async function openTwoOfThree() {
      grantTwo();
      const [first, second, third] = await mountParts([PRODUCT, OTHER, THIRD]);
      await until(() => first!.state === 'unlocked' && second!.state === 'unlocked' && third!.state === 'locked', 3000, 'two unlocked, one locked');
      expect(first!.querySelector('[data-paywall-content]')!.textContent).to.equal(`Paid ${PRODUCT}`);
      expect(second!.querySelector('[data-paywall-content]')!.textContent).to.equal(`Paid ${OTHER}`);
      expect(third!.querySelector('[data-paywall-content]')).to.equal(null);
    }

    it('parts granted on load open with the access answer itself: one request in all, fragments only for those granted', async () => {
      await openTwoOfThree();
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access']);
      expect(backend.sent('/v1/access')[0]!.body).to.deep.equal({ products: [PRODUCT, OTHER, THIRD], content: [PRODUCT, OTHER, THIRD] });
    });

    it('the check of parts already in the page leaves before they upgrade, brings their fragments, and their own checks join it', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const page = document.createElement('template');
      page.innerHTML = `<paywall-config backend="${BACKEND}">
        <paywall-content product="${PRODUCT}"><paywall-button slot="locked" product="${PRODUCT}" price="49" currency="EUR"></paywall-button></paywall-content>
        <paywall-content product="${OTHER}" inline><p>Inline text.</p></paywall-content>
      </paywall-config>`;
      const host = document.body.appendChild(document.createElement('div'));
      let upgradedWhenSent: boolean | null = null;
      const fetch = window.fetch;
      window.fetch = (input, init) => {
        upgradedWhenSent ??= host.querySelector('paywall-content') !== null;
        return fetch(input, init);
      };
      try {
        // A template's content does not upgrade: the elements are as the kit finds them on load.
        checkPageEarly(page.content);
        host.append(document.importNode(page.content, true));
        window.fetch = fetch;
        expect(upgradedWhenSent).to.equal(false);
        const [first, second] = [...host.querySelectorAll('paywall-content')];
        await until(() => first!.state === 'unlocked' && second!.state === 'locked', 3000, 'unlocked and locked');
        expect(first!.querySelector('[data-paywall-content]')!.textContent).to.equal(`Paid ${PRODUCT}`);
        expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access']);
        expect(backend.sent('/v1/access')[0]!.body).to.deep.equal({ products: [PRODUCT, OTHER], content: [PRODUCT] });
      } finally {
        window.fetch = fetch;
        host.remove();
      }
    });

    it('from a backend that does not bring fragments along, the parts one answer unlocks are loaded with one POST /v1/content, only for those granted', async () => {
      backend.contentInAccessAnswers = false;
      await openTwoOfThree();
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access', 'POST /v1/content']);
      expect(backend.sent('/v1/content')[0]!.body).to.deep.equal({ products: [PRODUCT, OTHER] });
    });

    it('the fragments an access answer unlocks without bringing them are asked for before the elements render that answer', async () => {
      backend.contentInAccessAnswers = false;
      grantTwo();
      let statesWhenAsked: string[] | null = null;
      let parts: PaywallContentElement[] = [];
      const fetch = window.fetch;
      window.fetch = (input, init) => {
        if (String(input).endsWith('/v1/content')) statesWhenAsked ??= parts.map((part) => part.state);
        return fetch(input, init);
      };
      try {
        parts = await mountParts([PRODUCT, OTHER, THIRD]);
        await until(() => parts.every((part) => part.state === 'unlocked' || part.state === 'locked'), 3000, 'all answered');
      } finally {
        window.fetch = fetch;
      }
      // Asked while the answer was being handed out: the granted parts had not started their load ("loading") yet.
      expect(statesWhenAsked).to.deep.equal(['checking', 'checking', 'locked']);
      expect(parts.map((part) => part.state)).to.deep.equal(['unlocked', 'unlocked', 'locked']);
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access', 'POST /v1/content']);
      expect(backend.sent('/v1/content')[0]!.body).to.deep.equal({ products: [PRODUCT, OTHER] });
    });

    it('a part the batched answer leaves out gets its own answer: access revoked meanwhile is an error, the other still opens', async () => {
      backend.contentInAccessAnswers = false;
      grantTwo();
      // OTHER is revoked between the access check and the content request (then the fake backend answers).
      worker.use(http.post(`${BACKEND}/v1/content`, () => void backend.grants.delete(OTHER)));
      const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
      const [first, second] = await mountParts([PRODUCT, OTHER]);
      await until(() => first!.state === 'unlocked' && second!.state === 'error', 3000, 'one unlocked, one error');
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access', 'POST /v1/content', `GET /v1/content/${OTHER}`]);
      expect(errors.map((e) => [e.code, e.product])).to.deep.equal([['access_required', OTHER]]);
      expect(second!.querySelector('[data-paywall-content]')).to.equal(null);
    });

    it('--paywall-content-reserve keeps the height of the paid part from locked to unlocked', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const el = await content(html`<paywall-content product=${PRODUCT} style="--paywall-content-reserve: 10em"><p slot="teaser">Free teaser.</p><p slot="locked">Buy to read on.</p></paywall-content>`);
      const lockedHeight = el.getBoundingClientRect().height;
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(el.getBoundingClientRect().height).to.equal(lockedHeight);
      expect(lockedHeight).to.be.greaterThan(parseFloat(getComputedStyle(el).fontSize) * 10);
    });

    it('signed out: teaser and locked message shown, nothing paid fetched or in the page', async () => {
      const denied = listen<PaywallDeniedEvent>(document, 'paywall-denied');
      const el = await content();
      await until(() => el.state === 'locked', 3000, 'locked');
      expect(visible(teaser(el)) && visible(locked(el))).to.equal(true);
      expect(denied.map(({ product, reason }) => ({ product, reason }))).to.deep.equal([{ product: PRODUCT, reason: 'no-access' }]);
      expect(backend.requests, 'no request at all while signed out').to.have.length(0);
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
      expect(el.outerHTML).not.to.contain('Paid');
      await expect(el).to.be.accessible();
    });

    it('opens after a sign-in with the answer of the re-check, which brings the fragment along', async () => {
      backend.grants.set(PRODUCT, hours(1));
      const el = await content();
      await until(() => el.state === 'locked', 3000, 'locked');
      expect(backend.requests).to.have.length(0);
      services.session.set(TOKEN);
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(el.querySelector('[data-paywall-content]')!.textContent).to.equal(`Paid ${PRODUCT}`);
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access']);
      expect(backend.sent('/v1/access')[0]!.body).to.deep.equal({ products: [PRODUCT], content: [PRODUCT] });
    });

    it('signed in with access: the fragment comes only with the answer that grants it, and is revealed', async () => {
      const expiresAt = hours(1);
      backend.grants.set(PRODUCT, expiresAt);
      services.session.set(TOKEN);
      const access = listen<PaywallAccessEvent>(document, 'paywall-access');
      const states: string[] = [];
      const watch = new MutationObserver((records) => records.forEach((r) => states.push((r.target as Element).getAttribute('state')!)));
      watch.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['state'] });
      const el = await content();
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      watch.disconnect();
      // The fragment was here with the answer: nothing to load, no "Loading…" announced.
      expect(states.filter((state) => state === 'loading')).to.deep.equal([]);
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access']);
      expect(backend.sent('/v1/access')[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
      const paid = el.querySelector('[data-paywall-content]')!;
      expect(paid.textContent).to.equal(`Paid ${PRODUCT}`);
      expect(visible(paid) && visible(teaser(el))).to.equal(true);
      expect(visible(locked(el)), 'the locked message goes').to.equal(false);
      expect(access.map(({ product, expiresAt, source }) => ({ product, expiresAt, source }))).to.deep.equal([{ product: PRODUCT, expiresAt, source: 'check' }]);
      await expect(el).to.be.accessible();
    });

    it('is checking, with the teaser shown and nothing paid, until the access answer comes', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      worker.use(http.post(`${BACKEND}/v1/access`, async () => {
        await answered;
        return HttpResponse.json({ access: [{ product: PRODUCT, granted: false, expiresAt: null }] });
      }));
      const el = await content();
      await sleep(50);
      expect(el.state).to.equal('checking');
      expect(el.getAttribute('state')).to.equal('checking');
      expect(visible(teaser(el))).to.equal(true);
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
      answer();
      await until(() => el.state === 'locked', 3000, 'locked');
    });

    it('says "Loading…" in its live region while the fragment loads', async () => {
      backend.contentInAccessAnswers = false;
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      worker.use(http.get(`${BACKEND}/v1/content/${PRODUCT}`, async () => {
        await sleep(300);
        return HttpResponse.text('<p>Slow paid text</p>');
      }));
      const el = await content();
      await until(() => el.state === 'loading', 3000, 'loading');
      expect(status(el)).to.equal('Loading…');
      expect(el.shadowRoot!.querySelector('[part~="status"]')!.getAttribute('aria-live')).to.equal('polite');
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(status(el)).to.equal('');
      expect(el.textContent).to.contain('Slow paid text');
    });

    it('unlocks after a purchase with the <paywall-button> in its locked slot, and only then fetches', async () => {
      services.session.set(TOKEN);
      const el = await content(html`<paywall-content product=${PRODUCT}>
        <p slot="teaser">Free teaser.</p>
        <paywall-button slot="locked" product=${PRODUCT} price="49" currency="EUR"></paywall-button>
      </paywall-content>`);
      const button = el.querySelector<PaywallButtonElement>('paywall-button')!;
      await until(() => el.state === 'locked' && button.state === 'idle', 3000, 'locked');
      expect(backend.sent('/v1/access'), 'one check for both elements').to.have.length(1);
      expect(backend.sent(`/v1/content/${PRODUCT}`)).to.have.length(0);
      const access = listen<PaywallAccessEvent>(el, 'paywall-access');
      button.shadowRoot!.querySelector('button')!.click();
      // The button's own event bubbles through the content too: wait for the content's.
      await until(() => access.some((e) => e.target === el), 3000, 'the content unlocked');
      expect(access.find((e) => e.target === el)!.source).to.equal('purchase');
      expect(backend.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/access', 'POST /v1/purchases', `GET /v1/content/${PRODUCT}`]);
      expect(el.state).to.equal('unlocked');
      expect(el.textContent).to.contain(`Paid ${PRODUCT}`);
    });

    it('loads from src (relative to the backend) with the session', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const seen: (string | null)[] = [];
      worker.use(http.get(`${BACKEND}/fragments/pc.html`, ({ request }) => {
        seen.push(request.headers.get('authorization'));
        return HttpResponse.text('<p>From src</p>');
      }));
      const el = await content(html`<paywall-content product=${PRODUCT} src="fragments/pc.html"></paywall-content>`);
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(seen).to.deep.equal([`Bearer ${TOKEN}`]);
      expect(el.textContent).to.contain('From src');
      expect(backend.sent(`/v1/content/${PRODUCT}`)).to.have.length(0);
    });

    it('refuses a src on another origin: an error state, and the session never leaves', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const errors = listen<PaywallErrorEvent>(document, 'paywall-error');
      const el = await content(html`<paywall-content product=${PRODUCT} src="https://elsewhere.example/paid.html"></paywall-content>`);
      await until(() => el.state === 'error', 3000, 'error');
      expect(errors.map(({ code, product }) => ({ code, product }))).to.deep.equal([{ code: 'configuration_error', product: PRODUCT }]);
      expect(visible(el.shadowRoot!.querySelector('[part~="status"]')!)).to.equal(true);
      expect(status(el)).to.equal('Paywall is not configured correctly.');
    });

    it('re-locks and removes the paid content on sign-out', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const el = await content();
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      const denied = oneEvent<PaywallDeniedEvent>(el, 'paywall-denied');
      await services.signOut();
      expect((await denied).reason).to.equal('signed-out');
      expect(el.state).to.equal('locked');
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
      expect(visible(locked(el))).to.equal(true);
    });

    it('re-locks at expiry', async () => {
      backend.grants.set(PRODUCT, new Date(Date.now() + 1500).toISOString());
      services.session.set(TOKEN);
      const el = await content();
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      const denied = await oneEvent<PaywallDeniedEvent>(el, 'paywall-denied');
      expect(denied.reason).to.equal('expired');
      expect(el.textContent).not.to.contain('Paid');
    });

    it('takes its paid content away when removed from the page, and loads it again when put back', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const el = await content();
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      const parent = el.parentElement!;
      el.remove();
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
      parent.append(el);
      await until(() => el.state === 'unlocked' && !!el.querySelector('[data-paywall-content]'), 3000, 'the content back');
      // The first time it came with the access answer; back in the page, the grant is known and the fragment is asked for.
      expect(backend.sent(`/v1/content/${PRODUCT}`)).to.have.length(1);
      // Moved in one go (no update in between) it comes back too.
      parent.prepend(el);
      await until(() => backend.sent(`/v1/content/${PRODUCT}`).length === 2 && el.state === 'unlocked', 3000, 'reloaded after a move');
      expect(el.querySelectorAll('[data-paywall-content]')).to.have.length(1);
    });
  });

  describe('sanitizing', () => {
    const dirty = '<p>Paid text</p><img src="data:," onerror="window.pwned = 1"><script>window.pwned = 2</script><a href="javascript:window.pwned = 3">link</a>';

    function serveDirty() {
      backend.fragments.set(PRODUCT, dirty);
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
    }

    function expectClean(el: PaywallContentElement) {
      const paid = el.querySelector('[data-paywall-content]')!;
      expect(paid.querySelector('p')?.textContent).to.equal('Paid text');
      expect(paid.querySelector('script')).to.equal(null);
      expect(paid.querySelector('[onerror]')).to.equal(null);
      expect(paid.querySelector('a')?.getAttribute('href') ?? '').not.to.contain('javascript:');
    }

    it('sanitizes the fragment before it enters the page', async () => {
      serveDirty();
      const el = await content();
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expectClean(el);
      await sleep(50);
      expect((window as { pwned?: unknown }).pwned).to.equal(undefined);
    });

    it('without the platform sanitizer, loads DOMPurify only when content is first inserted', async () => {
      await withoutPlatformSanitizer(async () => {
        // The resource timing buffer (250 entries) is full of the test runner's modules: start a fresh one.
        performance.clearResourceTimings();
        const loadedPurify = () => performance.getEntriesByType('resource').some((entry) => /dompurify/i.test(entry.name));
        serveDirty();
        services.session.clear();
        const el = await content();
        await until(() => el.state === 'locked', 3000, 'locked');
        expect(loadedPurify(), 'not loaded while locked').to.equal(false);
        services.session.set(TOKEN);
        await until(() => el.state === 'unlocked', 3000, 'unlocked');
        expect(loadedPurify(), 'loaded for the insertion').to.equal(true);
        expectClean(el);
        await sleep(50);
        expect((window as { pwned?: unknown }).pwned).to.equal(undefined);
      });
    });

    describe('one policy for the platform sanitizer and the DOMPurify fallback', () => {
      const platformAvailable = 'setHTML' in Element.prototype;
      const paths = [
        { name: 'the platform sanitizer (setHTML)', fallback: false },
        { name: 'the DOMPurify fallback', fallback: true },
      ];
      /** Skips a test of the platform path in a browser without setHTML; the fallback's tests always run. */
      function needsPath(context: Mocha.Context, fallback: boolean) {
        if (fallback || platformAvailable) return;
        console.warn(`skipped "${context.test?.title}": this browser has no Element.prototype.setHTML`);
        context.skip();
      }

      /** The paid part <paywall-content> shows for `fragment`, through the platform sanitizer or the fallback. */
      async function rendered(fragment: string, fallback: boolean): Promise<Element> {
        backend.fragments.set(PRODUCT, fragment);
        backend.grants.set(PRODUCT, hours(1));
        services.session.set(TOKEN);
        const render = async () => {
          const el = await content();
          await until(() => el.state === 'unlocked', 3000, 'unlocked');
          return el.querySelector('[data-paywall-content]')!;
        };
        return fallback ? withoutPlatformSanitizer(render) : render();
      }

      // Page rules a fragment could reach through `class`, as on a site with utility classes.
      let pageRules: HTMLStyleElement;
      beforeEach(() => {
        pageRules = document.head.appendChild(document.createElement('style'));
        pageRules.textContent = '.pc-overlay { position: fixed; inset: 0; background: rgb(0, 0, 255); }';
        worker.use(http.get(`${BACKEND}/pc-assets/chart.png`, () => new HttpResponse(null, { status: 204 })));
      });
      afterEach(() => pageRules.remove());

      const hostile = [
        '<style>body { background: rgb(255, 0, 0) !important; }</style>',
        '<p style="color: rgb(255, 0, 0)">Paid text</p>',
        '<div style="position: fixed; inset: 0; z-index: 2147483647; background: rgb(255, 0, 0)">Overlay</div>',
        '<p class="pc-overlay">Page-class overlay</p>',
        '<form action="https://elsewhere.example/collect" method="post" name="cookie"><input name="card"><button>Pay</button></form>',
        '<a id="paywall" href="https://elsewhere.example/">Named link</a>',
        '<img name="getElementById" alt="named image">',
        '<svg><style>body { background: rgb(255, 0, 0); }</style></svg>',
      ].join('');
      const legit = [
        '<h2>Chapter two</h2>',
        '<p>Text with <em>emphasis</em>, <strong>strong words</strong> and <a href="https://example.com/more">a link</a>.</p>',
        '<figure><img src="/pc-assets/chart.png" alt="A chart" width="40" height="30"><figcaption>The chart</figcaption></figure>',
        '<ul><li>One</li><li>Two</li></ul><ol start="3"><li>Three</li></ol>',
        '<table><caption>Results</caption><thead><tr><th scope="col">Year</th><th>Sales</th></tr></thead><tbody><tr><td>2024</td><td colspan="1">12</td></tr></tbody></table>',
        '<blockquote><p>A quote, <cite>someone</cite></p></blockquote>',
      ].join('');

      for (const { name, fallback } of paths) {
        it(`through ${name}, a hostile fragment cannot restyle or cover the page, post a form elsewhere or clobber globals`, async function () {
          needsPath(this, fallback);
          const fixedBefore = [...document.querySelectorAll('*')].filter((e) => getComputedStyle(e).position === 'fixed');
          const background = getComputedStyle(document.body).backgroundColor;
          const paid = await rendered(hostile, fallback);
          expect(paid.querySelector('p')?.textContent).to.equal('Paid text');
          expect(paid.querySelector('a')?.getAttribute('href')).to.equal('https://elsewhere.example/');
          expect(paid.querySelector('a')?.textContent).to.equal('Named link');
          expect(paid.querySelectorAll('style, form, input, button, svg'), 'styles, forms').to.have.length(0);
          expect(paid.querySelectorAll('[style], [class], [id], [name]'), 'style, class, id and name attributes').to.have.length(0);
          expect('paywall' in window, 'window.paywall').to.equal(false);
          expect(typeof document.getElementById).to.equal('function');
          expect(typeof document.cookie).to.equal('string');
          expect(getComputedStyle(document.body).backgroundColor, 'page background').to.equal(background);
          expect([...document.querySelectorAll('*')].filter((e) => getComputedStyle(e).position === 'fixed'), 'fixed elements').to.deep.equal(fixedBefore);
        });

        it(`through ${name}, article markup renders as written`, async function () {
          needsPath(this, fallback);
          expect((await rendered(legit, fallback)).innerHTML).to.equal(legit);
        });
      }

      it('both agree at the edges of the policy: comments, unknown elements, URL schemes, broken markup', async function () {
        needsPath(this, false);
        const edges = [
          '<!-- comment --><p>a<!-- inside -->b</p>',
          '<custom-x><p>in a custom element</p></custom-x><font color="red">font</font><center>center</center>',
          '  <p>leading space</p>  \n<p>x</p>\n',
          '<a href="javascript:window.pwned = 1">j</a><a href=" JAVASCRIPT:window.pwned = 2">j2</a><a href="java\tscript:window.pwned = 3">j3</a>',
          '<img src="data:image/png;base64,AAAA" alt="data"><a href="data:text/html,x">data link</a><a href="ftp://x/">ftp</a><a href="tel:123">tel</a>',
          '<a href="mailto:a@example.com">m</a><a href="/relative">r</a><a href="#fragment">f</a><a href="//other.example/x">p</a>',
          '<P TITLE="t" LANG="en" DIR="rtl">upper case</P><p data-x="1" aria-label="l" role="note" onclick="window.pwned = 4">attributes</p>',
          '<p title="--> x">comment breakout</p><p title="</style>">raw-text breakout</p>',
          '<math><mi>x</mi></math><svg><a href="javascript:x"><text>t</text></a></svg><template><p>t</p></template><noscript><p>n</p></noscript>',
          '<iframe src="https://elsewhere.example/"></iframe><object data="x"></object><embed src="x"><video src="x"></video>',
          '<a href="https://elsewhere.example/" target="_blank" rel="opener">t</a><select><option>o</option></select><textarea>t</textarea>',
          '<html><head><title>x</title><base href="https://elsewhere.example/"></head><body style="background: red"><p>document</p></body></html>',
          '<p>unclosed <em>em <strong>strong</p><p>next<table><tr><td>no tbody</td></tr></table><p>a<br>b<hr>c<wbr>d</p>',
          '<p>&lt;div&gt; escaped &amp; <b>b</b></p><pre>&lt;script&gt;</pre><ol reversed start="2"><li value="3">v</li></ol>',
        ];
        const serialize = (fragment: DocumentFragment) => {
          const holder = document.createElement('div');
          holder.append(fragment);
          return holder.innerHTML;
        };
        const [platform, fallback] = [sanitizerFor(Element.prototype), sanitizerFor({})];
        for (const edge of edges) expect(serialize(await fallback(edge)), edge).to.equal(serialize(await platform(edge)));
      });

      it('both give the same DOM for the same hostile and legit fragments', async function () {
        needsPath(this, false);
        for (const fragment of [hostile, legit]) {
          const platform = (await rendered(fragment, false)).innerHTML;
          fixtureCleanup();
          expect((await rendered(fragment, true)).innerHTML).to.equal(platform);
          fixtureCleanup();
        }
      });
    });

    it('inserts the fragment as is when trusted', async () => {
      backend.fragments.set(PRODUCT, '<p>Paid</p><script>window.pwned = 1</script><custom-widget data-x="1"></custom-widget>');
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const el = await content(html`<paywall-content product=${PRODUCT} trusted></paywall-content>`);
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(el.querySelector('[data-paywall-content] script')).not.to.equal(null);
      expect(el.querySelector('[data-paywall-content] custom-widget')).not.to.equal(null);
    });
  });

  describe('inline mode', () => {
    const inline = html`<paywall-content product=${PRODUCT} inline><p slot="teaser">Free teaser.</p><p slot="locked">Buy to read on.</p><p id="full">The full text.</p></paywall-content>`;

    it('hides light-DOM content until access, without fetching anything', async () => {
      const el = await content(inline);
      await until(() => el.state === 'locked', 3000, 'locked');
      expect(visible(el.querySelector('#full')!)).to.equal(false);
      expect(visible(teaser(el)) && visible(locked(el))).to.equal(true);
      await expect(el).to.be.accessible();

      const access = oneEvent<PaywallAccessEvent>(el, 'paywall-access');
      services.session.set(TOKEN);
      await services.purchases.purchase({ product: PRODUCT });
      expect((await access).source).to.equal('purchase');
      expect(el.state).to.equal('unlocked');
      await el.updateComplete;
      expect(visible(el.querySelector('#full')!)).to.equal(true);
      expect(visible(locked(el))).to.equal(false);
      expect(backend.sent(`/v1/content/${PRODUCT}`)).to.have.length(0);
      await expect(el).to.be.accessible();
    });

    it('is revealed at once on load for a reader who still has access', async () => {
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      const el = await content(inline);
      await until(() => el.state === 'unlocked', 3000, 'unlocked');
      expect(visible(el.querySelector('#full')!)).to.equal(true);
    });
  });

  describe('errors', () => {
    it('a malformed access answer ends in an error state and paywall-error, not an exception', async () => {
      services.session.set(TOKEN);
      worker.use(http.post(`${BACKEND}/v1/access`, () => HttpResponse.json({ access: [{ product: PRODUCT, granted: 'yes' }] })));
      const error = oneEvent<PaywallErrorEvent>(document, 'paywall-error');
      const el = await content();
      expect(await error).to.include({ code: 'invalid_response', product: PRODUCT });
      await until(() => el.state === 'error', 3000, 'error');
      expect(status(el)).to.equal('The payment service answered unexpectedly. Try again later.');
      expect(visible(teaser(el))).to.equal(true);
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
      await expect(el).to.be.accessible();
    });

    it('a failed content request ends in an error state', async () => {
      backend.contentInAccessAnswers = false;
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      worker.use(http.get(`${BACKEND}/v1/content/${PRODUCT}`, () => HttpResponse.text('Bad gateway', { status: 502 })));
      const error = oneEvent<PaywallErrorEvent>(document, 'paywall-error');
      const el = await content();
      expect((await error).code).to.equal('invalid_response');
      await until(() => el.state === 'error', 3000, 'error');
      expect(el.querySelector('[data-paywall-content]')).to.equal(null);
    });

    it('lost network while loading: network_error, in German with locale="de"', async () => {
      backend.contentInAccessAnswers = false;
      backend.grants.set(PRODUCT, hours(1));
      services.session.set(TOKEN);
      worker.use(http.get(`${BACKEND}/v1/content/${PRODUCT}`, () => HttpResponse.error()));
      const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND} locale="de"><paywall-content product=${PRODUCT}></paywall-content></paywall-config>`);
      const el = wrapper.querySelector('paywall-content')!;
      await until(() => el.state === 'error', 3000, 'error');
      expect(status(el)).to.equal('Die Verbindung ist fehlgeschlagen. Bitte erneut versuchen.');
    });

    it('a malformed product: a visible configuration error beside the teaser, logged once', async () => {
      const calls: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void calls.push(args);
      try {
        const el = await content(html`<paywall-content product="no spaces allowed"><p slot="teaser">Free teaser.</p></paywall-content>`);
        el.requestUpdate();
        await el.updateComplete;
        expect(el.state).to.equal('error');
        expect(visible(teaser(el))).to.equal(true);
        expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.equal('Paywall is not configured correctly.');
        expect(calls).to.have.length(1);
        expect(backend.requests).to.have.length(0);
      } finally {
        console.error = original;
      }
    });
  });

  it('batches: many elements on one page are checked with one access request', async () => {
    backend.grants.set(PRODUCT, hours(1));
    services.session.set(TOKEN);
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}>
      <paywall-content product=${PRODUCT}></paywall-content>
      <paywall-content product=${OTHER} inline><p>other</p></paywall-content>
      <paywall-button product=${PRODUCT}></paywall-button>
      <paywall-button product=${OTHER}></paywall-button>
      <paywall-content product="pc-third"></paywall-content>
    </paywall-config>`);
    const contents = [...wrapper.querySelectorAll('paywall-content')];
    await until(() => contents.every((el) => el.state === 'unlocked' || el.state === 'locked'), 3000, 'all checked');
    const checks = backend.sent('/v1/access');
    expect(checks).to.have.length(1);
    expect([...checks[0]!.body.products].sort()).to.deep.equal([OTHER, PRODUCT, 'pc-third'].sort());
    expect(contents.map((el) => el.state)).to.deep.equal(['unlocked', 'locked', 'locked']);
  });

  it('batches: elements a framework adds in several sync and microtask steps share one access request, which brings only the granted parts along', async () => {
    const products = Array.from({ length: 30 }, (_, i) => `pc-batch-${i}`);
    for (const product of products.filter((_, i) => i % 3 === 0)) backend.grants.set(product, hours(1));
    services.session.set(TOKEN);
    const wrapper = await fixture<HTMLElement>(html`<paywall-config backend=${BACKEND}></paywall-config>`);
    const add = (batch: string[]) => {
      for (const product of batch) {
        const el = document.createElement('paywall-content');
        el.setAttribute('product', product);
        el.innerHTML = `<paywall-button slot="locked" product="${product}" price="49" currency="EUR"></paywall-button>`;
        wrapper.append(el);
      }
    };
    add(products.slice(0, 10));
    add(products.slice(10, 15));
    await Promise.resolve();
    add(products.slice(15, 20));
    await Promise.resolve().then(() => Promise.resolve());
    queueMicrotask(() => add(products.slice(20, 25)));
    await new Promise<void>((resolve) => queueMicrotask(() => (add(products.slice(25)), resolve())));
    const contents = [...wrapper.querySelectorAll('paywall-content')];
    await until(() => contents.every((el) => el.state === 'unlocked' || el.state === 'locked'), 3000, 'all checked');
    const checks = backend.sent('/v1/access');
    expect(checks).to.have.length(1);
    expect([...checks[0]!.body.products].sort()).to.deep.equal([...products].sort());
    expect([...checks[0]!.body.content].sort()).to.deep.equal([...products].sort());
    const granted = products.filter((_, i) => i % 3 === 0);
    expect(backend.requests.filter((r) => r.path.startsWith('/v1/content')), 'no second round trip').to.have.length(0);
    expect(contents.filter((el) => el.state === 'unlocked').map((el) => el.product)).to.deep.equal(granted);
  });
});
