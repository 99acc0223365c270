import { expect } from '@open-wc/testing';
import { http } from 'msw';
import { BackendClient } from '../../../src/services/backend-client';
import type { BackendError } from '../../../src/services/backend-error';
import { ContentLoader } from '../../../src/services/content-loader';
import { SessionStore } from '../../../src/services/session-store';
import { BACKEND, FakeBackend, clearStorage, sleep, useMockServiceWorker, worker } from '../helpers/mock-backend';

const TOKEN = 'content-loader-token';
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const ids = (n: number, prefix = 'cl') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('ContentLoader', () => {
  useMockServiceWorker();
  let backend: FakeBackend;
  let loader: ContentLoader;
  const requests = () => backend.requests.map((r) => `${r.method} ${r.path}`);

  beforeEach(() => {
    clearStorage();
    backend = new FakeBackend(TOKEN);
    const session = new SessionStore(BACKEND, 'memory');
    session.set(TOKEN);
    loader = new ContentLoader(new BackendClient({ baseUrl: BACKEND, session }));
  });

  it('one product alone is one GET /v1/content/:product', async () => {
    backend.grants.set('cl-0', inMinutes(10));
    expect(await loader.load('cl-0')).to.equal('<p>Paid cl-0</p>');
    expect(requests()).to.deep.equal(['GET /v1/content/cl-0']);
  });

  it('the loads of one task go in one POST per 200 products, each answered with its own fragment', async () => {
    const products = ids(250);
    for (const product of products) backend.grants.set(product, inMinutes(10));
    const fragments = await Promise.all(products.map((product) => loader.load(product)));
    expect(fragments).to.deep.equal(products.map((product) => `<p>Paid ${product}</p>`));
    expect(requests()).to.deep.equal(['POST /v1/content', 'POST /v1/content']);
    expect(backend.sent('/v1/content').map((r) => r.body.products.length)).to.deep.equal([200, 50]);
  });

  it('loads that come while a request is on its way wait for it, then go together', async () => {
    for (const product of ids(5)) backend.grants.set(product, inMinutes(10));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    worker.use(http.get(`${BACKEND}/v1/content/cl-0`, async () => void (await held)));
    const first = loader.load('cl-0');
    await sleep(20);
    const later = ['cl-1', 'cl-2', 'cl-3', 'cl-4'].map((product, i) => sleep(i * 5).then(() => loader.load(product)));
    await sleep(50);
    expect(requests(), 'nothing more sent while the first is on its way').to.deep.equal([]);
    release();
    expect(await first).to.equal('<p>Paid cl-0</p>');
    expect(await Promise.all(later)).to.deep.equal(['cl-1', 'cl-2', 'cl-3', 'cl-4'].map((p) => `<p>Paid ${p}</p>`));
    expect(requests()).to.deep.equal(['GET /v1/content/cl-0', 'POST /v1/content']);
    expect(backend.sent('/v1/content')[0]!.body.products).to.deep.equal(['cl-1', 'cl-2', 'cl-3', 'cl-4']);
  });

  it('nothing readable in a batch: every load rejects with access_required', async () => {
    const failures = await Promise.all(ids(2).map((product) => loader.load(product).then(() => null, (error: BackendError) => error.code)));
    expect(failures).to.deep.equal(['access_required', 'access_required']);
    expect(requests()).to.deep.equal(['POST /v1/content']);
  });

  it('a load given up before the batch leaves rejects as aborted and is not asked for alone', async () => {
    for (const product of ids(2)) backend.grants.set(product, inMinutes(10));
    const controller = new AbortController();
    const given = loader.load('cl-0', controller.signal).then(() => null, (error: BackendError) => error.code);
    const kept = loader.load('cl-1');
    controller.abort();
    expect(await given).to.equal('aborted');
    expect(await kept).to.equal('<p>Paid cl-1</p>');
  });

  it('the request stops once every load of it is given up', async () => {
    backend.grants.set('cl-0', inMinutes(10));
    const session = new SessionStore(BACKEND, 'memory');
    session.set(TOKEN);
    const signals: Array<AbortSignal | null | undefined> = [];
    const watched = new ContentLoader(new BackendClient({ baseUrl: BACKEND, session, fetch: (input, init) => (signals.push(init?.signal), globalThis.fetch(input, init)) }));
    const controllers = [new AbortController(), new AbortController()];
    const loads = controllers.map((c) => watched.load('cl-0', c.signal).then(() => null, (error: BackendError) => error.code));
    await sleep(0);
    expect(signals).to.have.length(1);
    controllers[0]!.abort();
    expect(signals[0]!.aborted, 'one load still waits').to.equal(false);
    controllers[1]!.abort();
    expect(signals[0]!.aborted).to.equal(true);
    expect(await Promise.all(loads)).to.deep.equal(['aborted', 'aborted']);
  });
});
