import { expect } from '@open-wc/testing';
import { BackendError } from '../../../src/services/backend-error';
import { HostedWindow } from '../../../src/services/hosted-window';
import { BACKEND, sleep } from '../helpers/mock-backend';
import { Popups, postFromPopup } from '../helpers/popups';

const signedIn = { source: 'paywall-kit', type: 'signed-in', token: 'hosted-token' };

function events(win: HostedWindow): string[] {
  const seen: string[] = [];
  for (const type of ['opened', 'completed', 'closed', 'blocked'] as const) win.addEventListener(type, () => seen.push(type));
  return seen;
}

async function rejection(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).to.be.instanceOf(BackendError);
  return error as BackendError;
}

describe('HostedWindow', () => {
  let popups: Popups;
  beforeEach(() => {
    popups = new Popups();
  });
  afterEach(() => popups.restore());

  it('opens a centred about:blank placeholder at once and navigates it to the backend page', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    expect(popups.calls).to.equal(1);
    expect(hosted.blocked).to.equal(false);
    expect(popups.last!.location.href).to.equal('about:blank');
    hosted.navigate(`${BACKEND}/hosted/sign-in?lang=en`);
    const { url } = await popups.at('/hosted/sign-in');
    expect(url.searchParams.get('lang')).to.equal('en');
    expect(seen).to.deep.equal(['opened']);
    expect(() => hosted.navigate('https://elsewhere.example/hosted/sign-in')).to.throw(BackendError);
    hosted.close();
  });

  it('accepts the message of its own window on the backend origin, and closes the window', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    hosted.navigate(`${BACKEND}/hosted/sign-in`);
    const { win } = await popups.at('/hosted/sign-in');
    const result = hosted.result();
    postFromPopup(win, signedIn);
    expect(await result).to.deep.equal(signedIn);
    expect(seen).to.deep.equal(['opened', 'completed']);
    await sleep(50);
    expect(win.closed).to.equal(true);
  });

  it('with keepOpen: stays open after a success, shows the next step when navigated, and a hand close of that step is closed', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    hosted.navigate(`${BACKEND}/hosted/sign-in`);
    const { win } = await popups.at('/hosted/sign-in');
    const first = hosted.result({ keepOpen: true });
    postFromPopup(win, signedIn);
    expect(await first).to.deep.equal(signedIn);
    await sleep(400);
    expect(win.closed, 'kept open for the next step').to.equal(false);
    expect(seen).to.deep.equal(['opened', 'completed']);

    hosted.navigate(`${BACKEND}/hosted/top-up`);
    const next = await popups.at('/hosted/top-up');
    expect(next.win).to.equal(win);
    expect(popups.calls).to.equal(1);
    expect(seen).to.deep.equal(['opened', 'completed', 'opened']);
    const second = hosted.result({ keepOpen: true });
    next.win.close();
    const error = await second.then(() => null, (e: unknown) => e as BackendError);
    expect(error?.code, 'a hand close is never success').to.equal('popup_closed');
    expect(seen).to.deep.equal(['opened', 'completed', 'opened', 'closed']);
  });

  it('with keepOpen: a message of the next step counts only from the same window and origin; close() ends it without "closed"', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    hosted.navigate(`${BACKEND}/hosted/sign-in`);
    const { win } = await popups.at('/hosted/sign-in');
    const first = hosted.result({ keepOpen: true });
    postFromPopup(win, signedIn);
    await first;
    hosted.navigate(`${BACKEND}/hosted/top-up`);
    await popups.at('/hosted/top-up');
    let settled = false;
    const second = hosted.result({ keepOpen: true }).finally(() => (settled = true));
    window.postMessage({ source: 'paywall-kit', type: 'topped-up' }, location.origin); // not the window it opened
    await sleep(100);
    expect(settled).to.equal(false);
    postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
    expect(await second).to.deep.equal({ source: 'paywall-kit', type: 'topped-up' });
    hosted.close();
    await sleep(50);
    expect(win.closed).to.equal(true);
    expect(seen).to.deep.equal(['opened', 'completed', 'opened', 'completed']);
  });

  it('ignores messages from another window, another origin, or of another shape', async () => {
    const hosted = HostedWindow.open(BACKEND);
    hosted.navigate(`${BACKEND}/hosted/sign-in`);
    const { win } = await popups.at('/hosted/sign-in');
    let settled = false;
    const result = hosted.result().finally(() => (settled = true));

    // Right origin, wrong window: this page and a frame of it.
    window.postMessage(signedIn, location.origin);
    const frame = document.createElement('iframe');
    document.body.append(frame);
    postFromPopup(frame.contentWindow!, signedIn, location.origin, 'parent');
    frame.remove();
    // Right window, wrong shape.
    postFromPopup(win, { source: 'someone-else', type: 'signed-in', token: 'x' });
    postFromPopup(win, { source: 'paywall-kit', type: 'paid', token: 'x' });
    await sleep(100);
    expect(settled).to.equal(false);

    postFromPopup(win, signedIn);
    expect((await result).token).to.equal('hosted-token');
  });

  it('ignores its own window when that window is not on the backend origin', async () => {
    // The popup is on this page's origin; the backend is elsewhere, so its messages are forged.
    const hosted = HostedWindow.open('https://pay.example');
    let settled = false;
    const result = hosted.result().finally(() => (settled = true));
    postFromPopup(popups.last!, signedIn, '*');
    await sleep(100);
    expect(settled).to.equal(false);
    popups.last!.close();
    expect((await rejection(result)).code).to.equal('popup_closed');
  });

  it('reports a window closed by the reader as closed, never as success', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    hosted.navigate(`${BACKEND}/hosted/top-up`);
    const { win } = await popups.at('/hosted/top-up');
    const result = hosted.result();
    win.close();
    expect((await rejection(result)).code).to.equal('popup_closed');
    expect(seen).to.deep.equal(['opened', 'closed']);
  });

  it('treats the hosted cancel button as closed', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    hosted.navigate(`${BACKEND}/hosted/top-up`);
    const { win } = await popups.at('/hosted/top-up');
    const result = hosted.result();
    postFromPopup(win, { source: 'paywall-kit', type: 'cancelled' });
    expect((await rejection(result)).code).to.equal('popup_closed');
    expect(seen).to.deep.equal(['opened', 'closed']);
  });

  it('reports a blocked popup', async () => {
    popups.blocked = true;
    const hosted = HostedWindow.open(BACKEND);
    const seen = events(hosted);
    expect(hosted.blocked).to.equal(true);
    expect((await rejection(hosted.result())).code).to.equal('popup_blocked');
    expect(seen).to.deep.equal(['blocked']);
  });

  it('closes the window when the caller aborts', async () => {
    const hosted = HostedWindow.open(BACKEND);
    const controller = new AbortController();
    const result = hosted.result(controller.signal);
    controller.abort();
    expect((await rejection(result)).code).to.equal('aborted');
    expect(popups.last!.closed).to.equal(true);
  });
});
