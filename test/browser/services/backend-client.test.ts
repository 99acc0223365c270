import { expect } from '@open-wc/testing';
import { delay, http, HttpResponse } from 'msw';
import { BackendClient } from '../../../src/services/backend-client';
import { BackendError } from '../../../src/services/backend-error';
import { SessionStore } from '../../../src/services/session-store';
import { BACKEND, FakeBackend, clearStorage, useMockServiceWorker, worker } from '../helpers/mock-backend';

async function failure(promise: Promise<unknown>): Promise<BackendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(BackendError);
    return error as BackendError;
  }
  throw new Error('expected a BackendError');
}

describe('BackendClient', () => {
  useMockServiceWorker();
  let session: SessionStore;
  let client: BackendClient;

  beforeEach(() => {
    clearStorage();
    session = new SessionStore(BACKEND, 'memory');
    client = new BackendClient({ baseUrl: `${BACKEND}/`, session, locale: () => 'de-AT' });
  });

  it('sends the bearer token and returns the parsed answer', async () => {
    const backend = new FakeBackend('client-token');
    backend.grants.set('article-42', new Date(Date.now() + 60_000).toISOString());
    session.set('client-token');
    const { access } = await client.access(['article-42', 'article-43']);
    expect(access.map((a) => [a.product, a.granted])).to.deep.equal([['article-42', true], ['article-43', false]]);
    expect(backend.requests[0]!.authorization).to.equal('Bearer client-token');
  });

  it('turns a 4xx into a typed error with the server code and its extra fields', async () => {
    new FakeBackend('client-token');
    session.set('client-token');
    const error = await failure(client.purchase({ product: 'expensive', idempotencyKey: 'key-0123456789abcdef' }));
    expect(error.code).to.equal('insufficient_funds');
    expect(error.status).to.equal(402);
    expect(error.missing).to.equal(400);
    expect(error.topUpUrl).to.match(/\/hosted\/top-up\?amount=400/);

    const anonymous = new BackendClient({ baseUrl: BACKEND, session: new SessionStore(BACKEND, 'memory') });
    const signIn = await failure(anonymous.purchase({ product: 'article-42', idempotencyKey: 'key-0123456789abcdef' }));
    expect([signIn.code, signIn.status, signIn.signInUrl]).to.deep.equal(['sign_in_required', 401, `${BACKEND}/hosted/sign-in`]);
  });

  it('reports network loss as network_error', async () => {
    worker.use(http.get(`${BACKEND}/v1/catalog`, () => HttpResponse.error()));
    const error = await failure(client.catalog());
    expect([error.code, error.status]).to.deep.equal(['network_error', 0]);
  });

  it('reports malformed JSON and a body that breaks the schema as invalid_response', async () => {
    worker.use(http.get(`${BACKEND}/v1/catalog`, () => new HttpResponse('{"products": [', { headers: { 'Content-Type': 'application/json' } })));
    expect((await failure(client.catalog())).code).to.equal('invalid_response');

    worker.use(http.get(`${BACKEND}/v1/catalog`, () => HttpResponse.json({ products: [{ id: 'a', title: 'A', price: 0.49, currency: 'EUR', validity: 60 }], plans: [] })));
    expect((await failure(client.catalog())).code).to.equal('invalid_response');

    worker.use(http.get(`${BACKEND}/v1/catalog`, () => new HttpResponse('<h1>Bad gateway</h1>', { status: 502 })));
    const gateway = await failure(client.catalog());
    expect([gateway.code, gateway.status]).to.deep.equal(['invalid_response', 502]);
  });

  it('reports an aborted request as aborted', async () => {
    worker.use(http.get(`${BACKEND}/v1/catalog`, async () => {
      await delay('infinite');
      return HttpResponse.json({});
    }));
    const controller = new AbortController();
    const pending = client.catalog(controller.signal);
    setTimeout(() => controller.abort(), 20);
    expect((await failure(pending)).code).to.equal('aborted');
    expect((await failure(client.catalog(controller.signal))).code).to.equal('aborted');
  });

  it('clears the session when the server rejects its token', async () => {
    new FakeBackend('client-token');
    session.set('revoked-token');
    const changes: (string | null)[] = [];
    session.subscribe((token) => changes.push(token));
    const error = await failure(client.me());
    expect([error.code, error.status]).to.deep.equal(['unauthenticated', 401]);
    expect(session.signedIn).to.equal(false);
    expect(changes).to.deep.equal([null]);
  });

  it('signs out on the server and locally', async () => {
    const backend = new FakeBackend('client-token');
    session.set('client-token');
    await client.signOut();
    expect(session.token).to.equal(null);
    expect(backend.sent('/v1/sessions/current', 'DELETE')[0]!.authorization).to.equal('Bearer client-token');
  });

  it('loads paid content as text, and refuses to send the token to another origin', async () => {
    const backend = new FakeBackend('client-token');
    backend.grants.set('article-42', new Date(Date.now() + 60_000).toISOString());
    session.set('client-token');
    expect(await client.content('article-42')).to.equal('<p>Paid article-42</p>');
    expect((await failure(client.content('article-43'))).code).to.equal('access_required');
    expect((await failure(client.fragment('https://elsewhere.example/paid.html'))).code).to.equal('configuration_error');
  });

  it('builds hosted page URLs with the page origin and language, and keeps server links on the backend', () => {
    const url = new URL(client.hostedUrl('top-up', { amount: '700' }));
    expect(url.origin + url.pathname).to.equal(`${BACKEND}/hosted/top-up`);
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({ origin: location.origin, lang: 'de', amount: '700' });
    expect(new URL(client.withHostedParams('https://evil.example/hosted/sign-in')).origin).to.equal(BACKEND);
    expect(client.baseUrl).to.equal(BACKEND);
    expect(() => new BackendClient({ baseUrl: 'javascript:alert(1)', session })).to.throw(BackendError);
  });
});
