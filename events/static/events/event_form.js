/* The event form (events/admin/events.py EventAdmin.Media): the date read as the curator
   types it, from the server's own parse, and a box that narrows the list of countries.
   A file, not inline script: the Content-Security-Policy allows scripts from 'self' only. */
"use strict";

(function () {
  const WAIT_MS = 300;

  function readDateAsTyped(input) {
    const shown = document.createElement("div");
    shown.className = "read-date";
    shown.id = input.id + "_read_as";
    shown.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", shown);
    const described = input.getAttribute("aria-describedby"); // the help text, if any
    input.setAttribute("aria-describedby", described ? described + " " + shown.id : shown.id);
    let timer = null;
    let asked = 0;

    async function ask() {
      const text = input.value.trim();
      const number = ++asked;
      if (!text) {
        shown.textContent = "";
        return;
      }
      const url = input.dataset.readDateUrl + "?text=" + encodeURIComponent(text);
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        const answer = await response.json();
        if (number !== asked) return; // a later keystroke has asked since
        shown.classList.toggle("read-date-error", !answer.ok);
        shown.textContent = answer.ok ? answer.read_as : answer.error;
      } catch (error) {
        if (number === asked) shown.textContent = "";
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT_MS);
    });
  }

  function searchCountries(select) {
    const box = document.createElement("input");
    box.type = "search";
    box.className = "country-search";
    box.id = select.id + "_search";
    box.placeholder = select.dataset.searchLabel;
    box.setAttribute("aria-label", select.dataset.searchLabel);
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    const none = document.createElement("span");
    none.className = "country-search-none";
    none.hidden = true;
    none.textContent = select.dataset.searchEmpty;
    select.insertAdjacentElement("beforebegin", box);
    select.insertAdjacentElement("afterend", none);
    const options = Array.from(select.options);

    box.addEventListener("input", function () {
      const wanted = box.value.trim().toLocaleLowerCase();
      let first = null;
      for (const option of options) {
        const name = option.text.toLocaleLowerCase();
        const code = option.value.toLocaleLowerCase();
        const matches = !wanted || (option.value && (name.includes(wanted) || code === wanted));
        option.hidden = !matches;
        if (matches && option.value && first === null) first = option;
      }
      // Pick the first match, so typing a name is enough; the stored value stays the code.
      if (wanted && first !== null && first.value !== select.value) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      none.hidden = !wanted || first !== null;
    });
  }

  function start() {
    document.querySelectorAll("input[data-read-date-url]").forEach(readDateAsTyped);
    document.querySelectorAll("select[data-search-label]").forEach(searchCountries);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
