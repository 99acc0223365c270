import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { alertText, completion, unescape } from './card-flows';
import { MERCHANT, startTestServer, type TestServer } from './harness';

const PASSWORD = 'correct horse battery';
const O = encodeURIComponent(MERCHANT);

interface Page {
  status: number;
  text: string;
  headers: Headers;
  /** name=value of the hosted session cookie, when one was set. */
  cookie: string | undefined;
}

/** The attributes of the <input> with this id. */
const input = (text: string, id: string) => new RegExp(`<input id="${id}"[^>]*>`).exec(text)?.[0] ?? '';

const uniqueEmail = () => `hosted-${randomUUID().slice(0, 8)}@example.com`;

describe('hosted pages', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  async function get(path: string, init: { cookie?: string | undefined; headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.cookie) headers.cookie = init.cookie;
    const response = await fetch(server.url + path, { headers, redirect: 'manual' });
    return toPage(response);
  }

  async function post(path: string, fields: Record<string, string>, init: { cookie?: string | undefined; headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...init.headers };
    if (init.cookie) headers.cookie = init.cookie;
    const response = await fetch(server.url + path, { method: 'POST', headers, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
    return toPage(response);
  }

  async function toPage(response: Response): Promise<Page> {
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('paywall_hosted_session='))?.split(';')[0];
    return { status: response.status, text: await response.text(), headers: response.headers, cookie };
  }

  async function balance(token: string): Promise<number> {
    const me = await server.api('/v1/me', { token });
    assert.equal(me.status, 200);
    return me.body.wallet.balance;
  }

  /** A signed-up reader: the API token (to read the wallet) and the hosted session cookie. */
  async function reader() {
    const email = uniqueEmail();
    const { token } = await server.signUp(email, PASSWORD);
    const signIn = await post(`/hosted/sign-in?origin=${O}`, { email, password: PASSWORD });
    assert.equal(signIn.status, 200);
    assert.ok(signIn.cookie);
    return { email, token, cookie: signIn.cookie };
  }

  async function topUpForm(cookie: string, query = `origin=${O}`) {
    const page = await get(`/hosted/top-up?${query}`, { cookie });
    assert.equal(page.status, 200);
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(key, 'the top-up form carries an idempotency key');
    return { page, key };
  }

  const card = (number: string, extra: Record<string, string> = {}) => ({ amount: '1000', cardNumber: number, expMonth: '12', expYear: '2030', cvc: '123', ...extra });

  describe('rendering', () => {
    test('sign-up renders a labelled, accessible form in English and German', async () => {
      const en = await get(`/hosted/sign-up?origin=${O}`);
      assert.equal(en.status, 200);
      assert.match(en.headers.get('content-type') ?? '', /text\/html/);
      assert.match(en.text, /<html lang="en">/);
      assert.equal(en.text.match(/<h1[ >]/g)?.length, 1);
      assert.match(en.text, /<h1>Create an account<\/h1>/);
      assert.match(en.text, /<label for="email">Email address<\/label>/);
      assert.match(en.text, /<label for="password">Password<\/label>/);
      assert.match(en.text, /<label for="consent">I agree to the terms of use and the privacy policy\.<\/label>/);
      assert.match(input(en.text, 'email'), /autocomplete="email"/);
      assert.match(input(en.text, 'email'), / autofocus/);
      assert.match(input(en.text, 'password'), /autocomplete="new-password"/);
      assert.match(input(en.text, 'consent'), /type="checkbox"[^>]* required/);
      assert.match(en.text, /New accounts start with €5\.00 credit\./);
      assert.match(en.text, /<button type="button"[^>]*data-paywall-cancel>Cancel<\/button>/);
      assert.match(en.text, /<a href="\/hosted\/sign-up\?origin=[^"]*lang=de" lang="de" hreflang="de">Deutsch<\/a>/);
      assert.match(en.text, /<a href="\/hosted\/sign-in\?origin=http%3A%2F%2Fmerchant\.test&amp;lang=en">Sign in<\/a>/);
      // Every field has a label.
      for (const [, id] of en.text.matchAll(/<input id="([^"]+)"/g)) assert.match(en.text, new RegExp(`<label for="${id}">`), `label for ${id}`);

      const de = await get(`/hosted/sign-up?origin=${O}&lang=de`);
      assert.match(de.text, /<html lang="de">/);
      assert.match(de.text, /<h1>Konto erstellen<\/h1>/);
      assert.match(de.text, /<label for="email">E-Mail-Adresse<\/label>/);
      assert.match(de.text, /<label for="password">Passwort<\/label>/);
      assert.match(de.text, /Datenschutzerklärung/);
      assert.match(de.text, /5,00\s€/);
      assert.match(de.text, />Abbrechen<\/button>/);
      assert.match(de.text, /lang="en" hreflang="en">English<\/a>/);
    });

    test('the language follows Accept-Language when no lang is given', async () => {
      const de = await get(`/hosted/sign-in?origin=${O}`, { headers: { 'accept-language': 'de-DE,de;q=0.9,en;q=0.8' } });
      assert.match(de.text, /<html lang="de">/);
      assert.match(de.text, /<h1>Anmelden<\/h1>/);
      const fr = await get(`/hosted/sign-in?origin=${O}`, { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } });
      assert.match(fr.text, /<html lang="en">/);
      const preferEn = await get(`/hosted/sign-in?origin=${O}`, { headers: { 'accept-language': 'de;q=0.5,en;q=0.9' } });
      assert.match(preferEn.text, /<html lang="en">/);
      const forced = await get(`/hosted/sign-in?origin=${O}&lang=en`, { headers: { 'accept-language': 'de' } });
      assert.match(forced.text, /<html lang="en">/);
    });

    test('sign-in uses current-password and links to sign-up with the same parameters', async () => {
      const page = await get(`/hosted/sign-in?origin=${O}&lang=en&return=${encodeURIComponent(`${MERCHANT}/article`)}`);
      assert.match(page.text, /<h1>Sign in<\/h1>/);
      assert.match(input(page.text, 'password'), /autocomplete="current-password"/);
      assert.match(input(page.text, 'email'), /autocomplete="email"/);
      const signUpLink = /<a href="([^"]*)">Create an account<\/a>/.exec(page.text)?.[1];
      assert.ok(signUpLink);
      const url = new URL(unescape(signUpLink), server.url);
      assert.equal(url.pathname, '/hosted/sign-up');
      assert.equal(url.searchParams.get('origin'), MERCHANT);
      assert.equal(url.searchParams.get('return'), `${MERCHANT}/article`);
      assert.equal(url.searchParams.get('lang'), 'en');
    });

    test('every hosted response has the security headers, and pages use no inline script or style', async () => {
      const paths = ['/hosted/sign-up', '/hosted/sign-in', '/hosted/top-up', '/hosted/assets/hosted.css', '/hosted/assets/complete.js', '/hosted/no-such-page', `/hosted/sign-up?origin=${encodeURIComponent('https://evil.example')}`];
      for (const path of paths) {
        const page = await get(path);
        const csp = page.headers.get('content-security-policy') ?? '';
        assert.equal(csp, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", path);
        assert.doesNotMatch(csp, /unsafe-inline/);
        assert.equal(page.headers.get('x-frame-options'), 'DENY', path);
        assert.equal(page.headers.get('referrer-policy'), 'no-referrer', path);
        assert.equal(page.headers.get('cache-control'), 'no-store', path);
        assert.equal(page.headers.get('x-content-type-options'), 'nosniff', path);
        if (page.headers.get('content-type')?.includes('html')) {
          assert.doesNotMatch(page.text, /<script(?![^>]*\ssrc=)[^>]*>/, `${path}: inline script`);
          assert.doesNotMatch(page.text, /<style|\sstyle=|\son[a-z]+=/i, `${path}: inline style or handler`);
          assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//, `${path}: external asset`);
        }
      }
      const css = await get('/hosted/assets/hosted.css');
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type') ?? '', /text\/css/);
      assert.match(css.text, /:focus-visible/);
      assert.doesNotMatch(css.text, /@import|url\(|@font-face/);
      const js = await get('/hosted/assets/complete.js');
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      assert.match(js.text, /postMessage/);
    });

    test('every hosted page names an icon the backend serves, so a popup logs no 404', async () => {
      for (const path of ['/hosted/sign-up', '/hosted/sign-in', '/hosted/top-up', '/hosted/no-such-page']) {
        const page = await get(`${path}?origin=${O}`);
        const href = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(page.text)?.[1];
        assert.ok(href, `${path}: no icon link`);
        const icon = await get(href);
        assert.equal(icon.status, 200, href);
        assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
        assert.match(icon.text, /^<svg /);
      }
      const fallback = await get('/favicon.ico');
      assert.equal(fallback.status, 200);
      assert.equal(fallback.headers.get('content-type'), 'image/svg+xml');
    });

    test('interpolated values are HTML-escaped', async () => {
      const page = await post(`/hosted/sign-in?origin=${O}`, { email: '"><script>alert(1)</script>@x.example', password: 'wrong password here' });
      assert.doesNotMatch(page.text, /<script>alert/);
      assert.match(input(page.text, 'email'), /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;@x\.example"/);
    });
  });

  describe('origin and return URL', () => {
    test('a non-allowlisted origin shows an error page that sends nothing', async () => {
      for (const page of ['sign-up', 'sign-in', 'top-up']) {
        const res = await get(`/hosted/${page}?origin=${encodeURIComponent('https://evil.example')}`);
        assert.equal(res.status, 400, page);
        assert.match(alertText(res.text) ?? '', /https:\/\/evil\.example, which is not allowed to use this service\. Nothing was sent to it\./);
        assert.equal(completion(res.text), null);
        assert.doesNotMatch(res.text, /complete\.js|data-target-origin|<form/);
      }
      const text = await get(`/hosted/sign-in?origin=${encodeURIComponent('Call 555-0100 to unlock')}`);
      assert.equal(text.status, 400);
      assert.match(alertText(text.text) ?? '', /invalid website address/);
      assert.doesNotMatch(text.text, /555-0100/);
      const de = await get(`/hosted/sign-up?origin=${encodeURIComponent('https://evil.example')}&lang=de`);
      assert.match(de.text, /darf den Dienst nicht nutzen/);

      // A form post with that origin creates nothing and hands out no token.
      const email = uniqueEmail();
      const posted = await post(`/hosted/sign-up?origin=${encodeURIComponent('https://evil.example')}`, { email, password: PASSWORD, consent: 'yes' });
      assert.equal(posted.status, 400);
      assert.equal(completion(posted.text), null);
      assert.equal(posted.cookie, undefined);
      assert.equal((await server.api('/v1/sessions', { body: { email, password: PASSWORD } })).status, 401);
    });

    test('a return URL on a non-allowlisted origin is refused', async () => {
      for (const ret of ['https://evil.example/back', 'javascript:alert(1)', '//evil.example/x', '/\\evil.example/x', 'relative', `${MERCHANT}.evil.example/x`]) {
        const res = await get(`/hosted/sign-in?origin=${O}&return=${encodeURIComponent(ret)}`);
        assert.equal(res.status, 400, ret);
        assert.match(alertText(res.text) ?? '', /return address of this link is not allowed/);
        assert.equal(completion(res.text), null);
        assert.doesNotMatch(res.text, /<form/);
      }
      const email = uniqueEmail();
      const posted = await post(`/hosted/sign-up?return=${encodeURIComponent('https://evil.example/back')}`, { email, password: PASSWORD, consent: 'yes' });
      assert.equal(posted.status, 400);
      assert.equal(completion(posted.text), null);
      assert.equal((await server.api('/v1/sessions', { body: { email, password: PASSWORD } })).status, 401);
    });

    test('a return path on the backend itself (its demo pages) resolves to the backend origin', async () => {
      const done = await post(`/hosted/sign-up?return=${encodeURIComponent('/?from=demo')}`, { email: uniqueEmail(), password: PASSWORD, consent: 'yes' });
      assert.equal(done.status, 200);
      assert.equal(completion(done.text)?.returnUrl, `${server.url}/?from=demo`);
    });

    test('an allowlisted return URL gets the result in its fragment, never its query string', async () => {
      const ret = `${MERCHANT}/articles/42?from=paywall`;
      const email = uniqueEmail();
      const done = await post(`/hosted/sign-up?return=${encodeURIComponent(ret)}`, { email, password: PASSWORD, consent: 'yes' });
      assert.equal(done.status, 200);
      const result = completion(done.text);
      assert.ok(result);
      assert.equal(result.returnUrl, ret);
      assert.equal(result.targetOrigin, undefined);
      const link = /<a href="([^"]*)">Back to the website<\/a>/.exec(done.text)?.[1];
      assert.ok(link);
      const url = new URL(unescape(link));
      assert.equal(url.origin + url.pathname + url.search, ret);
      const fragment = new URLSearchParams(url.hash.slice(1));
      assert.equal(fragment.get('paywall-type'), 'signed-up');
      assert.equal(fragment.get('paywall-token'), result.message.token);
    });
  });

  describe('sign-up', () => {
    test('the form creates the account, sets the hosted session and completes with the token for the opener', async () => {
      const email = uniqueEmail();
      const done = await post(`/hosted/sign-up?origin=${O}&lang=en`, { email, password: PASSWORD, consent: 'yes' });
      assert.equal(done.status, 200);
      assert.match(done.text, /Done — you can close this window\./);
      const result = completion(done.text);
      assert.ok(result);
      assert.equal(result.targetOrigin, MERCHANT);
      assert.equal(result.message.source, 'paywall-kit');
      assert.equal(result.message.type, 'signed-up');
      assert.equal(typeof result.message.token, 'string');
      assert.deepEqual(Object.keys(result.message).sort(), ['source', 'token', 'type']);
      assert.match(done.text, /<script src="\/hosted\/assets\/complete\.js" defer><\/script>/);
      assert.ok(!done.text.includes(PASSWORD));

      // The token works, the wallet has the start credit, and the same credentials sign in.
      assert.equal(await balance(result.message.token), 500);
      const signIn = await server.api('/v1/sessions', { body: { email, password: PASSWORD } });
      assert.equal(signIn.status, 200);

      const setCookie = done.headers.getSetCookie().find((c) => c.startsWith('paywall_hosted_session='));
      assert.ok(setCookie);
      assert.match(setCookie, /; HttpOnly/i);
      assert.match(setCookie, /; SameSite=Lax/i);
      assert.match(setCookie, /; Path=\/hosted/i);
      assert.doesNotMatch(setCookie, /; Secure/i);
    });

    test('the hosted session cookie is Secure when the public base URL is https', async () => {
      const previous = server.config.publicBaseUrl;
      server.config.publicBaseUrl = 'https://pay.example';
      try {
        const done = await post(`/hosted/sign-up?origin=${O}`, { email: uniqueEmail(), password: PASSWORD, consent: 'yes' });
        assert.equal(done.status, 200);
        assert.match(done.headers.getSetCookie().find((c) => c.startsWith('paywall_hosted_session=')) ?? '', /; Secure/i);
      } finally {
        server.config.publicBaseUrl = previous;
      }
    });

    test('errors re-render the form with an alert, the field marked, the email kept and the password never echoed', async () => {
      const email = uniqueEmail();
      const noConsent = await post(`/hosted/sign-up?origin=${O}`, { email, password: PASSWORD });
      assert.equal(noConsent.status, 400);
      assert.match(alertText(noConsent.text) ?? '', /agree to the terms of use and the privacy policy/);
      assert.match(input(noConsent.text, 'consent'), /aria-invalid="true"/);
      assert.match(input(noConsent.text, 'consent'), /aria-describedby="form-error"/);
      assert.match(input(noConsent.text, 'email'), new RegExp(`value="${email}"`));
      assert.ok(!noConsent.text.includes(PASSWORD));
      assert.equal(completion(noConsent.text), null);
      assert.equal((await server.api('/v1/sessions', { body: { email, password: PASSWORD } })).status, 401, 'no account without consent');

      const weak = await post(`/hosted/sign-up?origin=${O}`, { email, password: 'password123', consent: 'yes' });
      assert.equal(weak.status, 400);
      assert.equal(alertText(weak.text), 'This password is too common; choose another.');
      assert.match(input(weak.text, 'password'), /aria-invalid="true"/);
      assert.match(input(weak.text, 'password'), /aria-describedby="form-error password-hint"/);
      assert.match(input(weak.text, 'password'), / autofocus/);
      assert.doesNotMatch(input(weak.text, 'password'), /value=/);
      assert.ok(!weak.text.includes('password123'));
      assert.match(input(weak.text, 'consent'), / checked/);

      const invalid = await post(`/hosted/sign-up?origin=${O}`, { email: 'not-an-email', password: PASSWORD, consent: 'yes' });
      assert.equal(alertText(invalid.text), 'Enter a valid email address, like reader@example.com.');
      assert.match(input(invalid.text, 'email'), /aria-invalid="true"/);

      await post(`/hosted/sign-up?origin=${O}`, { email, password: PASSWORD, consent: 'yes' });
      const taken = await post(`/hosted/sign-up?origin=${O}&lang=de`, { email, password: PASSWORD, consent: 'yes' });
      assert.equal(taken.status, 409);
      assert.equal(alertText(taken.text), 'Für diese E-Mail-Adresse gibt es schon ein Konto. Melden Sie sich stattdessen an.');
      assert.match(input(taken.text, 'email'), /aria-invalid="true"/);
      const weakDe = await post(`/hosted/sign-up?origin=${O}&lang=de`, { email: uniqueEmail(), password: 'short', consent: 'yes' });
      assert.equal(alertText(weakDe.text), 'Verwenden Sie mindestens 8 Zeichen.');
    });
  });

  describe('sign-in', () => {
    test('signs in and completes with a working token', async () => {
      const email = uniqueEmail();
      await server.signUp(email, PASSWORD);
      const done = await post(`/hosted/sign-in?origin=${O}`, { email: email.toUpperCase(), password: PASSWORD });
      assert.equal(done.status, 200);
      const result = completion(done.text);
      assert.ok(result);
      assert.equal(result.message.type, 'signed-in');
      assert.equal(result.targetOrigin, MERCHANT);
      assert.equal(await balance(result.message.token), 500);
      assert.ok(done.cookie);
    });

    test("errors re-render the form with the code's message, in English and German", async () => {
      const email = uniqueEmail();
      await server.signUp(email, PASSWORD);
      const wrong = await post(`/hosted/sign-in?origin=${O}`, { email, password: 'wrong password 1' });
      assert.equal(wrong.status, 401);
      assert.equal(alertText(wrong.text), 'The email or password is not correct.');
      assert.match(input(wrong.text, 'password'), /aria-invalid="true"/);
      assert.match(input(wrong.text, 'password'), /aria-describedby="form-error"/);
      assert.match(input(wrong.text, 'email'), new RegExp(`value="${email}"`));
      assert.ok(!wrong.text.includes('wrong password 1'));
      assert.equal(completion(wrong.text), null);
      assert.equal(wrong.cookie, undefined);

      const de = await post(`/hosted/sign-in?origin=${O}&lang=de`, { email, password: 'wrong password 2' });
      assert.equal(alertText(de.text), 'E-Mail-Adresse oder Passwort stimmen nicht.');
      assert.match(de.text, /<html lang="de">/);

      for (let i = 3; i <= 5; i++) await post(`/hosted/sign-in?origin=${O}`, { email, password: `wrong password ${i}` });
      const locked = await post(`/hosted/sign-in?origin=${O}`, { email, password: PASSWORD });
      assert.equal(locked.status, 423);
      assert.equal(alertText(locked.text), 'Too many failed sign-ins. Try again in 15 minutes.');

      const empty = await post(`/hosted/sign-in?origin=${O}`, { email: '', password: '' });
      assert.equal(alertText(empty.text), 'Enter your email address.');
      assert.match(input(empty.text, 'email'), /aria-invalid="true"/);
    });
  });

  describe('top-up', () => {
    test('without a hosted session the top-up page shows sign-in first, then continues to the top-up form', async () => {
      const email = uniqueEmail();
      await server.signUp(email, PASSWORD);
      const query = `origin=${O}&lang=en&amount=750&currency=EUR`;
      const first = await get(`/hosted/top-up?${query}`);
      assert.equal(first.status, 200);
      assert.match(first.text, /<h1>Sign in<\/h1>/);
      assert.match(first.text, /Sign in to top up your wallet\./);
      assert.doesNotMatch(first.text, /cardNumber/);
      const action = unescape(/<form method="post" action="([^"]*)"/.exec(first.text)?.[1] ?? '');
      const actionUrl = new URL(action, server.url);
      assert.equal(actionUrl.pathname, '/hosted/sign-in');
      assert.equal(actionUrl.searchParams.get('next'), 'top-up');
      assert.equal(actionUrl.searchParams.get('amount'), '750');
      assert.equal(actionUrl.searchParams.get('origin'), MERCHANT);
      // The sign-up link keeps the way back to the top-up too.
      const signUpLink = unescape(/<a href="([^"]*)">Create an account<\/a>/.exec(first.text)?.[1] ?? '');
      assert.equal(new URL(signUpLink, server.url).searchParams.get('next'), 'top-up');

      const signedIn = await post(action, { email, password: PASSWORD });
      assert.equal(signedIn.status, 303);
      assert.ok(signedIn.cookie);
      assert.equal(completion(signedIn.text), null);
      const location = new URL(signedIn.headers.get('location') ?? '', server.url);
      assert.equal(location.pathname, '/hosted/top-up');
      assert.equal(location.searchParams.get('amount'), '750');
      assert.equal(location.searchParams.get('origin'), MERCHANT);
      assert.equal(location.searchParams.get('next'), null);

      const form = await get(location.pathname + location.search, { cookie: signedIn.cookie });
      assert.match(form.text, /<h1>Top up your wallet<\/h1>/);
      assert.match(form.text, new RegExp(`Signed in as ${email.replace('.', '\\.')}`));
    });

    test('a post without a session shows sign-in and charges nothing', async () => {
      const page = await post(`/hosted/top-up?origin=${O}`, card('4242424242424242', { idempotencyKey: 'hosted_aaaaaaaaaaaaaaaaaaaa' }));
      assert.equal(page.status, 401);
      assert.match(page.text, /<h1>Sign in<\/h1>/);
      assert.equal(completion(page.text), null);
    });

    test('the form offers amounts, card fields with autocomplete and the sandbox test cards, localized', async () => {
      const { cookie } = await reader();
      const { page } = await topUpForm(cookie, `origin=${O}&lang=en`);
      assert.match(page.text, /<legend>Amount<\/legend>/);
      for (const [amount, label] of [[500, '€5.00'], [1000, '€10.00'], [2000, '€20.00']] as const) {
        assert.match(page.text, new RegExp(`<input id="amount-${amount}" name="amount" type="radio" value="${amount}"`));
        assert.match(page.text, new RegExp(`<label for="amount-${amount}">${label}</label>`));
      }
      assert.match(input(page.text, 'cardNumber'), /autocomplete="cc-number" inputmode="numeric"/);
      assert.match(page.text, /<label for="cardNumber">Card number<\/label>/);
      assert.match(input(page.text, 'expMonth'), /autocomplete="cc-exp-month"/);
      assert.match(input(page.text, 'expYear'), /autocomplete="cc-exp-year"/);
      assert.match(input(page.text, 'cvc'), /autocomplete="cc-csc"/);
      assert.match(page.text, /4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 fails with insufficient funds/);
      assert.match(page.text, /<input type="hidden" name="idempotencyKey" value="[A-Za-z0-9_-]{16,128}">/);

      const missing = await topUpForm(cookie, `origin=${O}&lang=de&amount=750&currency=EUR`);
      assert.match(missing.page.text, /Für diesen Kauf fehlen Ihnen 7,50\s€\./);
      assert.match(input(missing.page.text, 'amount-1000'), / checked/);
      assert.doesNotMatch(input(missing.page.text, 'amount-500'), / checked/);
      assert.match(missing.page.text, /<label for="amount-1000">10,00\s€<\/label>/);
      assert.match(missing.page.text, /<label for="cardNumber">Kartennummer<\/label>/);
      assert.match(missing.page.text, /4000 0000 0000 9995 scheitert an fehlender Deckung/);

      const large = await topUpForm(cookie, `origin=${O}&amount=2550`);
      assert.match(input(large.page.text, 'amount-2550'), / checked/);
      assert.match(large.page.text, /<label for="amount-2550">€25\.50<\/label>/);
    });

    test('4242 4242 4242 4242 tops up the wallet by exactly the amount and completes without a token', async () => {
      const { token, cookie } = await reader();
      const before = await balance(token);
      const { key } = await topUpForm(cookie);
      const done = await post(`/hosted/top-up?origin=${O}`, card('4242 4242 4242 4242', { idempotencyKey: key }), { cookie });
      assert.equal(done.status, 200);
      const result = completion(done.text);
      assert.ok(result);
      assert.deepEqual(result.message, { source: 'paywall-kit', type: 'topped-up' });
      assert.equal(result.targetOrigin, MERCHANT);
      assert.match(done.text, /Your wallet now holds €15\.00\./);
      assert.equal(await balance(token), before + 1000);
      assert.ok(!done.text.includes('4242 4242 4242 4242') && !done.text.includes('4242424242424242'));
    });

    test('declined, insufficient-funds and unknown cards show a clear message and charge nothing', async () => {
      const { token, cookie } = await reader();
      const before = await balance(token);
      const cases = [
        { number: '4000000000000002', en: 'The card was declined by its bank. Use another card.', de: 'Die Karte wurde von ihrer Bank abgelehnt. Verwenden Sie eine andere Karte.' },
        { number: '4000 0000 0000 9995', en: 'The card was declined for insufficient funds. Use another card.', de: 'Die Karte wurde wegen fehlender Deckung abgelehnt. Verwenden Sie eine andere Karte.' },
        { number: '4111111111111111', en: 'The card was declined. In the sandbox, use test card 4242 4242 4242 4242.', de: 'Die Karte wurde abgelehnt. Verwenden Sie in der Sandbox die Testkarte 4242 4242 4242 4242.' },
      ];
      for (const { number, en, de } of cases) {
        for (const [lang, message] of [['en', en], ['de', de]] as const) {
          const { key } = await topUpForm(cookie);
          const page = await post(`/hosted/top-up?origin=${O}&lang=${lang}`, card(number, { idempotencyKey: key, amount: '2000', expMonth: '07' }), { cookie });
          assert.equal(page.status, 402, number);
          assert.equal(alertText(page.text), message);
          assert.equal(completion(page.text), null);
          assert.match(input(page.text, 'cardNumber'), /aria-invalid="true"/);
          assert.match(input(page.text, 'cardNumber'), /aria-describedby="form-error cardNumber-hint"/);
          assert.doesNotMatch(input(page.text, 'cardNumber'), /value=/);
          assert.doesNotMatch(input(page.text, 'cvc'), /value=/);
          assert.ok(!page.text.includes(number.replace(/ /g, '')), 'the card number is not echoed');
          // The amount and the expiry are kept for the next try, with a fresh key.
          assert.match(input(page.text, 'amount-2000'), / checked/);
          assert.match(input(page.text, 'expMonth'), /value="07"/);
          assert.doesNotMatch(page.text, new RegExp(`value="${key}"`));
        }
      }
      assert.equal(await balance(token), before);
    });

    test('form mistakes are caught before the card is charged', async () => {
      const { token, cookie } = await reader();
      const before = await balance(token);
      const cases: Array<[Record<string, string>, string, string]> = [
        [{ cardNumber: '4242' }, 'cardNumber', 'Enter the card number: 12 to 19 digits.'],
        [{ expMonth: '13' }, 'expMonth', 'Enter the expiry month as a number from 1 to 12.'],
        [{ expYear: '3' }, 'expYear', 'Enter the expiry year, like 2030.'],
        [{ cvc: '12a' }, 'cvc', 'Enter the 3 or 4 digit security code from the back of the card.'],
        [{ amount: '123' }, 'amount-500', 'Choose an amount.'],
      ];
      for (const [change, id, message] of cases) {
        const { key } = await topUpForm(cookie);
        const page = await post(`/hosted/top-up?origin=${O}`, card('4242424242424242', { idempotencyKey: key, ...change }), { cookie });
        assert.equal(page.status, 400);
        assert.equal(alertText(page.text), message);
        assert.match(input(page.text, id), /aria-invalid="true"/);
      }
      assert.equal(await balance(token), before);
    });

    test('two-digit expiry years and spaces in the card number are accepted', async () => {
      const { token, cookie } = await reader();
      const before = await balance(token);
      const { key } = await topUpForm(cookie);
      const done = await post(`/hosted/top-up?origin=${O}`, card(' 4242 4242 4242 4242 ', { idempotencyKey: key, amount: '500', expYear: '30' }), { cookie });
      assert.equal(done.status, 200);
      assert.equal(await balance(token), before + 500);
    });

    test('the same hidden idempotency key posted twice charges once', async () => {
      const { token, cookie } = await reader();
      const before = await balance(token);
      const { key } = await topUpForm(cookie);
      const fields = card('4242424242424242', { idempotencyKey: key, amount: '2000' });
      const [first, second] = await Promise.all([post(`/hosted/top-up?origin=${O}`, fields, { cookie }), post(`/hosted/top-up?origin=${O}`, fields, { cookie })]);
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(completion(first.text)?.message.type, 'topped-up');
      assert.equal(completion(second.text)?.message.type, 'topped-up');
      const third = await post(`/hosted/top-up?origin=${O}`, fields, { cookie });
      assert.equal(completion(third.text)?.message.type, 'topped-up');
      assert.equal(await balance(token), before + 2000);
      // A freshly rendered form has a new key, so a second, deliberate top-up charges again.
      const { key: next } = await topUpForm(cookie);
      assert.notEqual(next, key);
      await post(`/hosted/top-up?origin=${O}`, { ...fields, idempotencyKey: next }, { cookie });
      assert.equal(await balance(token), before + 4000);
    });
  });

  describe('cross-origin posts', () => {
    test('a POST from another origin gets 403 and changes nothing', async () => {
      const email = uniqueEmail();
      const evil = await post(`/hosted/sign-up?origin=${O}`, { email, password: PASSWORD, consent: 'yes' }, { headers: { origin: 'https://evil.example' } });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get('x-frame-options'), 'DENY');
      assert.match(alertText(evil.text) ?? '', /sent from another website/);
      assert.equal(completion(evil.text), null);
      assert.equal(evil.cookie, undefined);
      assert.equal((await server.api('/v1/sessions', { body: { email, password: PASSWORD } })).status, 401);

      const fromMerchant = await post(`/hosted/sign-in?origin=${O}`, { email, password: PASSWORD }, { headers: { origin: MERCHANT } });
      assert.equal(fromMerchant.status, 403);

      const { token, cookie } = await reader();
      const before = await balance(token);
      const { key } = await topUpForm(cookie);
      const topUp = await post(`/hosted/top-up?origin=${O}`, card('4242424242424242', { idempotencyKey: key }), { cookie, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
      assert.equal(topUp.status, 403);
      // An opaque origin counts as cross-origin unless the browser says the request is same-origin.
      const opaque = await post(`/hosted/top-up?origin=${O}`, card('4242424242424242', { idempotencyKey: key }), { cookie, headers: { origin: 'null', 'sec-fetch-site': 'cross-site' } });
      assert.equal(opaque.status, 403);
      assert.equal(await balance(token), before);
    });

    test('a POST from the backend’s own origin is accepted', async () => {
      const email = uniqueEmail();
      const own = await post(`/hosted/sign-up?origin=${O}`, { email, password: PASSWORD, consent: 'yes' }, { headers: { origin: server.config.ownOrigin } });
      assert.equal(own.status, 200);
      assert.equal(completion(own.text)?.message.type, 'signed-up');
      // A same-origin form post from a no-referrer page carries `Origin: null` (Fetch standard).
      const noReferrer = await post(`/hosted/sign-in?origin=${O}`, { email, password: PASSWORD }, { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } });
      assert.equal(noReferrer.status, 200);
    });
  });
});
