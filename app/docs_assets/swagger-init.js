// Starts Swagger UI on /docs (app/docs_pages.py). A file rather than an inline script, so the
// page's Content-Security-Policy allows scripts from its own origin only; the page passes the
// OpenAPI document's URL on this script's tag.
"use strict";
(function () {
  const url = document.currentScript.dataset.openapiUrl;
  window.ui = SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    // FastAPI's choices for its own /docs.
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge from the public validator: it would be a request to another host.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
