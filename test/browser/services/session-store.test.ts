import { expect } from '@open-wc/testing';
import { SessionStore } from '../../../src/services/session-store';
import { clearStorage, until } from '../helpers/mock-backend';

/** Its own origin: test files run in parallel pages that share localStorage. */
const ORIGIN = 'https://session-store.test';
const KEY = `paywall-kit:session:${ORIGIN}`;

describe('SessionStore', () => {
  beforeEach(() => clearStorage(ORIGIN));

  it('keeps the token per backend origin in localStorage by default, and sign-out clears it', () => {
    const session = new SessionStore(ORIGIN);
    expect(session.signedIn).to.equal(false);
    session.set('abc');
    expect(localStorage.getItem(KEY)).to.equal('abc');
    expect(new SessionStore(ORIGIN).token).to.equal('abc');
    expect(new SessionStore('https://other.example').token).to.equal(null);
    session.clear();
    expect(localStorage.getItem(KEY)).to.equal(null);
    expect(session.signedIn).to.equal(false);
  });

  it('uses sessionStorage or memory when asked', () => {
    new SessionStore(ORIGIN, 'session').set('in-tab');
    expect(sessionStorage.getItem(KEY)).to.equal('in-tab');
    expect(localStorage.getItem(KEY)).to.equal(null);

    const memory = new SessionStore(ORIGIN, 'memory');
    memory.set('in-memory');
    expect(memory.token).to.equal('in-memory');
    expect(localStorage.getItem(KEY)).to.equal(null);
    expect(sessionStorage.getItem(KEY)).to.equal('in-tab');
  });

  it('remembers that a reader signed in on this device, after sign-out too', () => {
    const session = new SessionStore(ORIGIN);
    expect(session.known).to.equal(false);
    session.set('abc');
    session.clear();
    expect(new SessionStore(ORIGIN).known).to.equal(true);
  });

  it('tells subscribers about every change, once', () => {
    const session = new SessionStore(ORIGIN, 'memory');
    const seen: (string | null)[] = [];
    const stop = session.subscribe((token) => seen.push(token));
    session.set('a');
    session.set('a');
    session.clear();
    stop();
    session.set('b');
    expect(seen).to.deep.equal(['a', null]);
  });

  it('follows sign-in and sign-out in another tab through the storage event', async () => {
    const session = new SessionStore(ORIGIN);
    const seen: (string | null)[] = [];
    session.subscribe((token) => seen.push(token));
    // A same-origin frame shares localStorage with this page and its writes fire `storage` here, as another tab's do.
    const frame = document.createElement('iframe');
    document.body.append(frame);
    try {
      frame.contentWindow!.localStorage.setItem(KEY, 'from-other-tab');
      await until(() => session.token === 'from-other-tab', 2000, 'the other tab sign-in');
      frame.contentWindow!.localStorage.removeItem(KEY);
      await until(() => session.token === null, 2000, 'the other tab sign-out');
      expect(seen).to.deep.equal(['from-other-tab', null]);
    } finally {
      frame.remove();
    }
  });
});
