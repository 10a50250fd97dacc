// Entry of the upload/status bundle (static/portal/upload.js): mounts every upload widget on the page and
// keeps every dataset status row live.
import { watchAll } from "./status.js";
import { mountUploadWidget } from "./upload.js";

function init() {
  for (const root of document.querySelectorAll(".cp-upload")) mountUploadWidget(root);
  watchAll();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
