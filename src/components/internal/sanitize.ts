interface SetHtmlElement extends Element {
  setHTML(html: string): void;
}

/**
 * Turns a fragment from the backend into safe DOM: the platform's HTML Sanitizer where the browser
 * has it, otherwise DOMPurify, loaded only the first time content is inserted.
 */
export async function sanitizedContainer(html: string, trusted: boolean): Promise<HTMLElement> {
  const container = document.createElement('div');
  if (trusted) {
    container.innerHTML = html;
  } else if ('setHTML' in Element.prototype) {
    (container as unknown as SetHtmlElement).setHTML(html);
  } else {
    const { default: DOMPurify } = await import('dompurify');
    container.innerHTML = DOMPurify.sanitize(html);
  }
  return container;
}
