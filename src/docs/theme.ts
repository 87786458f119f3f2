// Accessibility fixes on top of Swagger UI, served as files (/docs/static/theme/callcrm.css and .js) so
// the page's CSP needs no inline style or script. test/docs-browser.test.ts runs axe-core on the page.

/**
 * Colours with at least 4.5:1 contrast (WCAG AA) where Swagger UI's defaults fall short: white on the
 * method badges (GET #61affe is 2.3:1, POST #49cc90 2.0:1), the grey "query"/"header" labels, the
 * version badges, the Execute, Cancel, Authorize and Download buttons.
 */
export const THEME_CSS = `
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #0b5cad; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #12703f; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0b6b5b; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8f4a00; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b3261e; }
.swagger-ui .opblock.opblock-head .opblock-summary-method,
.swagger-ui .opblock.opblock-options .opblock-summary-method { background: #5b3a99; }
.swagger-ui .parameter__in, .swagger-ui .parameter__extension { color: #555; }
.swagger-ui .parameter__name.required span, .swagger-ui .parameter__name.required:after { color: #b3261e; }
.swagger-ui .info .title small { background: #50545f; }
.swagger-ui .info .title small.version-stamp { background-color: #2f6a00; }
.swagger-ui .info a, .swagger-ui .info .url, .swagger-ui a.nostyle:focus { color: #0b5cad; }
.swagger-ui .btn.execute { background-color: #0b5cad; border-color: #0b5cad; }
.swagger-ui .btn.cancel, .swagger-ui .try-out__btn.cancel { border-color: #b3261e; color: #b3261e; }
.swagger-ui .download-contents { background: #50545f; }
.swagger-ui .btn.authorize { border-color: #12703f; color: #12703f; }
.swagger-ui .btn.authorize svg { fill: #12703f; }
`;

/**
 * Names and focus for controls Swagger UI renders without them (axe-core: button-name, select-name,
 * scrollable-region-focusable, nested-interactive). Swagger UI re-renders as the reader expands
 * operations, so every change of the page is fixed up again.
 *
 * nested-interactive: each operation's summary is a <button> holding a link to the operation's own
 * deep link (swagger-api/swagger-ui#9570, open). The link's href is dropped: clicking the button still
 * sets the deep link in the address bar (deepLinking), and a link inside a button cannot be reached
 * by keyboard anyway.
 */
export const THEME_JS = `(function () {
  function fix(root) {
    root.querySelectorAll('.copy-to-clipboard > button:not([aria-label])').forEach(function (b) { b.setAttribute('aria-label', 'Copy to clipboard'); });
    root.querySelectorAll('select:not([aria-label])').forEach(function (s) {
      var label = s.classList.contains('examples-select-element') ? 'Example' : s.classList.contains('content-type') ? 'Content type' : 'Choose';
      if (!s.labels || s.labels.length === 0) s.setAttribute('aria-label', label);
    });
    root.querySelectorAll('pre.microlight:not([tabindex]), pre.curl:not([tabindex])').forEach(function (p) { p.setAttribute('tabindex', '0'); });
    root.querySelectorAll('button a[href]').forEach(function (a) { a.removeAttribute('href'); });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fix(document); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
`;
