// Starts ReDoc on /redoc (app/docs_pages.py). A file rather than an inline script, so the
// page's Content-Security-Policy allows scripts from its own origin only; the page passes the
// OpenAPI document's URL on this script's tag.
"use strict";
(function () {
  // ReDoc 2 always shows Redocly's logo under its menu, loaded from Redocly's CDN, with no
  // option to leave it out (Redocly/redoc#2108): the one request to another host these pages
  // would make, refused by the policy with an error in the console. That image is given no
  // source and hidden instead. React sets an image's src twice: as an attribute, then as
  // the property.
  const fromCdn = (value) => String(value).startsWith("https://cdn.redoc.ly/");
  const image = HTMLImageElement.prototype;
  const setAttribute = Element.prototype.setAttribute;
  image.setAttribute = function (name, value) {
    if (name === "src" && fromCdn(value)) this.hidden = true;
    else setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(image, "src");
  Object.defineProperty(image, "src", {
    ...src,
    set(value) {
      if (fromCdn(value)) this.hidden = true;
      else src.set.call(this, value);
    },
  });

  const script = document.currentScript;
  Redoc.init(script.dataset.openapiUrl, {}, document.getElementById("redoc"));
})();
