// Small improvements over the server-rendered pages; everything works without this script.
// - Download buttons open their <dialog> (browsers without the `command` attribute need this).
// - Copy buttons copy a curl command or the citation.
// - Ticking a facet value submits the filter form (the "Apply filters" button does the same without JS).
// - Long facet lists are folded behind "show more".
(() => {
  "use strict";
  document.documentElement.classList.add("js-on");
  const supportsCommand = "command" in HTMLButtonElement.prototype;

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("button[data-dialog]");
    if (opener && !supportsCommand) {
      document.getElementById(opener.dataset.dialog)?.showModal();
      return;
    }
    const copy = event.target.closest("button.copy");
    if (copy) {
      const text = copy.dataset.copy ?? document.getElementById(copy.dataset.copyFrom)?.textContent ?? "";
      navigator.clipboard?.writeText(text.trim()).then(
        () => { copy.textContent = "Copied"; },
        () => { copy.textContent = "Select and copy"; },
      );
    }
  });

  for (const form of document.querySelectorAll("form.facets")) {
    form.addEventListener("change", (event) => {
      if (event.target.matches("input[type=checkbox]")) form.requestSubmit();
    });
    for (const fieldset of form.querySelectorAll("fieldset")) {
      const hidden = fieldset.querySelectorAll("label.more").length;
      if (!hidden) continue;
      const more = document.createElement("button");
      more.type = "button";
      more.className = "show-more";
      more.textContent = `show ${hidden} more`;
      more.addEventListener("click", () => {
        fieldset.classList.toggle("expanded");
        more.textContent = fieldset.classList.contains("expanded") ? "show fewer" : `show ${hidden} more`;
      });
      fieldset.append(more);
    }
  }
})();
