// paywall-kit hosted pages: report the result to the page that opened this window, then close
// unless the opener takes the window on to its next step (it navigates it) or closes it itself.
// Loaded from the backend's own origin (no inline script; see the Content-Security-Policy).
(function () {
  'use strict';

  var main = document.querySelector('main');
  if (!main) return;
  var targetOrigin = main.getAttribute('data-target-origin') || '';
  var returnUrl = main.getAttribute('data-return-url') || '';
  /**
   * How long a window that reported waits for its opener: a flow with a next step (top-up or card
   * checkout after sign-in) navigates this same window there, and one that is done closes it.
   * Nothing happening within this time means nobody needs the window any more.
   */
  var HANDOVER_MS = 3000;

  function openerWindow() {
    try {
      return window.opener && !window.opener.closed ? window.opener : null;
    } catch (error) {
      return null;
    }
  }

  function returnTarget() {
    if (!returnUrl) return null;
    try {
      var url = new URL(returnUrl);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
    } catch (error) {
      return null;
    }
  }

  /** The result goes into the fragment, never the query string, so it never reaches a server log. */
  function fragment(message) {
    var params = new URLSearchParams();
    params.set('paywall-type', message.type);
    if (message.token) params.set('paywall-token', message.token);
    if (message.subscription) params.set('paywall-subscription', message.subscription);
    if (message.product) params.set('paywall-product', message.product);
    return params.toString();
  }

  function showStatus() {
    var status = document.getElementById('paywall-status');
    if (!status) return;
    var form = document.querySelector('form');
    if (form && status.hidden) form.hidden = true;
    status.hidden = false;
    status.setAttribute('tabindex', '-1');
    status.focus();
  }

  /**
   * Posts to the opener, shows the "Done" status and leaves the window to the opener for a moment
   * (it navigates it to the next step or closes it), then closes; a cancel closes at once. Without
   * an opener, returns to the merchant page; else shows the status line.
   */
  function deliver(message) {
    var opener = openerWindow();
    if (opener && targetOrigin) {
      opener.postMessage(message, targetOrigin);
      if (message.type === 'cancelled') {
        window.close();
      } else {
        // A navigation by the opener unloads this page and, with it, this timer.
        window.setTimeout(function () {
          window.close();
        }, HANDOVER_MS);
      }
      // Shown meanwhile, and still there when the browser refuses to close a window it did not open by script.
      showStatus();
      return;
    }
    var url = returnTarget();
    if (url) {
      // A card payment comes back as from a bank's 3-D Secure page: ?payment_intent=<id>.
      if (message.paymentIntent) url.searchParams.set('payment_intent', message.paymentIntent);
      url.hash = fragment(message);
      window.location.replace(url.href);
      return;
    }
    showStatus();
  }

  if (main.hasAttribute('data-paywall-complete')) {
    var message = null;
    try {
      message = JSON.parse(main.getAttribute('data-message') || 'null');
    } catch (error) {
      message = null;
    }
    if (message && message.source === 'paywall-kit') deliver(message);
  }

  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.closest('[data-paywall-cancel]')) return;
    event.preventDefault();
    deliver({ source: 'paywall-kit', type: 'cancelled' });
  });
})();
