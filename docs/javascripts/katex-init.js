// Renders the formulas that pymdownx.arithmatex (generic mode) leaves in the
// page as `<span class="arithmatex">\(...\)</span>` and
// `<div class="arithmatex">\[...\]</div>`, with the KaTeX copy vendored in
// docs/javascripts/katex/ (KaTeX 0.19.1, MIT; stylesheet and woff2 fonts in
// docs/stylesheets/katex/, with the woff and ttf fallbacks removed from the
// stylesheet), so the site needs no network. Only arithmatex elements are
// touched: a dollar sign in prose or code stays as written.
(function () {
  "use strict";

  function stripDelimiters(tex) {
    const text = tex.trim();
    const inline = text.startsWith("\\(") && text.endsWith("\\)");
    const display = text.startsWith("\\[") && text.endsWith("\\]");
    return inline || display ? text.slice(2, -2) : text;
  }

  function renderMath(root) {
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      katex.render(stripDelimiters(element.textContent), element, {
        displayMode: element.tagName === "DIV",
        throwOnError: false,
      });
    });
  }

  // Material for MkDocs publishes each page load (instant navigation
  // included) on `document$`; without it, render once the page is parsed.
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () {
      renderMath(document.body);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      renderMath(document.body);
    });
  }
})();
