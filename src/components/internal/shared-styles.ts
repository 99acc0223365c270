import { css } from 'lit';

/** Design tokens every element reads; pages theme the kit by setting these `--paywall-*` properties. */
export const tokens = css`
  :host {
    --_accent: var(--paywall-accent, #1d4ed8);
    --_on-accent: var(--paywall-on-accent, #ffffff);
    --_text: var(--paywall-text, inherit);
    --_muted: var(--paywall-muted, #5b6270);
    --_error: var(--paywall-error, #b42318);
    --_radius: var(--paywall-radius, 0.375rem);
    --_font: var(--paywall-font, inherit);
    font-family: var(--_font);
    color: var(--_text);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_accent: var(--paywall-accent, #8ab4ff);
      --_on-accent: var(--paywall-on-accent, #0b1220);
      --_muted: var(--paywall-muted, #a8b0bd);
      --_error: var(--paywall-error, #ff8a80);
    }
  }
  [hidden] {
    display: none !important;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .error {
    color: var(--_error);
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: var(--_radius);
    padding: 0.5em 1em;
    min-height: 2.5em;
    border: 1px solid var(--_accent);
    background: var(--_accent);
    color: var(--_on-accent);
  }
  button.secondary {
    background: transparent;
    color: var(--_accent);
  }
  button:focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
  button:disabled {
    cursor: default;
    opacity: 0.7;
  }
  @media (forced-colors: active) {
    button {
      border: 1px solid ButtonText;
    }
    button:focus-visible {
      outline-color: Highlight;
    }
  }
`;
