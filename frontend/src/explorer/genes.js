// Gene search with autocomplete over symbols and Ensembl ids (the whole list is loaded once; a dataset
// has tens of thousands of genes at most, and matching locally answers every keystroke at once).
import { h } from "./dom.js";

const SUGGESTIONS = 12;

export function geneSearch({ symbols, ids, onPick }) {
  const input = h("input", {
    type: "search",
    class: "gene-search",
    placeholder: "Gene symbol or Ensembl id",
    autocomplete: "off",
    "aria-label": "Search genes",
  });
  const list = h("ul", { class: "suggestions", role: "listbox" });
  let active = -1;
  let matches = [];

  const render = () => {
    list.replaceChildren(
      ...matches.map((index, k) =>
        h(
          "li",
          {
            class: k === active ? "suggestion active" : "suggestion",
            role: "option",
            onmousedown: (event) => {
              event.preventDefault();
              pick(index);
            },
          },
          h("span", { class: "symbol" }, symbols[index]),
          h("span", { class: "ensembl" }, ids[index]),
        ),
      ),
    );
  };
  const pick = (index) => {
    input.value = "";
    matches = [];
    active = -1;
    render();
    onPick(symbols[index]);
  };
  input.addEventListener("input", () => {
    matches = search(symbols, ids, input.value);
    active = matches.length ? 0 : -1;
    render();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && matches.length) active = (active + 1) % matches.length;
    else if (event.key === "ArrowUp" && matches.length) active = (active - 1 + matches.length) % matches.length;
    else if (event.key === "Enter" && active >= 0) return pick(matches[active]);
    else if (event.key === "Escape") matches = [];
    else return;
    event.preventDefault();
    render();
  });
  input.addEventListener("blur", () => {
    matches = [];
    render();
  });
  return h("div", { class: "gene-search-box" }, input, list);
}

// Exact matches first, then prefixes, then substrings; symbols and ids alike, case-insensitive.
export function search(symbols, ids, query) {
  const needle = query.trim().toUpperCase();
  if (!needle) return [];
  const exact = [], prefix = [], inner = [];
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i].toUpperCase();
    const e = (ids[i] || "").toUpperCase();
    if (s === needle || e === needle) exact.push(i);
    else if (s.startsWith(needle) || e.startsWith(needle)) prefix.push(i);
    else if (needle.length >= 2 && s.includes(needle)) inner.push(i);
    if (exact.length + prefix.length >= SUGGESTIONS) break;
  }
  prefix.sort((a, b) => symbols[a].length - symbols[b].length);
  return [...exact, ...prefix, ...inner].slice(0, SUGGESTIONS);
}
